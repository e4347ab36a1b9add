//! Domain types that can only hold valid values: handlers and the importer
//! receive parsed values, never raw strings to check later.

pub mod cache_key;
mod enums;
pub mod rights;
pub mod script;
mod slug;

pub use cache_key::CacheKey;
pub use enums::{ArticleStatus, CreditRole, NoticeKind, Role, SectionKind, TakedownState};
pub use slug::{candidates as slug_candidates, first_free, slugify, Slug};
