//! Chinese text: the scraping artefact of legacy pages, simplified/traditional
//! conversion, summaries that never cut inside a character or number, and
//! escaping for HTML and XML.

pub mod artefact;
pub mod markup;
pub mod script;
mod summary;

pub use summary::summarize;
