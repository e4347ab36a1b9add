use std::str::FromStr;

/// Generates the stored-text mapping of a plain enum: `as_str` gives the value
/// kept in the database, `FromStr` reads it back.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The value stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} {other:?}", stringify!($name))),
                }
            }
        }
    };
}

stored_enum! {
    /// What a person did for an article.
    CreditRole {
        /// 記者: wrote the story.
        Reporter => "reporter",
        /// 通訊員: a correspondent outside the newsroom.
        Correspondent => "correspondent",
        /// 攝影: took the pictures.
        Photographer => "photographer",
        /// 編輯: the responsible editor.
        Editor => "editor",
    }
}

stored_enum! {
    /// Which part of the site's copyright statement a notice template is.
    NoticeKind {
        /// Terms for the site's own (original) works: credit source and author when reprinting.
        Original => "original",
        /// Terms for works reprinted from other media.
        Reprint => "reprint",
        /// How rights holders ask for removal, and within how many days.
        Removal => "removal",
    }
}

stored_enum! {
    /// Whether a section is about a subject or a place.
    SectionKind {
        /// A subject channel (金融, 證券 …).
        Topic => "topic",
        /// A regional channel (臨沂 …).
        Region => "region",
    }
}

stored_enum! {
    /// What an account may do; see `auth::policy` for the rights of each.
    Role {
        /// Files drafts and edits their own.
        Reporter => "reporter",
        /// Edits, schedules and publishes anything; curates sections and lists.
        Editor => "editor",
        /// Takedown decisions, copyright notices, withdrawing and restoring.
        Legal => "legal",
        /// Everything, plus accounts and site settings.
        Admin => "admin",
        /// A rights holder filing takedown requests.
        Claimant => "claimant",
        /// A syndication partner.
        Partner => "partner",
    }
}

impl Role {
    /// Every role, for tables and tests.
    pub const ALL: [Role; 6] = [
        Role::Reporter,
        Role::Editor,
        Role::Legal,
        Role::Admin,
        Role::Claimant,
        Role::Partner,
    ];

    /// Reads a role name in any letter case (`editor`, `EDITOR`).
    pub fn parse_loose(value: &str) -> Result<Role, String> {
        value.trim().to_ascii_lowercase().parse()
    }
}

stored_enum! {
    /// Where a takedown request stands.
    TakedownState {
        /// Filed; nobody has looked at it yet.
        Received => "received",
        /// Legal is examining it (the article may be withdrawn provisionally).
        UnderReview => "under_review",
        /// Upheld: the articles are withdrawn and the notice forwarded.
        Accepted => "accepted",
        /// Turned down, with a reason.
        Rejected => "rejected",
        /// The article's side answered with a counter-notice.
        CounterNotice => "counter_notice",
        /// The counter-notice won: the articles are back.
        Restored => "restored",
        /// The counter-notice lost: the articles stay withdrawn.
        Upheld => "upheld",
    }
}

stored_enum! {
    /// Where an article is in its life.
    ArticleStatus {
        /// Being written; only its author and editors see it.
        Draft => "draft",
        /// Handed in for review.
        Submitted => "submitted",
        /// Will go live by itself at its publish time.
        Scheduled => "scheduled",
        /// Public.
        Published => "published",
        /// No longer used: a takedown places a legal hold and leaves the
        /// status alone (see `removedArticles`).
        #[graphql(deprecation = "A takedown places a legal hold and keeps the editorial status; see removedArticles.")]
        Withdrawn => "withdrawn",
        /// Deleted by the newsroom (soft).
        Deleted => "deleted",
    }
}

impl ArticleStatus {
    /// Whether readers may see an article in this status once its publish
    /// time has come (and no legal hold is active).
    pub fn is_live(self) -> bool {
        matches!(self, ArticleStatus::Published | ArticleStatus::Scheduled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_read_back() {
        for status in [
            ArticleStatus::Draft,
            ArticleStatus::Submitted,
            ArticleStatus::Scheduled,
            ArticleStatus::Published,
            ArticleStatus::Withdrawn,
            ArticleStatus::Deleted,
        ] {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert!("PUBLISHED".parse::<ArticleStatus>().is_err());
    }
}
