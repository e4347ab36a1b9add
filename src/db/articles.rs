use super::contributors::{CreditRow, KeptCredit};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::checked_text::CheckedText;
use super::native::on_engine;
use super::schema::{article_placements, article_slug_history, articles};
use super::AnyConnection;
use crate::domain::ArticleStatus;
use crate::error::AppError;

/// An article as stored. `body` holds the body's blocks as JSON when
/// `body_format` is `blocks` (see [`crate::body`]); rows written before
/// blocks may still say `paragraphs` or `html`, and are read as blocks.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleRow {
    pub id: i32,
    pub slug: String,
    #[diesel(deserialize_as = CheckedText)]
    pub title: String,
    pub original_title: Option<String>,
    #[diesel(deserialize_as = CheckedText)]
    pub summary: String,
    #[diesel(deserialize_as = CheckedText)]
    pub body: String,
    pub body_format: String,
    pub script: String,
    pub section_id: i32,
    pub source_id: Option<i32>,
    pub owner_id: Option<i32>,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i32,
    /// Set while a legal hold is active: when the oldest active hold was placed.
    pub held_since: Option<NaiveDateTime>,
    /// The slug an unpublished article asked for while `slug` is a stand-in
    /// (see [`slug_holders`]).
    pub requested_slug: Option<String>,
    /// Every credit, in order, as JSON `[{"name": …, "role": …}]`: the byline
    /// comes with the row (see [`contributors::set_credits`](super::contributors::set_credits)).
    #[diesel(deserialize_as = CheckedText)]
    pub credits: String,
    /// The picture shown with the article (a media id).
    pub lead_media_id: Option<String>,
    /// Editors' search-engine title (see [`crate::read::seo`]); `None`: the title.
    pub seo_title: Option<String>,
    /// Editors' search-engine description; `None`: the summary.
    pub seo_description: Option<String>,
}

impl ArticleRow {
    /// The body's blocks.
    pub fn blocks(&self) -> crate::body::Body {
        crate::body::Body::from_stored(&self.body_format, &self.body)
    }

    /// The body's prose as paragraphs of plain text (see
    /// [`Body::paragraphs`](crate::body::Body::paragraphs)), borrowed from
    /// the stored body where they can be.
    pub fn paragraphs(&self) -> Vec<std::borrow::Cow<'_, str>> {
        crate::body::stored_paragraphs(&self.body_format, &self.body)
    }

    pub fn status(&self) -> Result<ArticleStatus, AppError> {
        self.status.parse().map_err(AppError::Internal)
    }

    /// Whether anonymous readers may see it at `now`.
    pub fn is_public_at(&self, now: NaiveDateTime) -> bool {
        is_public(&self.status, self.published_at, self.held_since, now)
    }

    /// Whether a legal hold is all that keeps it from readers at `now`: such
    /// an article is announced as withdrawn (451), not hidden.
    pub fn is_withdrawn_at(&self, now: NaiveDateTime) -> bool {
        self.held_since.is_some() && is_public(&self.status, self.published_at, None, now)
    }

    /// Whether a legal hold is active on it.
    pub fn is_held(&self) -> bool {
        self.held_since.is_some()
    }

    /// The slug its readers and writers know it by.
    pub fn shown_slug(&self) -> &str {
        self.requested_slug.as_deref().unwrap_or(&self.slug)
    }

    /// Its credits in byline order, kept in the row itself.
    pub fn credit_rows(&self) -> Vec<CreditRow> {
        let kept: Vec<KeptCredit> = serde_json::from_str(&self.credits).unwrap_or_default();
        kept.into_iter()
            .enumerate()
            .map(|(position, c)| CreditRow {
                article_id: self.id,
                position: position as i32,
                name: c.name,
                role: c.role,
            })
            .collect()
    }

    /// Whether its slug is reserved: it has been published or scheduled.
    pub fn slug_reserved(&self) -> bool {
        self.published_at.is_some()
    }
}

/// Who a lookup is made for, and so which hidden articles count for them:
/// the one rule behind "may this caller see this article".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// An account that writes its own drafts.
    pub author_id: Option<i32>,
    /// Reads every draft (editors, legal, admins, the system itself).
    pub sees_every_draft: bool,
}

impl Viewer {
    /// Jobs and commands: everything.
    pub const SYSTEM: Viewer = Viewer {
        author_id: None,
        sees_every_draft: true,
    };

    /// The viewer behind an audited actor.
    pub fn of(actor: &super::audit::Actor) -> Viewer {
        use crate::domain::rights::{allows, Action};
        match crate::domain::Role::parse_loose(&actor.role) {
            Ok(role) => Viewer {
                author_id: actor
                    .user_id
                    .filter(|_| allows(role, Action::WriteOwnDrafts)),
                sees_every_draft: allows(role, Action::ReadAnyDraft),
            },
            // `system`, `scheduler`: the service itself.
            Err(_) => Viewer::SYSTEM,
        }
    }

    /// Whether this viewer may see `row` at `now`.
    pub fn sees(&self, row: &ArticleRow, now: NaiveDateTime) -> bool {
        row.is_public_at(now)
            || self.sees_every_draft
            || (self.author_id.is_some() && row.owner_id == self.author_id)
    }
}

/// The one visibility rule: published, or scheduled with its time come, and
/// no legal hold active.
pub fn is_public(
    status: &str,
    published_at: Option<NaiveDateTime>,
    held_since: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> bool {
    let live = status
        .parse::<ArticleStatus>()
        .is_ok_and(ArticleStatus::is_live);
    live && held_since.is_none() && published_at.is_some_and(|at| at <= now)
}

/// What the importer and `createArticle` write.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = articles)]
pub struct NewArticle {
    pub slug: String,
    pub title: String,
    pub original_title: Option<String>,
    pub summary: String,
    pub body: String,
    pub body_format: String,
    pub raw_text: Option<String>,
    pub script: String,
    pub section_id: i32,
    pub source_id: Option<i32>,
    pub owner_id: Option<i32>,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i32,
    pub import_key: Option<String>,
    pub import_warnings: String,
    pub ruby_stripped_count: i32,
}

/// Inserts an article; returns its id.
pub fn insert(conn: &mut AnyConnection, new: &NewArticle) -> Result<i32, AppError> {
    Ok(diesel::insert_into(articles::table)
        .values(new)
        .returning(articles::id)
        .get_result(conn)?)
}

/// The article imported under `key`, if any.
pub fn id_by_import_key(conn: &mut AnyConnection, key: &str) -> Result<Option<i32>, AppError> {
    Ok(articles::table
        .filter(articles::import_key.eq(key))
        .select(articles::id)
        .first(conn)
        .optional()?)
}

/// The newest published article with exactly this title.
pub fn published_id_by_title(
    conn: &mut AnyConnection,
    title: &str,
) -> Result<Option<i32>, AppError> {
    // Filtering on status in SQL lets SQLite's planner pick the status index
    // and scan every published article; the title index finds the few rows.
    let rows: Vec<(i32, String, Option<NaiveDateTime>)> = articles::table
        .filter(articles::title.eq(title))
        .select((articles::id, articles::status, articles::published_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, status, _)| status == ArticleStatus::Published.as_str())
        .max_by_key(|(id, _, at)| (*at, *id))
        .map(|(id, _, _)| id))
}

/// A slug for a new article from `base` that no article `viewer` may see
/// uses now or used before. An article hidden from the viewer never makes the
/// answer differ: the new article then keeps it as its requested slug.
pub fn unique_slug(
    conn: &mut AnyConnection,
    base: &str,
    viewer: Viewer,
) -> Result<String, AppError> {
    let candidates = crate::domain::slug_candidates(base);
    let now = super::now();
    let mut taken: Vec<String> = Vec::new();
    for candidate in &candidates {
        let mut holders = slug_holders(conn, candidate)?;
        holders.extend(slug_requesters(conn, candidate)?);
        if holders.iter().any(|h| viewer.sees(h, now)) {
            taken.push(candidate.clone());
        }
    }
    Ok(crate::domain::first_free(&candidates, &taken))
}

/// The unpublished articles that asked for `slug` while another held it.
pub fn slug_requesters(conn: &mut AnyConnection, slug: &str) -> Result<Vec<ArticleRow>, AppError> {
    Ok(articles::table
        .filter(articles::requested_slug.eq(slug))
        .select(ArticleRow::as_select())
        .load(conn)?)
}

/// The articles holding `slug`: the one whose slug it is and the one that
/// had it before (its old links still lead there). A requested slug holds
/// nothing.
pub fn slug_holders(conn: &mut AnyConnection, slug: &str) -> Result<Vec<ArticleRow>, AppError> {
    let mut ids: Vec<i32> = articles::table
        .filter(articles::slug.eq(slug))
        .select(articles::id)
        .load(conn)?;
    ids.extend(
        article_slug_history::table
            .filter(article_slug_history::slug.eq(slug))
            .select(article_slug_history::article_id)
            .load::<i32>(conn)?,
    );
    by_ids(conn, &ids)
}

/// The article `viewer` knows by `slug`: its slug, a former slug, or (for a
/// draft they may see) the slug it asked for. Otherwise the article holding
/// the slug, which the caller's visibility rule then judges.
pub fn by_slug_seen_by(
    conn: &mut AnyConnection,
    slug: &str,
    viewer: Viewer,
) -> Result<Option<ArticleRow>, AppError> {
    let now = super::now();
    let holder = by_slug(conn, slug)?;
    if holder.as_ref().is_some_and(|h| viewer.sees(h, now)) {
        return Ok(holder);
    }
    let requested: Vec<ArticleRow> = articles::table
        .filter(articles::requested_slug.eq(slug))
        .order(articles::id.desc())
        .select(ArticleRow::as_select())
        .load(conn)?;
    Ok(requested
        .into_iter()
        .find(|r| viewer.sees(r, now))
        .or(holder))
}

/// Of these articles, the ones anonymous readers may see at `now`, with
/// their section: a narrow read for ranking many candidates before loading
/// the few rows of a page.
pub fn public_sections(
    conn: &mut AnyConnection,
    ids: &[i32],
    now: NaiveDateTime,
) -> Result<std::collections::HashMap<i32, i32>, AppError> {
    Ok(public_facts(conn, ids, now)?
        .into_iter()
        .map(|(id, facts)| (id, facts.section_id))
        .collect())
}

/// What a search filters a public article by, as its row says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublicFacts {
    pub section_id: i32,
    pub source_id: Option<i32>,
    pub published_at: Option<NaiveDateTime>,
}

/// Of these articles, the ones anonymous readers may see at `now`, with
/// their section, source and time.
pub fn public_facts(
    conn: &mut AnyConnection,
    ids: &[i32],
    now: NaiveDateTime,
) -> Result<std::collections::HashMap<i32, PublicFacts>, AppError> {
    type Narrow = (
        i32,
        i32,
        Option<i32>,
        String,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Narrow> = articles::table
        .filter(articles::id.eq_any(ids))
        .select((
            articles::id,
            articles::section_id,
            articles::source_id,
            articles::status,
            articles::published_at,
            articles::held_since,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, _, status, at, held)| is_public(status, *at, *held, now))
        .map(|(id, section_id, source_id, _, published_at, _)| {
            let facts = PublicFacts {
                section_id,
                source_id,
                published_at,
            };
            (id, facts)
        })
        .collect())
}

/// Articles by id, any status (callers apply visibility).
pub fn by_ids(conn: &mut AnyConnection, ids: &[i32]) -> Result<Vec<ArticleRow>, AppError> {
    Ok(articles::table
        .filter(articles::id.eq_any(ids))
        .select(ArticleRow::as_select())
        .load(conn)?)
}

/// The articles `ids` (in no order) with empty bodies (see
/// [`Columns::BodyOptional`]).
pub fn by_ids_without_body(
    conn: &mut AnyConnection,
    ids: &[i32],
) -> Result<Vec<ArticleRow>, AppError> {
    Ok(on_engine!(conn, |c| articles::table
        .filter(articles::id.eq_any(ids))
        .select(without_body())
        .load(c))?)
}

/// The article that has, or once had, this slug.
pub fn by_slug(conn: &mut AnyConnection, slug: &str) -> Result<Option<ArticleRow>, AppError> {
    let found = on_engine!(conn, |c| with_slug(slug)
        .select(ArticleRow::as_select())
        .first(c)
        .optional())?;
    if let Some(row) = found {
        return Ok(Some(row));
    }
    let former: Option<i32> = article_slug_history::table
        .filter(article_slug_history::slug.eq(slug))
        .select(article_slug_history::article_id)
        .first(conn)
        .optional()?;
    match former {
        Some(id) => Ok(by_ids(conn, &[id])?.into_iter().next()),
        None => Ok(None),
    }
}

/// The article that holds `slug` now.
#[diesel::dsl::auto_type]
pub(super) fn with_slug<'a>(slug: &'a str) -> _ {
    articles::table.filter(articles::slug.eq(slug))
}

/// How many articles there are (for import checks and tests).
pub fn count(conn: &mut AnyConnection) -> Result<i64, AppError> {
    Ok(articles::table.count().get_result(conn)?)
}

/// Where a page of articles starts: the sort key of the last item seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub published_at: NaiveDateTime,
    pub id: i32,
}

/// Which way a page goes from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Newer to older (`first`/`after`).
    Older,
    /// Older to newer (`last`/`before`); results come back newest first anyway.
    Newer,
}

/// A public listing: only articles readers may see at `now`, newest first.
#[derive(Debug, Clone)]
pub struct PublicQuery {
    pub now: NaiveDateTime,
    pub section_ids: Option<Vec<i32>>,
    pub source_name: Option<String>,
    pub contributor_name: Option<String>,
    pub tag_slug: Option<String>,
    pub published_after: Option<NaiveDateTime>,
    pub published_before: Option<NaiveDateTime>,
    /// Only articles changed at or after this time.
    pub updated_after: Option<NaiveDateTime>,
    pub exclude_id: Option<i32>,
    /// Set when `section_ids` is this section and every section below it:
    /// such a list is read from the section's placements.
    pub subtree_of: Option<i32>,
}

impl PublicQuery {
    pub fn new(now: NaiveDateTime) -> Self {
        PublicQuery {
            now,
            section_ids: None,
            source_name: None,
            contributor_name: None,
            tag_slug: None,
            published_after: None,
            published_before: None,
            updated_after: None,
            exclude_id: None,
            subtree_of: None,
        }
    }

    /// The placements scope that holds exactly this list, when one does:
    /// no filter but the sections, and those a whole subtree or the site.
    pub fn placement_scope(&self) -> Option<i32> {
        let only_sections = self.source_name.is_none()
            && self.contributor_name.is_none()
            && self.tag_slug.is_none()
            && self.published_after.is_none()
            && self.published_before.is_none()
            && self.updated_after.is_none()
            && self.exclude_id.is_none();
        match (&self.section_ids, self.subtree_of) {
            _ if !only_sections => None,
            (None, _) => Some(super::placements::SITE),
            (Some(_), Some(root)) => Some(root),
            (Some(_), None) => None,
        }
    }

    fn filtered(&self) -> articles::BoxedQuery<'static, super::MultiBackend> {
        self.filtered_part(None)
    }

    /// The filter, or one part of it: one status in one section (or in all),
    /// which an index on (section, status, published_at, id) or (status,
    /// published_at, id) reads in order.
    fn filtered_part(
        &self,
        part: Option<(&'static str, Option<i32>)>,
    ) -> articles::BoxedQuery<'static, super::MultiBackend> {
        use super::schema::{article_credits, article_tags, contributors, sources, tags};
        let public = [
            ArticleStatus::Published.as_str(),
            ArticleStatus::Scheduled.as_str(),
        ];
        let mut q = articles::table
            .filter(articles::published_at.le(self.now))
            .filter(articles::held_since.is_null())
            .into_boxed();
        match part {
            Some((status, section)) => {
                q = q.filter(articles::status.eq(status));
                if let Some(id) = section {
                    q = q.filter(articles::section_id.eq(id));
                }
            }
            None => {
                q = q.filter(articles::status.eq_any(public));
                if let Some(ids) = &self.section_ids {
                    q = q.filter(articles::section_id.eq_any(ids.clone()));
                }
            }
        }
        if let Some(name) = &self.source_name {
            q = q.filter(
                articles::source_id.eq_any(
                    sources::table
                        .filter(sources::name.eq(name.clone()))
                        .select(sources::id.nullable()),
                ),
            );
        }
        if let Some(name) = &self.contributor_name {
            q = q.filter(
                articles::id.eq_any(
                    article_credits::table
                        .inner_join(contributors::table)
                        .filter(contributors::name.eq(name.clone()))
                        .select(article_credits::article_id),
                ),
            );
        }
        if let Some(slug) = &self.tag_slug {
            q = q.filter(
                articles::id.eq_any(
                    article_tags::table
                        .inner_join(tags::table)
                        .filter(tags::slug.eq(slug.clone()))
                        .select(article_tags::article_id),
                ),
            );
        }
        if let Some(after) = self.published_after {
            q = q.filter(articles::published_at.ge(after));
        }
        if let Some(before) = self.published_before {
            q = q.filter(articles::published_at.lt(before));
        }
        if let Some(at) = self.updated_after {
            q = q.filter(articles::updated_at.ge(at));
        }
        if let Some(id) = self.exclude_id {
            q = q.filter(articles::id.ne(id));
        }
        q
    }
}

/// One page of a public listing, newest first. Keyset pagination on
/// (published_at, id): stable while articles are added, no OFFSET scans.
pub fn list_public(
    conn: &mut AnyConnection,
    query: &PublicQuery,
    from: Option<Position>,
    direction: Direction,
    limit: i64,
    columns: Columns,
) -> Result<Vec<ArticleRow>, AppError> {
    if let Some(scope) = query.placement_scope() {
        return list_placed(conn, scope, query.now, from, direction, limit, columns);
    }
    // Two statuses, or several sections, cannot be read from one index in
    // order: the engine would sort every article of the sections for each
    // page. Each (status, section) part is read in index order up to the
    // page size instead, and the parts are merged here.
    let statuses = [
        ArticleStatus::Published.as_str(),
        ArticleStatus::Scheduled.as_str(),
    ];
    let sections: Vec<Option<i32>> = match &query.section_ids {
        Some(ids) if ids.len() <= MAX_MERGED_SECTIONS => ids.iter().copied().map(Some).collect(),
        Some(_) => vec![],
        None => vec![None],
    };
    let parts: Vec<Option<(&'static str, Option<i32>)>> = if sections.is_empty() {
        vec![None]
    } else {
        statuses
            .iter()
            .flat_map(|status| {
                sections
                    .iter()
                    .map(move |section| Some((*status, *section)))
            })
            .collect()
    };
    // Keys first (the indexes cover them), whole rows only for the page.
    let mut keys: Vec<(Option<NaiveDateTime>, i32)> = Vec::new();
    for part in parts {
        keys.extend(list_part(conn, query, part, from, direction, limit)?);
    }
    keys.sort_by_key(|k| std::cmp::Reverse(*k));
    match direction {
        Direction::Older => keys.truncate(limit.max(0) as usize),
        Direction::Newer => {
            let extra = keys.len().saturating_sub(limit.max(0) as usize);
            keys.drain(..extra);
        }
    }
    let ids: Vec<i32> = keys.iter().map(|(_, id)| *id).collect();
    let mut rows = by_ids(conn, &ids)?;
    rows.sort_by_key(|r| std::cmp::Reverse((r.published_at, r.id)));
    Ok(rows)
}

/// Sections a listing merges part by part; wider scopes use one query.
const MAX_MERGED_SECTIONS: usize = 12;

fn list_part(
    conn: &mut AnyConnection,
    query: &PublicQuery,
    part: Option<(&'static str, Option<i32>)>,
    from: Option<Position>,
    direction: Direction,
    limit: i64,
) -> Result<Vec<(Option<NaiveDateTime>, i32)>, AppError> {
    let mut q = query.filtered_part(part);
    if let Some(p) = from {
        q = match direction {
            Direction::Older => q.filter(
                articles::published_at
                    .lt(p.published_at)
                    .or(articles::published_at
                        .eq(p.published_at)
                        .and(articles::id.lt(p.id))),
            ),
            Direction::Newer => q.filter(
                articles::published_at
                    .gt(p.published_at)
                    .or(articles::published_at
                        .eq(p.published_at)
                        .and(articles::id.gt(p.id))),
            ),
        };
    }
    q = match direction {
        Direction::Older => q.order((articles::published_at.desc(), articles::id.desc())),
        Direction::Newer => q.order((articles::published_at.asc(), articles::id.asc())),
    };
    Ok(q.limit(limit)
        .select((articles::published_at, articles::id))
        .load(conn)?)
}

/// How many articles a public listing holds.
pub fn count_public(conn: &mut AnyConnection, query: &PublicQuery) -> Result<i64, AppError> {
    Ok(query.filtered().count().get_result(conn)?)
}

/// When an article last entered or left public view within these sections
/// (all when `None`): with its items' own times, what a feed's
/// `Last-Modified` follows.
pub fn last_public_change(
    conn: &mut AnyConnection,
    section_ids: Option<&[i32]>,
) -> Result<Option<NaiveDateTime>, AppError> {
    let mut q = articles::table
        .select(diesel::dsl::max(articles::public_changed_at))
        .into_boxed();
    if let Some(ids) = section_ids {
        q = q.filter(articles::section_id.eq_any(ids.to_vec()));
    }
    Ok(q.first(conn)?)
}

/// What partners need to delete their copy of a withdrawn article.
#[derive(Debug, Clone, PartialEq)]
pub struct Tombstone {
    pub id: i32,
    pub slug: String,
    /// When the oldest active hold was placed.
    pub withdrawn_at: NaiveDateTime,
    /// The takedown requests holding it (`TD-12`), oldest first.
    pub references: Vec<String>,
}

/// Articles under a legal hold placed at or after `since` (the oldest active
/// hold of each), oldest first. An article leaves this list only when its
/// last hold is released.
pub fn withdrawn_since(
    conn: &mut AnyConnection,
    since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Tombstone>, AppError> {
    let rows: Vec<(i32, String, Option<NaiveDateTime>)> = articles::table
        .filter(articles::held_since.ge(since))
        .order((articles::held_since.asc(), articles::id.asc()))
        .limit(limit)
        .select((articles::id, articles::slug, articles::held_since))
        .load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|(id, _, _)| *id).collect();
    let holds = super::holds::active_on(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, at)| Tombstone {
            id,
            slug,
            withdrawn_at: at.unwrap_or(since),
            references: holds
                .iter()
                .filter(|h| h.article_id == id)
                .filter_map(|h| h.reference())
                .collect(),
        })
        .collect())
}

/// The tombstone shown instead of a held article, if it is held.
pub fn tombstone(
    conn: &mut AnyConnection,
    row: &ArticleRow,
) -> Result<Option<Tombstone>, AppError> {
    let Some(at) = row.held_since else {
        return Ok(None);
    };
    let holds = super::holds::active_on(conn, &[row.id])?;
    Ok(Some(Tombstone {
        id: row.id,
        slug: row.slug.clone(),
        withdrawn_at: at,
        references: holds.iter().filter_map(|h| h.reference()).collect(),
    }))
}

/// Articles editors pinned as related to `id`, in order.
pub fn pinned_related(conn: &mut AnyConnection, id: i32) -> Result<Vec<i32>, AppError> {
    use super::schema::related_articles;
    Ok(related_articles::table
        .filter(related_articles::article_id.eq(id))
        .order(related_articles::position)
        .select(related_articles::related_id)
        .load(conn)?)
}

/// Replaces the pinned related articles of `id`.
pub fn set_pinned_related(
    conn: &mut AnyConnection,
    id: i32,
    related: &[i32],
) -> Result<(), AppError> {
    use super::schema::related_articles;
    diesel::delete(related_articles::table.filter(related_articles::article_id.eq(id)))
        .execute(conn)?;
    for (position, other) in related.iter().enumerate() {
        diesel::insert_into(related_articles::table)
            .values((
                related_articles::article_id.eq(id),
                related_articles::position.eq(position as i32),
                related_articles::related_id.eq(other),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The credits of `rows`, by article, from the rows themselves.
pub fn credits_by_article(rows: &[ArticleRow]) -> std::collections::HashMap<i32, Vec<CreditRow>> {
    rows.iter().map(|r| (r.id, r.credit_rows())).collect()
}

/// Which columns of the article rows a list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// Every column.
    Whole,
    /// The body may be left empty: a page of headlines then does not carry
    /// twenty bodies (kilobytes each) out of the database, through UTF-8
    /// checks and into memory. Whoever asks for this loads the body when it
    /// turns out to be wanted after all.
    BodyOptional,
}

/// The columns of [`ArticleRow`] in its order, with an empty body.
type WithoutBody = (
    articles::id,
    articles::slug,
    articles::title,
    articles::original_title,
    articles::summary,
    diesel::dsl::AsExprOf<&'static str, diesel::sql_types::Text>,
    articles::body_format,
    articles::script,
    articles::section_id,
    articles::source_id,
    articles::owner_id,
    articles::status,
    articles::published_at,
    articles::created_at,
    articles::updated_at,
    articles::revision,
    articles::held_since,
    articles::requested_slug,
    articles::credits,
    articles::lead_media_id,
    articles::seo_title,
    articles::seo_description,
);

pub(super) fn without_body() -> WithoutBody {
    (
        articles::id,
        articles::slug,
        articles::title,
        articles::original_title,
        articles::summary,
        "".into_sql::<diesel::sql_types::Text>(),
        articles::body_format,
        articles::script,
        articles::section_id,
        articles::source_id,
        articles::owner_id,
        articles::status,
        articles::published_at,
        articles::created_at,
        articles::updated_at,
        articles::revision,
        articles::held_since,
        articles::requested_slug,
        articles::credits,
        articles::lead_media_id,
        articles::seo_title,
        articles::seo_description,
    )
}

/// The first page of a placement scope, by far the most asked for, as a
/// query of fixed shape (one per set of columns): Diesel keeps it prepared
/// on each connection.
#[diesel::dsl::auto_type]
pub(super) fn first_placed(scope: i32, now: NaiveDateTime, limit: i64) -> _ {
    article_placements::table
        .inner_join(articles::table)
        .filter(article_placements::scope_id.eq(scope))
        .filter(article_placements::published_at.le(now))
        .order((
            article_placements::published_at.desc(),
            article_placements::article_id.desc(),
        ))
        .limit(limit)
}

/// One page of the public articles of placements scope `scope` (see
/// [`super::placements`]), newest first, from the cursor
/// `from` on: one statement, read in the order of the placements' key.
pub fn list_placed(
    conn: &mut AnyConnection,
    scope: i32,
    now: NaiveDateTime,
    from: Option<Position>,
    direction: Direction,
    limit: i64,
    columns: Columns,
) -> Result<Vec<ArticleRow>, AppError> {
    if from.is_none() && direction == Direction::Older {
        let first_page = first_placed(scope, now, limit);
        return Ok(match columns {
            Columns::Whole => {
                on_engine!(conn, |c| first_page.select(ArticleRow::as_select()).load(c))?
            }
            Columns::BodyOptional => {
                on_engine!(conn, |c| first_page.select(without_body()).load(c))?
            }
        });
    }
    let mut q = article_placements::table
        .inner_join(articles::table)
        .filter(article_placements::scope_id.eq(scope))
        .filter(article_placements::published_at.le(now))
        .select(ArticleRow::as_select())
        .into_boxed();
    if let Some(at) = from {
        q = match direction {
            Direction::Older => q.filter(
                article_placements::published_at.lt(at.published_at).or(
                    article_placements::published_at
                        .eq(at.published_at)
                        .and(article_placements::article_id.lt(at.id)),
                ),
            ),
            Direction::Newer => q.filter(
                article_placements::published_at.gt(at.published_at).or(
                    article_placements::published_at
                        .eq(at.published_at)
                        .and(article_placements::article_id.gt(at.id)),
                ),
            ),
        };
    }
    q = match direction {
        Direction::Older => q.order((
            article_placements::published_at.desc(),
            article_placements::article_id.desc(),
        )),
        Direction::Newer => q.order((
            article_placements::published_at.asc(),
            article_placements::article_id.asc(),
        )),
    };
    let mut rows = q.limit(limit).load(conn)?;
    if direction == Direction::Newer {
        rows.reverse();
    }
    Ok(rows)
}
