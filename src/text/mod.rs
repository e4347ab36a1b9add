//! Chinese text: the scraping artefact of legacy pages, simplified/traditional
//! conversion, and summaries that never cut inside a character or number.

pub mod artefact;
pub mod script;
mod summary;

pub use summary::summarize;
