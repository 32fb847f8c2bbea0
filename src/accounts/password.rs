//! Password and PIN hashing with argon2id, off the async executor.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use crate::error::{AppError, AppResult};

pub async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of nothing, verified against on unknown logins so that timing does
/// not reveal which logins exist.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2xfW2yHGQ8ZcV0Zs9vPZ5J4D8OPx9YqVvjbfyWh0j2s";

/// Checks a new secret: a 6-digit PIN for learners who choose one, or a
/// password of at least 8 characters.
pub fn check_strength(secret: &str, pin: bool) -> Result<(), String> {
    if pin {
        if secret.len() == 6 && secret.bytes().all(|b| b.is_ascii_digit()) {
            if secret.bytes().all(|b| b == secret.as_bytes()[0])
                || "0123456789".contains(secret)
                || "9876543210".contains(secret)
            {
                return Err("the PIN is too easy to guess (no 111111 or 123456)".into());
            }
            return Ok(());
        }
        return Err("a PIN has exactly 6 digits".into());
    }
    let n = secret.chars().count();
    if n < 8 {
        return Err("must be at least 8 characters".into());
    }
    if n > 128 {
        return Err("must be at most 128 characters".into());
    }
    Ok(())
}
