//! What each role may do: the table in [`crate::domain::rights`], which
//! storage applies too (who may see which article).

pub use crate::domain::rights::{allows, Action};
