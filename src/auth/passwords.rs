//! Password storage: argon2id with a random salt, in PHC string form.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::AppError;

/// Hashes a password for storage.
pub fn hash(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_accepts_only_its_password() {
        let stored = hash("correct horse battery staple").expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", &stored));
        assert!(!verify("Correct horse battery staple", &stored));
        assert!(!verify("anything", "not a hash"));
    }
}
