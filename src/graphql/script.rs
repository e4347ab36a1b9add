//! The script a response is written in (defined with the domain types, since
//! every surface chooses one).

pub use crate::domain::script::Script;
