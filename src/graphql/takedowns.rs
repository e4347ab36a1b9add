//! Takedown requests: a rights holder's notice (信息网络传播权保护条例 Art. 14),
//! the legal desk's decision, withdrawal everywhere at once, forwarding to
//! the article's side (Art. 15), counter-notice and restoration (Art. 16-17).
//! Each mutation checks the caller's right, parses its input and calls one
//! function of `services::takedowns`, which applies the case's rules
//! (`domain::takedown`).

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, FixedOffset, NaiveDateTime};

use super::articles::database_id;
use super::connection::id_connection;
use super::context::RequestContext;
use super::limits::page_size;
use crate::auth::policy::Action;
use crate::db::takedowns::{self, TakedownQuery, TakedownRow};
use crate::db::{articles, Database};
use crate::domain::legal_notices::{self, NoticeForm, Reason, TakedownNotice};
use crate::domain::takedown::Decision;
use crate::domain::{Role, TakedownState};
use crate::error::{AppError, GqlResultExt};
use crate::services::takedowns::{self as service, Filer};

/// A rights holder's notice. Every element the law asks for is required.
#[derive(Debug, Clone, InputObject)]
pub struct TakedownInput {
    /// The rights holder's name.
    pub claimant_name: Option<String>,
    /// Their organisation, if any.
    pub organisation: Option<String>,
    /// Phone number (a phone or an e-mail is required).
    pub contact_phone: Option<String>,
    /// E-mail address.
    pub contact_email: Option<String>,
    /// Postal address.
    pub contact_address: Option<String>,
    /// The works: our article ids (global or database ids).
    pub articles: Option<Vec<ID>>,
    /// Our pictures, by media id (the id in a picture's URL,
    /// `/media/{id}/1280.jpg`): withdrawing the request withholds each
    /// picture wherever it is shown.
    pub media: Option<Vec<ID>>,
    /// Or their URLs.
    pub urls: Option<Vec<String>>,
    /// The claimant's rights in the work.
    pub rights_statement: Option<String>,
    /// Links to preliminary evidence.
    pub evidence_links: Option<Vec<String>>,
    /// Why the material infringes.
    pub reason: Option<String>,
    /// The claimant states the notice is accurate and made in good faith.
    pub good_faith_statement: Option<bool>,
}

/// The article's side answering an accepted request.
#[derive(Debug, Clone, InputObject)]
pub struct CounterNoticeInput {
    /// Who answers: the outlet or person that supplied the work.
    pub name: String,
    /// Their phone or e-mail.
    pub contact: String,
    /// Their postal address.
    pub address: String,
    /// Why the work does not infringe (e.g. a reprint licence).
    pub statement: String,
    /// Links to the evidence (a licence, a contract).
    pub evidence_links: Option<Vec<String>>,
}

impl TakedownInput {
    /// The notice, with each id read as one of our articles.
    fn parse(self) -> Result<TakedownNotice, AppError> {
        let articles = self
            .articles
            .unwrap_or_default()
            .iter()
            .map(database_id)
            .collect();
        Ok(TakedownNotice::parse(NoticeForm {
            claimant_name: self.claimant_name,
            organisation: self.organisation,
            contact_phone: self.contact_phone,
            contact_email: self.contact_email,
            contact_address: self.contact_address,
            articles,
            media: self
                .media
                .unwrap_or_default()
                .into_iter()
                .map(|id| id.0)
                .collect(),
            urls: self.urls.unwrap_or_default(),
            rights_statement: self.rights_statement,
            evidence_links: self.evidence_links.unwrap_or_default(),
            reason: self.reason,
            good_faith_statement: self.good_faith_statement,
        })?)
    }
}

impl CounterNoticeInput {
    fn parse(self) -> Result<legal_notices::CounterNotice, AppError> {
        Ok(legal_notices::CounterNotice::parse(
            &self.name,
            &self.contact,
            &self.address,
            &self.statement,
            self.evidence_links.unwrap_or_default(),
        )?)
    }
}

/// Reads a request id (`TD-12`, a global id or a number).
fn request_id(id: &ID) -> Option<i32> {
    let s = id.as_str();
    s.strip_prefix("TD-")
        .unwrap_or(s)
        .parse()
        .ok()
        .filter(|n: &i32| *n > 0)
}

/// The request as the caller may see it: legal sees all, a claimant only
/// their own, the article's side those legal has looked at; anything else is
/// indistinguishable from a missing request.
fn visible(row: Option<TakedownRow>, rc: &RequestContext) -> Result<TakedownRow, AppError> {
    let staff = rc.credentials.require()?;
    match row {
        Some(r) if rc.credentials.may(Action::Legal) => Ok(r),
        Some(r) if staff.role == Role::Claimant && r.claimant_user_id == Some(staff.user_id) => {
            Ok(r)
        }
        Some(r)
            if rc.credentials.may(Action::FileCounterNotice)
                && r.state().is_ok_and(TakedownState::is_shown_to_article_side) =>
        {
            Ok(r)
        }
        _ => Err(AppError::NotFound),
    }
}

#[derive(Default)]
pub struct TakedownMutation;

impl TakedownMutation {
    /// Takes a legal decision on request `id` with `note` on its trail.
    async fn decide(
        ctx: &Context<'_>,
        id: ID,
        decision: Decision,
        note: String,
    ) -> Result<TakedownRequest> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::Legal).gql()?;
        let actor = rc.actor(staff);
        let id = request_id(&id).ok_or(AppError::NotFound).gql()?;
        let row = service::decide(&rc.db, actor, id, decision, note)
            .await
            .gql()?;
        Ok(TakedownRequest { row })
    }
}

#[Object]
impl TakedownMutation {
    /// Files a takedown notice: claimants for themselves, legal on behalf of a
    /// notice received by mail or phone. Each missing element is named in the
    /// error. A notice more than 30 days after publication is flagged `late`,
    /// not refused. Each account may file 20 an hour.
    async fn submit_takedown_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The notice, with every element the law asks for.")] input: TakedownInput,
    ) -> Result<TakedownRequest> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::FileTakedown).gql()?;
        let notice = input.parse().gql()?;
        let filer = Filer {
            actor: rc.actor(staff),
            user_id: staff.user_id,
            is_claimant: staff.role == Role::Claimant,
        };
        let row = service::submit(&rc.db, filer, notice, rc.now).await.gql()?;
        Ok(TakedownRequest { row })
    }

    /// Legal starts examining a request.
    async fn start_takedown_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request (`TD-12`, its global id or number).")] id: ID,
    ) -> Result<TakedownRequest> {
        Self::decide(ctx, id, Decision::StartReview, String::new()).await
    }

    /// Withdraws the articles at once while the request is under review
    /// ("may remove it at once"); the request stays UNDER_REVIEW.
    async fn withdraw_article_provisionally(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request (`TD-12`, its global id or number).")] id: ID,
    ) -> Result<TakedownRequest> {
        let note = "provisional withdrawal".to_string();
        Self::decide(ctx, id, Decision::WithdrawProvisionally, note).await
    }

    /// Upholds the request: the articles are withdrawn from every surface in
    /// this transaction and the notice is forwarded to their contributors and editor.
    async fn accept_takedown_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request (`TD-12`, its global id or number).")] id: ID,
        #[graphql(desc = "Why, for the trail.")] note: Option<String>,
    ) -> Result<TakedownRequest> {
        Self::decide(ctx, id, Decision::Accept, note.unwrap_or_default()).await
    }

    /// Turns the request down; provisionally withdrawn articles come back.
    async fn reject_takedown_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request (`TD-12`, its global id or number).")] id: ID,
        #[graphql(desc = "Why, told to the claimant; required.")] reason: String,
    ) -> Result<TakedownRequest> {
        let reason = Reason::parse(reason).map_err(AppError::from).gql()?;
        Self::decide(ctx, id, Decision::Reject, reason.into()).await
    }

    /// The article's side answers an accepted request (editors, legal).
    async fn file_counter_notice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request (`TD-12`, its global id or number).")] id: ID,
        #[graphql(desc = "The article's side's answer.")] input: CounterNoticeInput,
    ) -> Result<TakedownRequest> {
        let rc = RequestContext::of(ctx);
        let staff = rc
            .credentials
            .require_right(Action::FileCounterNotice)
            .gql()?;
        let answer = input.parse().gql()?;
        let actor = rc.actor(staff);
        let id = request_id(&id).ok_or(AppError::NotFound).gql()?;
        // The same rule as `visible`.
        let reads_unreviewed = rc.credentials.may(Action::Legal);
        let row = service::file_counter_notice(
            &rc.db,
            actor,
            staff.user_id,
            reads_unreviewed,
            id,
            answer,
        )
        .await
        .gql()?;
        Ok(TakedownRequest { row })
    }

    /// Legal decides a counter-notice: `restore` brings the articles back
    /// (RESTORED); otherwise they stay withdrawn (UPHELD).
    async fn decide_counter_notice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request (`TD-12`, its global id or number).")] id: ID,
        #[graphql(desc = "True: the counter-notice wins and this request's hold is released.")]
        restore: bool,
        #[graphql(desc = "Why, for the trail.")] note: Option<String>,
    ) -> Result<TakedownRequest> {
        let decision = if restore {
            Decision::Restore
        } else {
            Decision::Uphold
        };
        Self::decide(ctx, id, decision, note.unwrap_or_default()).await
    }
}

/// Narrows the request list.
#[derive(Debug, Default, InputObject)]
pub struct TakedownFilter {
    /// Only requests in this state.
    pub state: Option<TakedownState>,
    /// Only requests filed more than 30 days after publication (or only the others).
    pub late: Option<bool>,
    /// Open requests past their `respondBy`.
    pub overdue: Option<bool>,
}

impl TakedownFilter {
    /// The whole list this filter selects, newest first: only the requests
    /// of `claimant` when given, `overdue` judged at `at`.
    fn query(self, at: NaiveDateTime, claimant: Option<i32>) -> TakedownQuery {
        TakedownQuery {
            state: self.state,
            late: self.late,
            overdue: self.overdue,
            at,
            claimant_user_id: claimant,
            before_id: None,
        }
    }
}

/// Whose requests the caller may list: everyone's for legal (`None`), their
/// own for a claimant; anyone else is refused.
fn listed_claimant(rc: &RequestContext) -> Result<Option<i32>, AppError> {
    let staff = rc.credentials.require()?;
    if rc.credentials.may(Action::Legal) {
        Ok(None)
    } else if staff.role == Role::Claimant {
        Ok(Some(staff.user_id))
    } else {
        Err(AppError::Forbidden)
    }
}

/// The page of `whole` that follows the request `before_id` (from the
/// newest when absent): up to `first` requests.
async fn takedown_page(
    db: &Database,
    whole: TakedownQuery,
    first: i64,
    before_id: Option<i32>,
) -> Result<TakedownRequestConnection, AppError> {
    let q = TakedownQuery {
        before_id,
        ..whole.clone()
    };
    let rows = db
        .run(move |conn| takedowns::list(conn, &q, first + 1))
        .await?;
    Ok(TakedownRequestConnection::new(
        rows.into_iter()
            .map(|row| (row.id, TakedownRequest { row }))
            .collect(),
        first,
        before_id.is_some(),
        Arc::new(move |conn| takedowns::count(conn, &whole)),
    ))
}

#[derive(Default)]
pub struct TakedownQueryRoot;

#[Object]
impl TakedownQueryRoot {
    /// Requests, newest first: all for legal, their own for claimants.
    async fn takedown_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Narrow the list.")] filter: Option<TakedownFilter>,
        #[graphql(desc = "Page size, 1-100.", default = 20)] first: i32,
        #[graphql(desc = "`endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<TakedownRequestConnection> {
        let rc = RequestContext::of(ctx);
        let own_only = listed_claimant(rc).gql()?;
        let first = page_size(first, "first").gql()?;
        let before_id = TakedownRequestConnection::after(after.as_deref()).gql()?;
        let whole = filter.unwrap_or_default().query(rc.now, own_only);
        takedown_page(&rc.db, whole, first, before_id).await.gql()
    }

    /// One request; null when it does not exist or is not the caller's to see.
    async fn takedown_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request (`TD-12`, its global id or number).")] id: ID,
    ) -> Result<Option<TakedownRequest>> {
        let rc = RequestContext::of(ctx);
        rc.credentials.require().gql()?;
        let Some(id) = request_id(&id) else {
            return Ok(None);
        };
        let row = rc
            .db
            .run(move |conn| takedowns::by_id(conn, id))
            .await
            .gql()?;
        Ok(visible(row, rc).ok().map(|row| TakedownRequest { row }))
    }

    /// Articles withdrawn since `since`, so partners can delete their copies.
    async fn removed_articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Withdrawals at or after this time.")] since: DateTime<FixedOffset>,
        #[graphql(desc = "How many, 1-100, oldest first.", default = 100)] first: i32,
    ) -> Result<Vec<RemovedArticle>> {
        let rc = RequestContext::of(ctx);
        page_size(first, "first").gql()?;
        rc.tag(crate::domain::CacheKey::Removed);
        let since = crate::db::to_db_time(since.to_utc());
        let rows = rc
            .db
            .run(move |conn| articles::withdrawn_since(conn, since, first as i64))
            .await
            .gql()?;
        let mut out = Vec::with_capacity(rows.len());
        for t in rows {
            out.push(RemovedArticle::from_tombstone(
                &t,
                rc.local_time(t.withdrawn_at).await.gql()?,
            ));
        }
        Ok(out)
    }
}

/// What remains public of a withdrawn article: no title, no body.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovedArticle {
    /// The article's numeric id.
    pub database_id: i32,
    /// When it was withdrawn.
    pub withdrawn_at: DateTime<FixedOffset>,
    /// Why: `TAKEDOWN` for a rights holder's request.
    pub reason_code: String,
    /// The oldest request holding it (`TD-12`); see `requestReferences`.
    pub request_reference: Option<String>,
    /// Every request whose legal hold keeps it withdrawn, oldest first. The
    /// article comes back only when the last of them is released.
    pub request_references: Vec<String>,
}

impl RemovedArticle {
    pub fn from_tombstone(t: &articles::Tombstone, at: DateTime<FixedOffset>) -> Self {
        RemovedArticle {
            database_id: t.id,
            withdrawn_at: at,
            reason_code: if t.references.is_empty() {
                "WITHDRAWN".into()
            } else {
                "TAKEDOWN".into()
            },
            request_reference: t.references.first().cloned(),
            request_references: t.references.clone(),
        }
    }
}

id_connection!(
    /// A page of takedown requests, newest first.
    TakedownRequestConnection,
    TakedownRequestEdge,
    TakedownRequest,
    "TakedownRequest"
);

/// A takedown request with its trail.
#[derive(Clone)]
pub struct TakedownRequest {
    row: TakedownRow,
}

/// One step of a request's trail.
#[derive(SimpleObject)]
pub struct TakedownEvent {
    /// The role of whoever took the step (`claimant`, `legal`, `editor` …).
    pub actor_role: String,
    /// The state before (null for the filing).
    pub from_state: Option<TakedownState>,
    /// The state after.
    pub to_state: TakedownState,
    /// The decider's note or reason.
    pub note: String,
    /// Who this step was forwarded to (`contributor:劉玉`, `editor:付建`, `claimant:…`).
    pub forwarded_to: Vec<String>,
    /// The HTTP request that took the step (`X-Request-Id`).
    pub request_id: Option<String>,
    /// When.
    pub created_at: DateTime<FixedOffset>,
}

/// A counter-notice.
#[derive(SimpleObject)]
pub struct CounterNotice {
    /// Who answered for the article's side.
    pub name: String,
    /// Their phone or e-mail.
    pub contact: String,
    /// Their postal address.
    pub address: String,
    /// Why the work does not infringe.
    pub statement: String,
    /// When it was filed.
    pub filed_at: DateTime<FixedOffset>,
}

impl TakedownRequest {
    /// A claimant's contact detail, for those who may contact them.
    fn contact<'a>(&self, ctx: &Context<'_>, detail: Option<&'a str>) -> Option<&'a str> {
        let credentials = &RequestContext::of(ctx).credentials;
        let own = credentials
            .staff()
            .is_some_and(|s| self.row.claimant_user_id == Some(s.user_id));
        (own || credentials.may(Action::Legal))
            .then_some(detail)
            .flatten()
    }
}

/// A rights holder's takedown notice and what legal decided, with its trail.
#[Object]
impl TakedownRequest {
    /// Reference (`TD-12`); pass it as `id`.
    async fn id(&self) -> ID {
        ID(format!("TD-{}", self.row.id))
    }
    /// Where the request stands.
    async fn state(&self) -> Result<TakedownState> {
        self.row.state().gql()
    }
    /// The rights holder's name.
    async fn claimant_name(&self) -> &str {
        &self.row.claimant_name
    }
    /// Their organisation, if any.
    async fn organisation(&self) -> Option<&str> {
        self.row.organisation.as_deref()
    }
    /// The claimant's phone: shown to legal, admins and the claimant only
    /// (null for editors, who see the case without the contact details).
    async fn contact_phone(&self, ctx: &Context<'_>) -> Option<&str> {
        self.contact(ctx, self.row.contact_phone.as_deref())
    }
    /// The claimant's e-mail: legal, admins and the claimant only.
    async fn contact_email(&self, ctx: &Context<'_>) -> Option<&str> {
        self.contact(ctx, self.row.contact_email.as_deref())
    }
    /// The claimant's postal address: legal, admins and the claimant only.
    async fn contact_address(&self, ctx: &Context<'_>) -> Option<&str> {
        self.contact(ctx, Some(self.row.contact_address.as_str()))
    }
    /// The claimant's rights in the work.
    async fn rights_statement(&self) -> &str {
        &self.row.rights_statement
    }
    /// Links to preliminary evidence.
    async fn evidence_links(&self) -> Vec<String> {
        serde_json::from_str(&self.row.evidence_links).unwrap_or_default()
    }
    /// Why the material infringes, in the claimant's words.
    async fn reason(&self) -> &str {
        &self.row.reason
    }
    /// Filed more than 30 days after the article's publication (still reviewed).
    async fn late(&self) -> bool {
        self.row.late
    }
    /// Whether the articles were withdrawn while the request is under review.
    async fn provisionally_withdrawn(&self) -> bool {
        self.row.provisionally_withdrawn
    }
    /// When the notice was received.
    async fn received_at(&self, ctx: &Context<'_>) -> Result<DateTime<FixedOffset>> {
        RequestContext::of(ctx)
            .local_time(self.row.received_at)
            .await
            .gql()
    }
    /// When legal should have answered (24 h after receipt).
    async fn respond_by(&self, ctx: &Context<'_>) -> Result<DateTime<FixedOffset>> {
        RequestContext::of(ctx)
            .local_time(self.row.respond_by)
            .await
            .gql()
    }
    /// Still open and past `respondBy`.
    async fn overdue(&self, ctx: &Context<'_>) -> bool {
        self.row.state().is_ok_and(TakedownState::is_open)
            && self.row.respond_by < RequestContext::of(ctx).now
    }
    /// The targeted article ids, in the order given.
    async fn article_ids(&self, ctx: &Context<'_>) -> Result<Vec<i32>> {
        let id = self.row.id;
        RequestContext::of(ctx)
            .db
            .run(move |conn| takedowns::target_articles(conn, id))
            .await
            .gql()
    }
    /// The targeted pictures' media ids, in the order given.
    async fn media_ids(&self, ctx: &Context<'_>) -> Result<Vec<ID>> {
        let id = self.row.id;
        let ids = RequestContext::of(ctx)
            .db
            .run(move |conn| takedowns::target_media(conn, id))
            .await
            .gql()?;
        Ok(ids.into_iter().map(ID).collect())
    }
    /// The targeted URLs.
    async fn urls(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let id = self.row.id;
        let targets = RequestContext::of(ctx)
            .db
            .run(move |conn| takedowns::targets(conn, id))
            .await
            .gql()?;
        Ok(targets
            .into_iter()
            .filter_map(|t| match t {
                takedowns::Target::Url(u) => Some(u),
                _ => None,
            })
            .collect())
    }
    /// Everyone the notice was forwarded to on acceptance.
    async fn forwarded_to(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let events = self.events(ctx).await?;
        Ok(events
            .into_iter()
            .filter(|e| e.to_state == TakedownState::Accepted)
            .flat_map(|e| e.forwarded_to)
            .collect())
    }
    /// Every step, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<TakedownEvent>> {
        let rc = RequestContext::of(ctx);
        let id = self.row.id;
        let rows = rc
            .db
            .run(move |conn| takedowns::events(conn, id))
            .await
            .gql()?;
        let mut out = Vec::with_capacity(rows.len());
        for e in rows {
            out.push(TakedownEvent {
                actor_role: e.actor_role,
                from_state: e.from_state.and_then(|s| s.parse().ok()),
                to_state: e.to_state.parse().map_err(AppError::Internal).gql()?,
                note: e.note,
                forwarded_to: serde_json::from_str(&e.forwarded_to).unwrap_or_default(),
                request_id: e.request_id,
                created_at: rc.local_time(e.created_at).await.gql()?,
            });
        }
        Ok(out)
    }
    /// The counter-notice, once filed.
    async fn counter_notice(&self, ctx: &Context<'_>) -> Result<Option<CounterNotice>> {
        let rc = RequestContext::of(ctx);
        let id = self.row.id;
        match rc
            .db
            .run(move |conn| takedowns::counter_notice(conn, id))
            .await
            .gql()?
        {
            Some(c) => Ok(Some(CounterNotice {
                name: c.name,
                contact: c.contact,
                address: c.address,
                statement: c.statement,
                filed_at: rc.local_time(c.filed_at).await.gql()?,
            })),
            None => Ok(None),
        }
    }
}
