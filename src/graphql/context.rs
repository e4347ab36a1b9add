//! What one GraphQL request carries: the shared state, the script asked for
//! through `Accept-Language`, the instant that decides visibility, and the
//! request-scoped loaders and caches that keep the query count flat.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::{DataLoader, HashMapCache};
use async_graphql::Context;
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use tokio::sync::OnceCell;

use super::loaders::{ArticleLoader, SourceLoader};
use super::script::Script;
use super::Shared;
use crate::auth::policy::{self, Action};
use crate::auth::{Credentials, Staff};
use crate::db::articles::{ArticleRow, Viewer};
use crate::db::audit::Actor;
use crate::db::notices::NoticeRow;
use crate::db::sections::SectionRow;
use crate::db::site::SiteRow;
use crate::db::{self, notices, sections, site, Database};
use crate::domain::CacheKey;
use crate::error::AppError;
use crate::text::script::Script as TextScript;

/// The section tree, loaded once per request with one query (a site has dozens).
#[derive(Debug)]
pub struct SectionTree {
    rows: Vec<Arc<SectionRow>>,
    by_id: HashMap<i32, usize>,
}

impl SectionTree {
    pub(super) fn new(rows: Vec<SectionRow>) -> Self {
        let rows: Vec<Arc<SectionRow>> = rows.into_iter().map(Arc::new).collect();
        let by_id = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        SectionTree { rows, by_id }
    }

    pub fn get(&self, id: i32) -> Option<Arc<SectionRow>> {
        self.by_id.get(&id).map(|&i| self.rows[i].clone())
    }

    /// Every section, in navigation order.
    pub fn rows(&self) -> impl Iterator<Item = &SectionRow> {
        self.rows.iter().map(Arc::as_ref)
    }

    /// The section `id`, borrowed.
    pub fn row(&self, id: i32) -> Option<&SectionRow> {
        self.by_id.get(&id).map(|&i| self.rows[i].as_ref())
    }

    pub fn by_slug(&self, slug: &str) -> Option<Arc<SectionRow>> {
        self.rows.iter().find(|r| r.slug == slug).cloned()
    }

    /// Direct children, in navigation order.
    pub fn children(&self, id: Option<i32>) -> Vec<Arc<SectionRow>> {
        self.rows
            .iter()
            .filter(|r| r.parent_id == id)
            .cloned()
            .collect()
    }

    /// Sections shown in the navigation, in navigation order.
    pub fn navigation(&self) -> Vec<Arc<SectionRow>> {
        self.rows
            .iter()
            .filter(|r| r.in_navigation)
            .cloned()
            .collect()
    }

    /// The path from the root down to `id`, root first.
    pub fn breadcrumb(&self, id: i32) -> Vec<Arc<SectionRow>> {
        let mut path = Vec::new();
        let mut current = self.get(id);
        while let Some(row) = current {
            // A cycle would be a data error; the length bound keeps us safe.
            if path.len() > self.rows.len() {
                break;
            }
            current = row.parent_id.and_then(|p| self.get(p));
            path.push(row);
        }
        path.reverse();
        path
    }

    /// `id` and every section below it.
    pub fn subtree_ids(&self, id: i32) -> Vec<i32> {
        sections::subtree_ids(&self.links(), id)
    }

    /// (section, parent) pairs.
    pub fn links(&self) -> Vec<(i32, Option<i32>)> {
        sections::links(self.rows.iter().map(|r| r.as_ref()))
    }
}

/// Per-request data, inserted by the HTTP handler.
pub struct RequestContext {
    pub state: Shared,
    /// Where this request reads; writes through it go to the primary.
    pub db: Database,
    /// Who is calling, from the `Authorization` header.
    pub credentials: Credentials,
    /// The request id, recorded with every write.
    pub request_id: Option<String>,
    /// The `Idempotency-Key` of a staff member's mutation request.
    pub idempotency: Option<Arc<crate::db::idempotency::Claim>>,
    /// The script asked for by `Accept-Language`; a field's `script` argument wins.
    pub default_script: Script,
    /// The instant visibility is judged at, fixed for the whole request.
    pub now: NaiveDateTime,
    /// The loaders are made when first asked for: a subscription's context
    /// lives as long as its connection, and most never load anything.
    sources: std::sync::OnceLock<DataLoader<SourceLoader, HashMapCache>>,
    articles: std::sync::OnceLock<DataLoader<ArticleLoader, HashMapCache>>,
    media: std::sync::OnceLock<DataLoader<super::loaders::MediaLoader, HashMapCache>>,
    site: OnceCell<Arc<SiteRow>>,
    sections: OnceCell<Arc<SectionTree>>,
    notices: OnceCell<Arc<Vec<NoticeRow>>>,
    languages: Mutex<Vec<&'static str>>,
    tags: Mutex<std::collections::HashSet<CacheKey>>,
    /// Set for a subscription's context, which lives as long as its
    /// connection: it keeps nothing per event (see [`Self::lasting`]).
    lasting: std::sync::atomic::AtomicBool,
}

impl RequestContext {
    /// `db` is where the request reads: the primary, or for anonymous
    /// requests a replica that is current (see [`Database::reader`]).
    pub fn new(
        state: Shared,
        db: Database,
        default_script: Script,
        credentials: Credentials,
        request_id: Option<String>,
    ) -> Self {
        RequestContext {
            db,
            credentials,
            request_id,
            idempotency: None,
            default_script,
            now: db::now(),
            sources: std::sync::OnceLock::new(),
            articles: std::sync::OnceLock::new(),
            media: std::sync::OnceLock::new(),
            site: OnceCell::new(),
            sections: OnceCell::new(),
            notices: OnceCell::new(),
            languages: Mutex::new(Vec::new()),
            tags: Mutex::new(std::collections::HashSet::new()),
            lasting: std::sync::atomic::AtomicBool::new(false),
            state,
        }
    }

    /// Makes this the context of a connection that lasts (a subscription
    /// over WebSocket or SSE): its loaders keep no rows between loads and it
    /// records no cache tags, so what it holds does not grow with every
    /// event for as long as the connection is open.
    pub fn lasting(&self) {
        self.lasting
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Sources by id.
    pub fn sources(&self) -> &DataLoader<SourceLoader, HashMapCache> {
        self.sources
            .get_or_init(|| self.loader(SourceLoader(self.db.clone())))
    }

    /// Articles by id.
    pub fn articles(&self) -> &DataLoader<ArticleLoader, HashMapCache> {
        self.articles
            .get_or_init(|| self.loader(ArticleLoader(self.db.clone())))
    }

    /// Pictures by media id.
    pub fn media(&self) -> &DataLoader<super::loaders::MediaLoader, HashMapCache> {
        self.media
            .get_or_init(|| self.loader(super::loaders::MediaLoader(self.db.clone())))
    }

    /// A loader of this request; a lasting context's keeps no rows.
    fn loader<L>(&self, loader: L) -> DataLoader<L, HashMapCache> {
        let loader =
            DataLoader::with_cache(loader, super::spans::spawn_in_span, HashMapCache::default());
        if self.is_lasting() {
            loader.enable_all_cache(false);
        }
        loader
    }

    fn is_lasting(&self) -> bool {
        self.lasting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The request context of a resolver.
    pub fn of<'a>(ctx: &Context<'a>) -> &'a RequestContext {
        ctx.data_unchecked::<Arc<RequestContext>>()
    }

    /// The writer of a change, for revisions and the audit log.
    pub fn actor(&self, staff: &Staff) -> Actor {
        Actor {
            user_id: Some(staff.user_id),
            role: staff.role.as_str().to_string(),
            request_id: self.request_id.clone(),
            idempotency: self.idempotency.clone(),
        }
    }

    /// Whether the caller may see this article now: public articles to all,
    /// others to their owner and to roles that read every draft.
    pub fn can_read(&self, row: &ArticleRow) -> bool {
        can_read(&self.credentials, self.now, row)
    }

    /// The script a root field serves: its argument, else `Accept-Language`.
    /// Records the language so the response can say which it carries.
    pub async fn choose_script(&self, argument: Option<Script>) -> Result<Script, AppError> {
        let script = argument.unwrap_or(self.default_script);
        let stored = self.site_script().await?;
        let tag = script.language_tag(stored);
        if self.is_lasting() {
            return Ok(script);
        }
        if let Ok(mut languages) = self.languages.lock() {
            if !languages.contains(&tag) {
                languages.push(tag);
            }
        }
        Ok(script)
    }

    /// Records a cache tag the response depends on (`article-12`, `site` …).
    pub fn tag(&self, key: CacheKey) {
        if self.is_lasting() {
            return;
        }
        if let Ok(mut tags) = self.tags.lock() {
            tags.insert(key);
        }
    }

    /// The cache tags of the response, for `Surrogate-Key`, in the order of
    /// their text (equal responses carry equal headers).
    pub fn tags(&self) -> Vec<CacheKey> {
        let mut tags: Vec<CacheKey> = self
            .tags
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        tags.sort_by_cached_key(ToString::to_string);
        tags
    }

    /// The languages of the text in the response, for `Content-Language`.
    pub fn languages(&self) -> Vec<&'static str> {
        self.languages.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub async fn site(&self) -> Result<Arc<SiteRow>, AppError> {
        self.site
            .get_or_try_init(|| self.shared(&self.state.site.settings, site::load))
            .await
            .cloned()
    }

    /// A site-wide read from the snapshot kept between requests, or the database.
    async fn shared<T: Send + Sync + 'static>(
        &self,
        snapshot: &crate::cache::Snapshot<T>,
        load: fn(&mut crate::db::AnyConnection) -> Result<T, AppError>,
    ) -> Result<Arc<T>, AppError> {
        // The clock is read before the replica is chosen (as REST does):
        // the request's own, chosen when it began, cannot vouch for a
        // snapshot stamped after a write it may not have replayed.
        let (clock, ttl) = (&self.state.clock, self.state.snapshot_ttl());
        snapshot
            .get_or_read(clock, ttl, || async {
                self.db.reader_now().await.run(load).await
            })
            .await
    }

    /// The script the site's own texts (sections, footer, notices) are stored in.
    pub async fn site_script(&self) -> Result<TextScript, AppError> {
        Ok(stored_script(&self.site().await?.default_script))
    }

    pub async fn sections(&self) -> Result<Arc<SectionTree>, AppError> {
        self.sections
            .get_or_try_init(|| {
                self.shared(&self.state.site.sections, |conn| {
                    sections::all(conn).map(SectionTree::new)
                })
            })
            .await
            .cloned()
    }

    pub async fn notices(&self) -> Result<Arc<Vec<NoticeRow>>, AppError> {
        self.notices
            .get_or_try_init(|| self.shared(&self.state.site.notices, notices::all))
            .await
            .cloned()
    }

    /// A stored UTC time in the site's time zone (+08:00 for Asia/Shanghai).
    pub async fn local_time(&self, t: NaiveDateTime) -> Result<DateTime<FixedOffset>, AppError> {
        let tz: chrono_tz::Tz = self
            .site()
            .await?
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Shanghai);
        Ok(t.and_utc().with_timezone(&tz).fixed_offset())
    }

    /// `text`, stored in `stored`, as `target` asks.
    pub fn convert(&self, text: &str, stored: TextScript, target: Script) -> String {
        match target.target() {
            None => text.to_string(),
            Some(t) => self.state.converter.convert(text, stored, t).into_owned(),
        }
    }

    /// A headline, name, label or notice in `target`, whatever script it
    /// was stored in (the read model's rule, [`crate::read::Voice::line`]).
    pub fn line(&self, text: &str, target: Script) -> String {
        match target.target() {
            None => text.to_string(),
            Some(t) => self.state.converter.line(text, t).to_string(),
        }
    }

    /// Site-level text (section names, footer, notices) in `target`.
    pub async fn site_text(&self, text: &str, target: Script) -> Result<String, AppError> {
        Ok(self.line(text, target))
    }
}

/// Whether `credentials` may see the article at `now`: public articles to
/// all, others to their owner and to roles that read every draft.
pub fn can_read(credentials: &Credentials, now: NaiveDateTime, row: &ArticleRow) -> bool {
    viewer(credentials).sees(row, now)
}

/// The caller as the storage layer's visibility rule knows them.
pub fn viewer(credentials: &Credentials) -> Viewer {
    match credentials.staff() {
        Some(staff) => Viewer {
            author_id: policy::allows(staff.role, Action::WriteOwnDrafts).then_some(staff.user_id),
            sees_every_draft: policy::allows(staff.role, Action::ReadAnyDraft),
        },
        None => Viewer {
            author_id: None,
            sees_every_draft: false,
        },
    }
}

/// The stored script column read as the converter's type (the read model's rule).
pub use crate::read::stored_script;
