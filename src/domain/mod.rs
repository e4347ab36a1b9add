//! Domain types that can only hold valid values, and the rules of the
//! editorial and legal processes as plain tables: handlers and the importer
//! receive parsed values, never raw strings to check later.

mod article_text;
pub mod cache_key;
mod enums;
mod input_error;
pub mod legal_notices;
pub mod lifecycle;
pub mod rights;
pub mod script;
mod slug;
pub mod takedown;

pub use article_text::{ArticleBody, BodyGiven, Headline, PersonName, SeoText, Summary, BLOCKS};
pub use cache_key::CacheKey;
pub use enums::{ArticleStatus, CreditRole, NoticeKind, Role, SectionKind, TakedownState};
pub use input_error::{check_absolute_url, InvalidText, MissingElements};
/// Whether `id` has the shape of a media id: the first 24 hex digits (lower
/// case) of the SHA-256 of a kept picture.
pub fn is_media_id(id: &str) -> bool {
    id.len() == 24
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub use slug::{candidates as slug_candidates, first_free, slugify, Slug};
