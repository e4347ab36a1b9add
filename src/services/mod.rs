//! What a mutation does, once its resolver has checked the caller's right
//! and parsed the input: one function per change, each one transaction.

pub mod articles;
pub mod takedowns;
