//! The takedown case: which decision may follow which state, and what each
//! does to the request's legal holds and to who hears of it.
//!
//! | state (provisionally withdrawn) \ decision | review | withdraw provisionally | accept | reject | counter-notice | restore | uphold |
//! | --- | --- | --- | --- | --- | --- | --- | --- |
//! | received | under review | ✗ | accepted, place | rejected | ✗ | ✗ | ✗ |
//! | under review (no) | ✗ | under review, place | accepted, place | rejected | ✗ | ✗ | ✗ |
//! | under review (yes) | ✗ | ✗ already | accepted, place | rejected, release | ✗ | ✗ | ✗ |
//! | accepted | ✗ | ✗ | ✗ | ✗ | counter-notice | ✗ | ✗ |
//! | counter-notice | ✗ | ✗ | ✗ | ✗ | ✗ | restored, release | upheld |
//! | rejected, restored, upheld | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
//!
//! A hold is what withdrawal is: placing the request's hold takes its
//! articles off every public surface, releasing it brings an article back
//! only when no other request holds it and its editorial status is public.
//! No decision changes an article's editorial status.

use chrono::{Duration, NaiveDateTime};

use super::TakedownState;
use crate::error::AppError;

/// The state a request is filed in.
pub const FILED: TakedownState = TakedownState::Received;

/// Days after publication within which requests are expected (the site's statement).
pub const WINDOW_DAYS: i64 = 30;

/// Hours legal has to answer a new request.
pub const RESPOND_HOURS: i64 = 24;

/// Whether a request filed at `filed_at` against an article published at
/// `published_at` came after the window: it is flagged, and still reviewed.
pub fn is_late(published_at: Option<NaiveDateTime>, filed_at: NaiveDateTime) -> bool {
    published_at.is_some_and(|p| filed_at - p > Duration::days(WINDOW_DAYS))
}

/// When legal should have answered a request received at `received_at`.
pub fn respond_by(received_at: NaiveDateTime) -> NaiveDateTime {
    received_at + Duration::hours(RESPOND_HOURS)
}

impl TakedownState {
    /// The states in which a request still waits for an answer.
    pub const OPEN: [TakedownState; 3] = [
        TakedownState::Received,
        TakedownState::UnderReview,
        TakedownState::CounterNotice,
    ];

    /// Whether the request still waits for an answer (and so can be overdue).
    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// Whether reaching this state is a decision on the request (it records
    /// when the request was decided).
    pub fn is_decided(self) -> bool {
        !self.is_open()
    }

    /// Whether the article's side (editors answering with a counter-notice)
    /// may see a request in this state: once legal has looked at it.
    pub fn is_shown_to_article_side(self) -> bool {
        self != TakedownState::Received
    }
}

/// Where a case stands, as far as its rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub state: TakedownState,
    /// Legal withdrew the articles while reviewing the request.
    pub provisionally_withdrawn: bool,
}

/// What legal or the article's side does with a request, one per mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// `startTakedownReview`.
    StartReview,
    /// `withdrawArticleProvisionally`: withdraw at once, keep reviewing.
    WithdrawProvisionally,
    /// `acceptTakedownRequest`.
    Accept,
    /// `rejectTakedownRequest`.
    Reject,
    /// `fileCounterNotice`: the article's side answers an accepted request.
    FileCounterNotice,
    /// `decideCounterNotice(restore: true)`.
    Restore,
    /// `decideCounterNotice(restore: false)`.
    Uphold,
}

/// What a decision does to the request's holds on its articles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// Nothing.
    Keep,
    /// Places the request's hold on each of its articles (again is a no-op).
    Place,
    /// Releases the request's holds; other requests' holds stay.
    Release,
}

/// Who a step is forwarded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// Nobody.
    Nobody,
    /// The articles' contributors and responsible editor (Art. 15).
    ArticleSide,
    /// The rights holder (Art. 17).
    Claimant,
}

/// One allowed step of a case: the state change and what comes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: TakedownState,
    pub to: TakedownState,
    pub holds: Holds,
    /// The provisional-withdrawal flag after the step.
    pub provisionally_withdrawn: bool,
    pub forward: Forward,
}

impl Decision {
    /// Every decision, for tables and tests.
    pub const ALL: [Decision; 7] = [
        Decision::StartReview,
        Decision::WithdrawProvisionally,
        Decision::Accept,
        Decision::Reject,
        Decision::FileCounterNotice,
        Decision::Restore,
        Decision::Uphold,
    ];

    /// The state this decision leads to.
    pub fn target(self) -> TakedownState {
        match self {
            Decision::StartReview | Decision::WithdrawProvisionally => TakedownState::UnderReview,
            Decision::Accept => TakedownState::Accepted,
            Decision::Reject => TakedownState::Rejected,
            Decision::FileCounterNotice => TakedownState::CounterNotice,
            Decision::Restore => TakedownState::Restored,
            Decision::Uphold => TakedownState::Upheld,
        }
    }

    /// What taking this decision on `case` does, or why it may not be taken.
    pub fn take(self, case: Case) -> Result<Transition, Refusal> {
        use TakedownState::*;
        let from = case.state;
        let step = |holds, provisionally_withdrawn, forward| Transition {
            from,
            to: self.target(),
            holds,
            provisionally_withdrawn,
            forward,
        };
        let unchanged = case.provisionally_withdrawn;
        match (self, from) {
            (Decision::StartReview, Received) => Ok(step(Holds::Keep, unchanged, Forward::Nobody)),
            (Decision::WithdrawProvisionally, UnderReview) if case.provisionally_withdrawn => {
                Err(Refusal::AlreadyWithdrawn)
            }
            (Decision::WithdrawProvisionally, UnderReview) => {
                Ok(step(Holds::Place, true, Forward::Nobody))
            }
            (Decision::Accept, Received | UnderReview) => {
                Ok(step(Holds::Place, false, Forward::ArticleSide))
            }
            // Only a provisional withdrawal put holds in place to undo.
            (Decision::Reject, Received | UnderReview) if case.provisionally_withdrawn => {
                Ok(step(Holds::Release, false, Forward::Nobody))
            }
            (Decision::Reject, Received | UnderReview) => {
                Ok(step(Holds::Keep, false, Forward::Nobody))
            }
            (Decision::FileCounterNotice, Accepted) => {
                Ok(step(Holds::Keep, unchanged, Forward::Claimant))
            }
            (Decision::FileCounterNotice, other) => Err(Refusal::AnswersOnlyAccepted(other)),
            (Decision::Restore, CounterNotice) => {
                Ok(step(Holds::Release, unchanged, Forward::Nobody))
            }
            (Decision::Uphold, CounterNotice) => Ok(step(Holds::Keep, unchanged, Forward::Nobody)),
            (decision, from) => Err(Refusal::WrongState {
                from,
                to: decision.target(),
            }),
        }
    }
}

/// Why a decision may not be taken on a case. The text is the message
/// clients get with `CONFLICT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a request that is {} cannot become {}", .from.as_str(), .to.as_str())]
    WrongState {
        from: TakedownState,
        to: TakedownState,
    },
    #[error("the articles are already withdrawn provisionally")]
    AlreadyWithdrawn,
    #[error(
        "a counter-notice answers an accepted request; this one is {}",
        .0.as_str()
    )]
    AnswersOnlyAccepted(TakedownState),
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Conflict(refusal.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use TakedownState::*;

    const STATES: [TakedownState; 7] = [
        Received,
        UnderReview,
        Accepted,
        Rejected,
        CounterNotice,
        Restored,
        Upheld,
    ];

    fn case(state: TakedownState, provisionally_withdrawn: bool) -> Case {
        Case {
            state,
            provisionally_withdrawn,
        }
    }

    /// Every case a request can be in: the flag is set only under review.
    fn reachable() -> Vec<Case> {
        let mut cases: Vec<Case> = STATES.iter().map(|s| case(*s, false)).collect();
        cases.push(case(UnderReview, true));
        cases
    }

    fn to(
        from: TakedownState,
        to: TakedownState,
        holds: Holds,
        provisionally_withdrawn: bool,
        forward: Forward,
    ) -> Transition {
        Transition {
            from,
            to,
            holds,
            provisionally_withdrawn,
            forward,
        }
    }

    /// The allowed cells of the table in the module doc.
    fn allowed() -> Vec<(Case, Decision, Transition)> {
        use Forward::{ArticleSide, Claimant, Nobody};
        use Holds::{Keep, Place, Release};
        vec![
            (
                case(Received, false),
                StartReview,
                to(Received, UnderReview, Keep, false, Nobody),
            ),
            (
                case(Received, false),
                Accept,
                to(Received, Accepted, Place, false, ArticleSide),
            ),
            (
                case(Received, false),
                Reject,
                to(Received, Rejected, Keep, false, Nobody),
            ),
            (
                case(UnderReview, false),
                WithdrawProvisionally,
                to(UnderReview, UnderReview, Place, true, Nobody),
            ),
            (
                case(UnderReview, false),
                Accept,
                to(UnderReview, Accepted, Place, false, ArticleSide),
            ),
            (
                case(UnderReview, false),
                Reject,
                to(UnderReview, Rejected, Keep, false, Nobody),
            ),
            (
                case(UnderReview, true),
                Accept,
                to(UnderReview, Accepted, Place, false, ArticleSide),
            ),
            (
                case(UnderReview, true),
                Reject,
                to(UnderReview, Rejected, Release, false, Nobody),
            ),
            (
                case(Accepted, false),
                FileCounterNotice,
                to(Accepted, CounterNotice, Keep, false, Claimant),
            ),
            (
                case(CounterNotice, false),
                Restore,
                to(CounterNotice, Restored, Release, false, Nobody),
            ),
            (
                case(CounterNotice, false),
                Uphold,
                to(CounterNotice, Upheld, Keep, false, Nobody),
            ),
        ]
    }

    /// The refusal a disallowed cell gets.
    fn refusal(case: Case, decision: Decision) -> Refusal {
        match decision {
            WithdrawProvisionally if case == self::case(UnderReview, true) => {
                Refusal::AlreadyWithdrawn
            }
            FileCounterNotice => Refusal::AnswersOnlyAccepted(case.state),
            other => Refusal::WrongState {
                from: case.state,
                to: other.target(),
            },
        }
    }

    #[test]
    fn every_allowed_decision_makes_its_transition() {
        for (case, decision, transition) in allowed() {
            assert_eq!(
                decision.take(case),
                Ok(transition),
                "{decision:?} on {case:?}"
            );
        }
    }

    #[test]
    fn every_other_decision_is_refused_with_its_reason() {
        let allowed = allowed();
        let mut refused = 0;
        for case in reachable() {
            for decision in Decision::ALL {
                if allowed.iter().any(|(c, d, _)| *c == case && *d == decision) {
                    continue;
                }
                refused += 1;
                assert_eq!(
                    decision.take(case),
                    Err(refusal(case, decision)),
                    "{decision:?} on {case:?}"
                );
            }
        }
        assert_eq!(refused, 8 * 7 - allowed.len());
    }

    #[test]
    fn ended_requests_take_no_decision() {
        for state in [Rejected, Restored, Upheld] {
            for decision in Decision::ALL {
                assert!(
                    decision.take(case(state, false)).is_err(),
                    "{decision:?} on {state:?}"
                );
            }
        }
    }

    #[test]
    fn only_rejecting_a_provisional_withdrawal_and_restoring_release_holds() {
        let releasing: Vec<(Case, Decision)> = allowed()
            .into_iter()
            .filter(|(_, _, t)| t.holds == Holds::Release)
            .map(|(c, d, _)| (c, d))
            .collect();
        assert_eq!(
            releasing,
            vec![
                (case(UnderReview, true), Reject),
                (case(CounterNotice, false), Restore)
            ]
        );
    }

    #[test]
    fn a_request_is_filed_received_and_open_until_decided() {
        assert_eq!(FILED, Received);
        for state in STATES {
            let open = matches!(state, Received | UnderReview | CounterNotice);
            assert_eq!(state.is_open(), open, "{state:?}");
            assert_eq!(state.is_decided(), !open, "{state:?}");
        }
    }

    #[test]
    fn a_request_more_than_30_days_after_publication_is_late() {
        let published = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .map(|t| t.naive_utc())
            .expect("a valid instant");
        let window = Duration::days(WINDOW_DAYS);
        assert!(!is_late(Some(published), published + window));
        assert!(is_late(
            Some(published),
            published + window + Duration::seconds(1)
        ));
        assert!(!is_late(None, published + window * 2));
        assert_eq!(respond_by(published), published + Duration::hours(24));
    }

    #[test]
    fn the_article_side_sees_requests_once_legal_has_looked() {
        for state in STATES {
            assert_eq!(
                state.is_shown_to_article_side(),
                state != Received,
                "{state:?}"
            );
        }
    }

    #[test]
    fn refusals_read_as_the_api_has_always_said_them() {
        assert_eq!(
            Refusal::WrongState {
                from: Received,
                to: UnderReview
            }
            .to_string(),
            "a request that is received cannot become under_review"
        );
        assert_eq!(
            Refusal::AlreadyWithdrawn.to_string(),
            "the articles are already withdrawn provisionally"
        );
        assert_eq!(
            Refusal::AnswersOnlyAccepted(CounterNotice).to_string(),
            "a counter-notice answers an accepted request; this one is counter_notice"
        );
        assert!(matches!(
            AppError::from(Refusal::AlreadyWithdrawn),
            AppError::Conflict(_)
        ));
    }
}
