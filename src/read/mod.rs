//! The read model: stored rows become what the public sees, in the script
//! asked for, with the attribution rules in one place.
//!
//! GraphQL, REST, the feeds and ninjs only serialise what this module makes:
//! - [`Voice`] writes every human-readable text in the requested script
//!   (article bodies from their stored script; headlines, names, labels and
//!   notices whatever script they were typed in) and every time in the
//!   site's zone. Identifiers (filing numbers, URLs, slugs, e-mail
//!   addresses, tickers) never go through it.
//! - [`ArticleView`] is an article as the public sees it: source and
//!   `owned`, byline with roles and the responsible editor apart, the
//!   copyright notice in force, section, URL.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone};

use crate::db::articles::ArticleRow;
use crate::db::contributors::CreditRow;
use crate::db::notices::{in_force, NoticeRow};
use crate::db::sections::SectionRow;
use crate::db::site::SiteRow;
use crate::db::sources::SourceRow;
use crate::domain::script::Script;
use crate::domain::{CreditRole, NoticeKind};
use crate::text::script::{Script as TextScript, ScriptConverter};

pub mod seo;
mod snippets;

pub use snippets::{highlighted_words, Highlight};

/// Writes text and times for one response.
#[derive(Clone, Copy)]
pub struct Voice<'a> {
    converter: &'a ScriptConverter,
    /// The script asked for.
    pub script: Script,
    /// What the site's own texts are stored in (the language tag of
    /// [`Script::Original`] site text).
    pub site_script: TextScript,
    tz: chrono_tz::Tz,
}

impl<'a> Voice<'a> {
    pub fn new(converter: &'a ScriptConverter, script: Script, site: &SiteRow) -> Self {
        Voice {
            converter,
            script,
            site_script: stored_script(&site.default_script),
            tz: site.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai),
        }
    }

    /// A headline, name, label or notice: written in the target script,
    /// whatever script it was stored in, one variant throughout.
    pub fn line(&self, text: &str) -> String {
        match self.script.target() {
            Some(target) => self.converter.line(text, target).to_string(),
            None => text.to_string(),
        }
    }

    /// Body text of an article stored in `stored` (its `script` column).
    pub fn body(&self, text: &str, stored: &str) -> String {
        match self.script.target() {
            Some(target) => self
                .converter
                .convert(text, stored_script(stored), target)
                .into_owned(),
            None => text.to_string(),
        }
    }

    /// The site's time zone.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// The site zone's offset from UTC at `at`, in seconds (search
    /// counts months by it).
    pub fn utc_offset(&self, at: NaiveDateTime) -> i64 {
        i64::from(
            self.tz
                .offset_from_utc_datetime(&at)
                .fix()
                .local_minus_utc(),
        )
    }

    /// A stored UTC time in the site's zone (+08:00 for Asia/Shanghai).
    pub fn time(&self, t: NaiveDateTime) -> DateTime<FixedOffset> {
        t.and_utc().with_timezone(&self.tz).fixed_offset()
    }

    /// The `Content-Language` of an article's text (its stored script for
    /// [`Script::Original`]).
    pub fn article_language(&self, stored: &str) -> &'static str {
        self.script.language_tag(stored_script(stored))
    }

    /// The `Content-Language` of the site's own text.
    pub fn site_language(&self) -> &'static str {
        self.script.language_tag(self.site_script)
    }

    /// The attribution labels of feed items, in this script.
    pub fn labels(&self) -> Labels {
        Labels {
            source: format!("{}/Source", self.line("來源")),
            by: format!("{}/By", self.line("作者")),
            editor: format!("{}/Editor", self.line("編輯")),
        }
    }
}

/// The labels feeds put before attribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    pub source: String,
    pub by: String,
    pub editor: String,
}

/// The stored script column read as the converter's type.
pub fn stored_script(value: &str) -> TextScript {
    match value {
        "hans" => TextScript::Hans,
        _ => TextScript::Hant,
    }
}

/// Whether an article is the site's own work: no source, or an owned one.
pub fn owned(source: Option<&SourceRow>) -> bool {
    source.is_none_or(|s| s.owned)
}

/// Which notice governs an article.
pub fn notice_kind(owned: bool) -> NoticeKind {
    if owned {
        NoticeKind::Original
    } else {
        NoticeKind::Reprint
    }
}

/// The canonical URL of an article on the public site.
pub fn article_url(base: &str, row: &ArticleRow) -> String {
    article_url_of(base, row.id, row.shown_slug())
}

/// The canonical URL of article `id` whose URL shows `slug`.
pub fn article_url_of(base: &str, id: i32, slug: &str) -> String {
    format!("{base}/a/{id}-{slug}")
}

/// An article's credits split as pages print them: the byline (reporters,
/// correspondents, photographers, in order) and the responsible editor.
pub fn byline(credits: &[CreditRow]) -> (Vec<&CreditRow>, Option<&CreditRow>) {
    (
        credits
            .iter()
            .filter(|c| c.role != CreditRole::Editor)
            .collect(),
        credits.iter().find(|c| c.role == CreditRole::Editor),
    )
}

/// A credited person as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditView {
    pub name: String,
    pub role: CreditRole,
}

/// The copyright notice in force for an article, as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeView {
    pub kind: NoticeKind,
    pub text: String,
    /// How rights holders ask for removal.
    pub removal_terms: Option<String>,
    /// Within how many days of publication removal requests are expected.
    pub removal_window_days: Option<i32>,
}

/// The notices in force at `at` for an article of this kind.
pub fn notice(
    voice: &Voice<'_>,
    notices: &[NoticeRow],
    owned: bool,
    at: NaiveDateTime,
) -> NoticeView {
    let kind = notice_kind(owned);
    let removal = in_force(notices, NoticeKind::Removal, at);
    NoticeView {
        kind,
        text: in_force(notices, kind, at)
            .map(|n| voice.line(&n.text))
            .unwrap_or_default(),
        removal_terms: removal.map(|n| voice.line(&n.text)),
        removal_window_days: removal.and_then(|n| n.window_days),
    }
}

/// What an article needs besides its row, loaded by the caller in a fixed
/// number of queries.
pub struct ArticleFacts<'r> {
    pub row: &'r ArticleRow,
    pub credits: &'r [CreditRow],
    pub source: Option<&'r SourceRow>,
    pub section: Option<&'r SectionRow>,
    pub notices: &'r [NoticeRow],
}

/// A public article, everything but its body.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleView {
    pub id: i32,
    pub slug: String,
    pub url: String,
    pub title: String,
    pub summary: String,
    pub section_slug: String,
    pub section_name: String,
    pub source: Option<String>,
    pub owned: bool,
    pub byline: Vec<CreditView>,
    pub editor: Option<CreditView>,
    pub notice: NoticeView,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub updated_at: DateTime<FixedOffset>,
    pub revision: i32,
    /// The language tag of its text.
    pub language: &'static str,
}

impl ArticleView {
    pub fn new(
        voice: &Voice<'_>,
        facts: &ArticleFacts<'_>,
        base_url: &str,
        now: NaiveDateTime,
    ) -> Self {
        let row = facts.row;
        let owned = owned(facts.source);
        let (people, editor) = byline(facts.credits);
        let credit = |c: &CreditRow| CreditView {
            name: voice.line(&c.name),
            role: c.role,
        };
        ArticleView {
            id: row.id,
            slug: row.shown_slug().to_string(),
            url: article_url(base_url, row),
            title: voice.line(&row.title),
            summary: voice.line(&row.summary),
            section_slug: facts.section.map(|s| s.slug.clone()).unwrap_or_default(),
            section_name: facts
                .section
                .map(|s| voice.line(&s.name))
                .unwrap_or_default(),
            source: facts.source.map(|s| voice.line(&s.name)),
            owned,
            byline: people.into_iter().map(credit).collect(),
            editor: editor.map(credit),
            notice: notice(voice, facts.notices, owned, row.published_at.unwrap_or(now)),
            published_at: row.published_at.map(|t| voice.time(t)),
            updated_at: voice.time(row.updated_at),
            revision: row.revision,
            language: voice.article_language(&row.script),
        }
    }

    /// The byline's names (reporters, correspondents, photographers).
    pub fn authors(&self) -> Vec<String> {
        self.byline.iter().map(|c| c.name.clone()).collect()
    }
}

/// An article's body blocks, every text in the voice's script.
pub fn body(voice: &Voice<'_>, row: &ArticleRow) -> crate::body::Body {
    row.blocks().map_text(&|t| voice.body(t, &row.script))
}

/// An article's body paragraphs, in the voice's script.
pub fn paragraphs(voice: &Voice<'_>, row: &ArticleRow) -> Vec<String> {
    row.paragraphs()
        .iter()
        .map(|p| voice.body(p, &row.script))
        .collect()
}

/// Other public articles to read next after `row`: first those editors
/// pinned, then those sharing the most distinctive terms (the same section
/// weighs more), then the newest of the same section. Never the article
/// itself, never a hidden one; at most `size`.
pub fn related(
    conn: &mut crate::db::AnyConnection,
    row: &ArticleRow,
    now: NaiveDateTime,
    size: usize,
) -> Result<Vec<ArticleRow>, crate::error::AppError> {
    use crate::db::articles::{self, Columns, Direction, PublicQuery};
    let id = row.id;
    let section_id = row.section_id;
    let mut order: Vec<i32> = articles::pinned_related(conn, id)?;
    let pins = order.len();
    let scored = crate::search::related(conn, id)?;
    let candidates: Vec<i32> = scored.iter().map(|(i, _)| *i).collect();
    let public = articles::public_sections(conn, &candidates, now)?;
    // Scores are relative to the best candidate, so the boost means
    // the same on either engine's scale.
    let best = scored
        .iter()
        .map(|(_, s)| *s)
        .fold(0.0, f64::max)
        .max(f64::EPSILON);
    let mut boosted: Vec<(i32, f64)> = scored
        .into_iter()
        .filter_map(|(i, s)| {
            let section = public.get(&i)?;
            let s = s / best;
            Some((i, if *section == section_id { s + 0.5 } else { s }))
        })
        .collect();
    boosted.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    order.extend(boosted.into_iter().map(|(i, _)| i));
    let mut query = PublicQuery::new(now);
    query.section_ids = Some(vec![section_id]);
    query.exclude_id = Some(id);
    order.extend(
        articles::list_public(
            conn,
            &query,
            None,
            Direction::Older,
            size as i64,
            Columns::Whole,
        )?
        .into_iter()
        .map(|r| r.id),
    );
    let mut seen = std::collections::HashSet::new();
    order.retain(|i| *i != id && seen.insert(*i));
    // Everything after the pins is public already; a pin may not be.
    order.truncate(size + pins);
    let rows: std::collections::HashMap<i32, ArticleRow> = articles::by_ids(conn, &order)?
        .into_iter()
        .filter(|r| r.is_public_at(now))
        .map(|r| (r.id, r))
        .collect();
    Ok(order
        .into_iter()
        .filter_map(|i| rows.get(&i).cloned())
        .take(size)
        .collect::<Vec<_>>())
}
