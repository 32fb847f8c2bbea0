//! Signed tokens (HS256 JWT) scoped by purpose: a `session` token signs a
//! person in, a `reset` token only sets a new password, and neither can stand in
//! for the other. Every token carries the user's token version: bumping it
//! revokes all of that user's tokens at once.

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Session,
    Reset,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: i64,
    pub ver: i32,
    pub purpose: Purpose,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

pub fn issue(
    secret: &SecretString,
    user_id: i64,
    version: i32,
    purpose: Purpose,
    life: Duration,
) -> String {
    let now = Utc::now();
    let claims = Claims {
        sub: user_id,
        ver: version,
        purpose,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        iat: now.timestamp(),
        exp: (now + life).timestamp(),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )
    .unwrap_or_default()
}

/// The claims of a valid, unexpired token of the given purpose.
pub fn verify(secret: &SecretString, token: &str, purpose: Purpose) -> Option<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp"]);
    let data = decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.expose_secret().as_bytes()),
        &v,
    )
    .ok()?;
    (data.claims.purpose == purpose).then_some(data.claims)
}

/// The CSRF token of a session: an HMAC of its id, so it needs no storage.
pub fn csrf_for(secret: &SecretString, jti: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(b"csrf:");
    mac.update(jti.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}
