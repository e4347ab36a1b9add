//! The article lifecycle: which editorial step may follow which status, and
//! who may write an article in which status. Legal holds are not part of it:
//! a hold keeps an article from readers whatever its status, and refusing to
//! publish past a hold is the storage layer's check (the scheduler needs it
//! too).
//!
//! | status \ step | edit | submit | publish now | schedule | unpublish | delete | restore revision |
//! | --- | --- | --- | --- | --- | --- | --- | --- |
//! | draft | draft | submitted | published | scheduled | ✗ | deleted | draft |
//! | submitted | submitted | ✗ | published | scheduled | ✗ | deleted | submitted |
//! | scheduled | scheduled | ✗ | published | scheduled | draft | deleted | scheduled |
//! | published | published | ✗ | published | scheduled | draft | deleted | published |
//! | withdrawn (legacy) | withdrawn | ✗ | published | scheduled | ✗ | deleted | withdrawn |
//! | deleted | deleted | ✗ | ✗ | ✗ | ✗ | ✗ | deleted |
//!
//! A new article starts as [`NEW_ARTICLE`].

use chrono::NaiveDateTime;

use super::ArticleStatus;
use crate::error::AppError;

/// The status `createArticle` files a new article in.
pub const NEW_ARTICLE: ArticleStatus = ArticleStatus::Draft;

/// An editorial step on an existing article, one per mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Changes the content (`updateArticle`); the status stays.
    Edit,
    /// Hands a draft in for review (`submitArticle`).
    Submit,
    /// Makes it public now (`publishArticle` without a future time).
    PublishNow,
    /// Makes it go live by itself later (`publishArticle` with a future time).
    Schedule,
    /// Takes it back to draft (`unpublishArticle`).
    Unpublish,
    /// Deletes it, softly (`deleteArticle`).
    Delete,
    /// Makes an earlier revision's content current (`restoreRevision`); the status stays.
    RestoreRevision,
}

impl Step {
    /// Every step, for tables and tests.
    pub const ALL: [Step; 7] = [
        Step::Edit,
        Step::Submit,
        Step::PublishNow,
        Step::Schedule,
        Step::Unpublish,
        Step::Delete,
        Step::RestoreRevision,
    ];

    /// Publishing at `at` (absent: now) seen at `now`: a time still to come
    /// schedules, anything else publishes now.
    pub fn publishing(at: Option<NaiveDateTime>, now: NaiveDateTime) -> (Step, NaiveDateTime) {
        let when = at.unwrap_or(now);
        let step = if when > now {
            Step::Schedule
        } else {
            Step::PublishNow
        };
        (step, when)
    }

    /// The status after this step from `from`, or why it may not be taken.
    pub fn next(self, from: ArticleStatus) -> Result<ArticleStatus, Refusal> {
        use ArticleStatus::*;
        match (self, from) {
            (Step::Edit | Step::RestoreRevision, status) => Ok(status),
            (Step::Submit, Draft) => Ok(Submitted),
            (Step::Submit, other) => Err(Refusal::OnlyDraftsSubmit(other)),
            (Step::PublishNow | Step::Schedule, Deleted) => Err(Refusal::DeletedStaysUnpublished),
            (Step::PublishNow, _) => Ok(Published),
            (Step::Schedule, _) => Ok(Scheduled),
            (Step::Unpublish, Published | Scheduled) => Ok(Draft),
            (Step::Unpublish, other) => Err(Refusal::OnlyLiveUnpublish(other)),
            (Step::Delete, Deleted) => Err(Refusal::AlreadyDeleted),
            (Step::Delete, _) => Ok(Deleted),
        }
    }
}

/// Why a step may not follow an article's status. The text is the message
/// clients get with `CONFLICT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only drafts can be submitted; this article is {}", .0.as_str())]
    OnlyDraftsSubmit(ArticleStatus),
    #[error("a deleted article cannot be published")]
    DeletedStaysUnpublished,
    #[error(
        "only published or scheduled articles can be unpublished; this one is {}",
        .0.as_str()
    )]
    OnlyLiveUnpublish(ArticleStatus),
    #[error("the article is already deleted")]
    AlreadyDeleted,
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Conflict(refusal.to_string())
    }
}

/// Which articles a caller may write, from their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// Editors and admins: any article, in any status.
    AnyArticle,
    /// Reporters: only articles they own, while those are still theirs to
    /// work on (drafts and submitted drafts).
    OwnDrafts {
        /// The caller's account.
        user_id: i32,
    },
    /// Everyone else.
    Nobody,
}

impl Writer {
    /// Whether this writer may change an article owned by `owner_id` in `status`.
    pub fn may_write(self, owner_id: Option<i32>, status: ArticleStatus) -> bool {
        match self {
            Writer::AnyArticle => true,
            Writer::OwnDrafts { user_id } => owner_id == Some(user_id) && status.open_to_author(),
            Writer::Nobody => false,
        }
    }
}

impl ArticleStatus {
    /// Whether a reporter may still edit, submit and delete their own article
    /// in this status: until it is scheduled, published or deleted.
    pub fn open_to_author(self) -> bool {
        matches!(self, ArticleStatus::Draft | ArticleStatus::Submitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ArticleStatus::*;

    const STATUSES: [ArticleStatus; 6] =
        [Draft, Submitted, Scheduled, Published, Withdrawn, Deleted];

    /// The allowed cells of the table in the module doc; every other pair is refused.
    const ALLOWED: &[(ArticleStatus, Step, ArticleStatus)] = &[
        (Draft, Step::Edit, Draft),
        (Submitted, Step::Edit, Submitted),
        (Scheduled, Step::Edit, Scheduled),
        (Published, Step::Edit, Published),
        (Withdrawn, Step::Edit, Withdrawn),
        (Deleted, Step::Edit, Deleted),
        (Draft, Step::Submit, Submitted),
        (Draft, Step::PublishNow, Published),
        (Submitted, Step::PublishNow, Published),
        (Scheduled, Step::PublishNow, Published),
        (Published, Step::PublishNow, Published),
        (Withdrawn, Step::PublishNow, Published),
        (Draft, Step::Schedule, Scheduled),
        (Submitted, Step::Schedule, Scheduled),
        (Scheduled, Step::Schedule, Scheduled),
        (Published, Step::Schedule, Scheduled),
        (Withdrawn, Step::Schedule, Scheduled),
        (Scheduled, Step::Unpublish, Draft),
        (Published, Step::Unpublish, Draft),
        (Draft, Step::Delete, Deleted),
        (Submitted, Step::Delete, Deleted),
        (Scheduled, Step::Delete, Deleted),
        (Published, Step::Delete, Deleted),
        (Withdrawn, Step::Delete, Deleted),
        (Draft, Step::RestoreRevision, Draft),
        (Submitted, Step::RestoreRevision, Submitted),
        (Scheduled, Step::RestoreRevision, Scheduled),
        (Published, Step::RestoreRevision, Published),
        (Withdrawn, Step::RestoreRevision, Withdrawn),
        (Deleted, Step::RestoreRevision, Deleted),
    ];

    /// The refused cells and the refusal each gets.
    const REFUSED: &[(ArticleStatus, Step, Refusal)] = &[
        (
            Submitted,
            Step::Submit,
            Refusal::OnlyDraftsSubmit(Submitted),
        ),
        (
            Scheduled,
            Step::Submit,
            Refusal::OnlyDraftsSubmit(Scheduled),
        ),
        (
            Published,
            Step::Submit,
            Refusal::OnlyDraftsSubmit(Published),
        ),
        (
            Withdrawn,
            Step::Submit,
            Refusal::OnlyDraftsSubmit(Withdrawn),
        ),
        (Deleted, Step::Submit, Refusal::OnlyDraftsSubmit(Deleted)),
        (Deleted, Step::PublishNow, Refusal::DeletedStaysUnpublished),
        (Deleted, Step::Schedule, Refusal::DeletedStaysUnpublished),
        (Draft, Step::Unpublish, Refusal::OnlyLiveUnpublish(Draft)),
        (
            Submitted,
            Step::Unpublish,
            Refusal::OnlyLiveUnpublish(Submitted),
        ),
        (
            Withdrawn,
            Step::Unpublish,
            Refusal::OnlyLiveUnpublish(Withdrawn),
        ),
        (
            Deleted,
            Step::Unpublish,
            Refusal::OnlyLiveUnpublish(Deleted),
        ),
        (Deleted, Step::Delete, Refusal::AlreadyDeleted),
    ];

    #[test]
    fn every_allowed_step_leads_to_its_status() {
        for &(from, step, to) in ALLOWED {
            assert_eq!(step.next(from), Ok(to), "{step:?} from {from:?}");
        }
    }

    #[test]
    fn every_other_step_is_refused_with_its_reason() {
        for &(from, step, refusal) in REFUSED {
            assert_eq!(step.next(from), Err(refusal), "{step:?} from {from:?}");
        }
    }

    #[test]
    fn the_table_covers_every_status_and_step_once() {
        for from in STATUSES {
            for step in Step::ALL {
                let allowed = ALLOWED
                    .iter()
                    .filter(|c| c.0 == from && c.1 == step)
                    .count();
                let refused = REFUSED
                    .iter()
                    .filter(|c| c.0 == from && c.1 == step)
                    .count();
                assert_eq!(allowed + refused, 1, "{step:?} from {from:?}");
            }
        }
    }

    #[test]
    fn a_new_article_is_a_draft() {
        assert_eq!(NEW_ARTICLE, Draft);
    }

    #[test]
    fn refusals_read_as_the_api_has_always_said_them() {
        assert_eq!(
            Refusal::OnlyDraftsSubmit(Published).to_string(),
            "only drafts can be submitted; this article is published"
        );
        assert_eq!(
            Refusal::OnlyLiveUnpublish(Draft).to_string(),
            "only published or scheduled articles can be unpublished; this one is draft"
        );
        assert_eq!(
            Refusal::DeletedStaysUnpublished.to_string(),
            "a deleted article cannot be published"
        );
        assert_eq!(
            Refusal::AlreadyDeleted.to_string(),
            "the article is already deleted"
        );
        assert!(matches!(
            AppError::from(Refusal::AlreadyDeleted),
            AppError::Conflict(_)
        ));
    }

    #[test]
    fn a_future_time_schedules_and_any_other_publishes_now() {
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .map(|t| t.naive_utc())
            .expect("a valid instant");
        let later = now + chrono::Duration::seconds(1);
        let earlier = now - chrono::Duration::days(1);
        assert_eq!(Step::publishing(None, now), (Step::PublishNow, now));
        assert_eq!(Step::publishing(Some(now), now), (Step::PublishNow, now));
        assert_eq!(
            Step::publishing(Some(earlier), now),
            (Step::PublishNow, earlier)
        );
        assert_eq!(Step::publishing(Some(later), now), (Step::Schedule, later));
    }

    #[test]
    fn editors_write_anything_and_nobody_writes_nothing() {
        for status in STATUSES {
            assert!(Writer::AnyArticle.may_write(None, status));
            assert!(Writer::AnyArticle.may_write(Some(7), status));
            assert!(!Writer::Nobody.may_write(Some(7), status));
        }
    }

    #[test]
    fn reporters_write_only_their_own_drafts_and_submissions() {
        let reporter = Writer::OwnDrafts { user_id: 7 };
        for status in STATUSES {
            let theirs = matches!(status, Draft | Submitted);
            assert_eq!(reporter.may_write(Some(7), status), theirs, "{status:?}");
            assert!(!reporter.may_write(Some(8), status), "{status:?}");
            assert!(!reporter.may_write(None, status), "{status:?}");
        }
    }
}
