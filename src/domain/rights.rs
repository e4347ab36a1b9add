//! The rights of each role: one table, checked by every mutation and tested
//! cell by cell. Object-level rules (a reporter edits only their own drafts)
//! are applied where the object is loaded; storage applies the table to who
//! may see which article, so it lives here, below both.
//!
//! | action | reporter | editor | legal | admin | claimant | partner |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | create, edit own drafts, submit, delete own drafts | ✓ | ✓ | | ✓ | | |
//! | edit any article, publish, schedule, unpublish, delete any, restore a revision | | ✓ | | ✓ | | |
//! | read any draft (preview) | | ✓ | ✓ | ✓ | | |
//! | sections, sources, contributors, recommendation lists | | ✓ | | ✓ | | |
//! | copyright notice templates, withdraw and restore articles, takedown decisions | | | ✓ | ✓ | | |
//! | site settings, accounts, audit log | | | | ✓ | | |
//! | file takedown requests (claimants their own; legal on behalf of others) | | | ✓ | ✓ | ✓ | |
//! | file a counter-notice for the article's side | | ✓ | ✓ | ✓ | | |

use super::Role;

/// Something a caller may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create drafts; edit, submit and delete one's own drafts.
    WriteOwnDrafts,
    /// Edit, publish, schedule, unpublish or delete any article; restore revisions.
    EditAnyArticle,
    /// Read drafts, scheduled and withdrawn articles of anyone.
    ReadAnyDraft,
    /// Sections, sources, contributors and recommendation lists.
    Curate,
    /// Copyright notice templates.
    ManageNotices,
    /// Withdraw and restore articles; decide takedowns.
    Legal,
    /// Site settings.
    ManageSite,
    /// Read the audit log.
    ReadAudit,
    /// File takedown requests.
    FileTakedown,
    /// Answer an accepted takedown with a counter-notice.
    FileCounterNotice,
}

/// Whether `role` may do `action`.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Editor => matches!(
            action,
            WriteOwnDrafts | EditAnyArticle | ReadAnyDraft | Curate | FileCounterNotice
        ),
        Role::Reporter => matches!(action, WriteOwnDrafts),
        Role::Legal => matches!(
            action,
            ReadAnyDraft | ManageNotices | Legal | FileTakedown | FileCounterNotice
        ),
        Role::Claimant => matches!(action, FileTakedown),
        Role::Partner => false,
    }
}
