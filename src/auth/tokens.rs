//! JWT minting and verification. Only this module decodes token headers.

use std::collections::HashSet;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::Role;

/// Why a token was refused. The reason is logged, never sent to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token refused: {0}")]
    Rejected(&'static str),
    #[error("token refused: {0}")]
    Invalid(String),
    #[error("the account store is unavailable")]
    Unavailable,
}

impl TokenError {
    /// The reason as a metric's label: a fixed text, never the token.
    pub fn label(&self) -> &'static str {
        match self {
            TokenError::Rejected(reason) => reason,
            TokenError::Invalid(_) => "invalid",
            TokenError::Unavailable => "unavailable",
        }
    }
}

/// The claims newsdesk issues and requires.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: Audience,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The issue time in microseconds since the epoch, set by newsdesk on
    /// the tokens it signs. `iat` is whole seconds (RFC 7519 NumericDate as
    /// most libraries write it), which cannot order a token against an
    /// account's cut-off taken in the same second; see [`Claims::issued_by`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_us: Option<i64>,
}

impl Claims {
    /// Whether the token was issued after `cutoff` (an account's last "log
    /// out everywhere" or role change, stored to the microsecond), so it may
    /// still be used.
    ///
    /// With `iat_us` the comparison is exact: a token issued at or before
    /// the cut-off is refused, one issued a moment after it (a login right
    /// after "log out everywhere") is accepted. A token signed by another
    /// service has only the whole-second `iat`: it counts as issued after
    /// the cut-off only from the next whole second on. A token from the
    /// cut-off's own second cannot be placed before or after it, and is
    /// refused rather than risk keeping one issued before the cut-off.
    pub fn issued_after(&self, cutoff: chrono::NaiveDateTime) -> bool {
        let cutoff = cutoff.and_utc();
        match self.iat_us {
            Some(micros) => micros > cutoff.timestamp_micros(),
            None => self.iat > cutoff.timestamp(),
        }
    }
}

/// `aud` may be one string or a list (RFC 7519 §4.1.3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The verification (and, with a shared secret, signing) keys.
#[derive(Clone)]
pub struct TokenKeys {
    algorithm: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    pub issuer: String,
    pub audience: String,
    pub max_lifetime: Duration,
    pub leeway: u64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("max_lifetime", &self.max_lifetime)
            .finish_non_exhaustive()
    }
}

/// Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

impl TokenKeys {
    /// Keys for a shared HS256 secret: newsdesk both signs and verifies.
    pub fn hs256(
        secret: &[u8],
        issuer: &str,
        audience: &str,
        max_lifetime: Duration,
    ) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "must be at least {MIN_SECRET_BYTES} bytes, got {}",
                secret.len()
            ));
        }
        Ok(TokenKeys {
            algorithm: Algorithm::HS256,
            decoding: DecodingKey::from_secret(secret).map_err(|e| e.to_string())?,
            encoding: Some(EncodingKey::from_secret(secret).map_err(|e| e.to_string())?),
            issuer: issuer.into(),
            audience: audience.into(),
            max_lifetime,
            leeway: 30,
        })
    }

    /// Keys for tokens signed elsewhere (EdDSA or RS256), verified with a public key in PEM.
    pub fn public_key(
        algorithm: Algorithm,
        pem: &[u8],
        issuer: &str,
        audience: &str,
        max_lifetime: Duration,
    ) -> Result<Self, String> {
        let decoding = match algorithm {
            Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
            Algorithm::RS256 => DecodingKey::from_rsa_pem(pem),
            other => {
                return Err(format!(
                    "{other:?} is not offered; use HS256, EdDSA or RS256"
                ))
            }
        }
        .map_err(|e| format!("not a usable public key: {e}"))?;
        Ok(TokenKeys {
            algorithm,
            decoding,
            encoding: None,
            issuer: issuer.into(),
            audience: audience.into(),
            max_lifetime,
            leeway: 30,
        })
    }

    /// Whether newsdesk can sign tokens itself (HS256).
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    /// A signed access token for `sub` with `role`, valid for `ttl`.
    pub fn mint(&self, sub: &str, role: Role, ttl: Duration) -> Result<(String, Claims), String> {
        let key = self
            .encoding
            .as_ref()
            .ok_or("tokens are signed by another service (no NEWSDESK_JWT_SECRET)")?;
        if ttl > self.max_lifetime {
            return Err(format!(
                "a token may live at most {} s (NEWSDESK_JWT_MAX_LIFETIME_SECS)",
                self.max_lifetime.as_secs()
            ));
        }
        let issued = chrono::Utc::now();
        let now = issued.timestamp();
        let claims = Claims {
            sub: sub.into(),
            role: role.as_str().into(),
            iat: now,
            exp: now + ttl.as_secs() as i64,
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: None,
            iat_us: Some(issued.timestamp_micros()),
        };
        let mut header = Header::new(self.algorithm);
        header.typ = Some("JWT".into());
        let token = encode(&header, &claims, key).map_err(|e| e.to_string())?;
        Ok((token, claims))
    }

    /// Verifies signature, algorithm, header and claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        check_header(token)?;
        let mut validation = Validation::new(self.algorithm);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.required_spec_claims =
            HashSet::from(["exp", "iss", "aud", "sub"].map(String::from));
        let claims = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?
            .claims;
        let now = chrono::Utc::now().timestamp();
        if claims.iat > now + self.leeway as i64 {
            return Err(TokenError::Rejected("issued in the future"));
        }
        if claims.exp - claims.iat > self.max_lifetime.as_secs() as i64 {
            return Err(TokenError::Rejected("lifetime longer than allowed"));
        }
        if claims.jti.is_empty() || claims.sub.is_empty() {
            return Err(TokenError::Rejected("empty jti or sub"));
        }
        if claims
            .iat_us
            .is_some_and(|micros| micros.div_euclid(1_000_000) != claims.iat)
        {
            return Err(TokenError::Rejected("iat_us disagrees with iat"));
        }
        Ok(claims)
    }
}

/// Refuses header parameters we do not implement: `crit` (RFC 7515 §4.1.11
/// says a recipient must reject what it does not understand), key references
/// (`kid`, `jku`, `jwk`, `x5u`, `x5c`) and token types other than an access token.
fn check_header(token: &str) -> Result<(), TokenError> {
    let encoded = token
        .split('.')
        .next()
        .ok_or(TokenError::Rejected("malformed"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| TokenError::Rejected("malformed header"))?;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| TokenError::Rejected("malformed header"))?;
    let object = header
        .as_object()
        .ok_or(TokenError::Rejected("malformed header"))?;
    if object.contains_key("crit") {
        return Err(TokenError::Rejected("crit header"));
    }
    // Our keys come from configuration only and have no id: a token naming a
    // key, or where to fetch one, was not made for us.
    for pointer in ["kid", "jku", "jwk", "x5u", "x5c"] {
        if object.contains_key(pointer) {
            return Err(TokenError::Rejected("key reference in header"));
        }
    }
    match object.get("typ").map(|t| t.as_str()) {
        None | Some(Some("JWT" | "jwt" | "at+jwt" | "application/at+jwt")) => Ok(()),
        _ => Err(TokenError::Rejected("not an access token")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::hs256(
            &[7u8; 32],
            "newsdesk",
            "newsdesk-editorial",
            Duration::from_secs(43_200),
        )
        .expect("keys")
    }

    #[test]
    fn minted_tokens_verify() {
        let keys = keys();
        let (token, claims) = keys
            .mint("ed", Role::Editor, Duration::from_secs(900))
            .expect("mint");
        assert_eq!(keys.verify(&token), Ok(claims));
    }

    #[test]
    fn a_token_from_the_cutoff_second_is_placed_by_its_microseconds() {
        let at = |micros: i64| {
            chrono::DateTime::from_timestamp_micros(micros)
                .expect("instant")
                .naive_utc()
        };
        let (_, mut claims) = keys()
            .mint("ed", Role::Editor, Duration::from_secs(900))
            .expect("mint");
        claims.iat = 1_000;
        claims.iat_us = Some(1_000_400_000);
        assert!(!claims.issued_after(at(1_000_400_000)), "same instant");
        assert!(!claims.issued_after(at(1_000_900_000)), "cut-off later");
        assert!(claims.issued_after(at(1_000_100_000)), "cut-off earlier");
        // Whole seconds only: the cut-off's second is refused whole.
        claims.iat_us = None;
        assert!(!claims.issued_after(at(1_000_100_000)));
        assert!(claims.issued_after(at(999_999_999)));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::hs256(&[1u8; 16], "i", "a", Duration::from_secs(60)).is_err());
        assert!(TokenKeys::hs256(b"", "i", "a", Duration::from_secs(60)).is_err());
    }

    #[test]
    fn over_long_tokens_are_not_minted() {
        assert!(keys()
            .mint("ed", Role::Editor, Duration::from_secs(86_400))
            .is_err());
    }
}
