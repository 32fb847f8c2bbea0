//! Devices a person has signed in on. A successful sign-in leaves a device
//! cookie with a signed entry for that account (user id, a random nonce and a
//! MAC keyed by the session secret over both and the account's token version,
//! so a new password or "sign out everywhere" forgets every device). A
//! sign-in that shows such an entry is limited by its own key, not by the
//! account's shared one: an attacker guessing the PIN from anywhere slows
//! down strangers, never the owner on her own phone. A shared phone keeps
//! the entries of its last few people.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

pub const DEVICE_COOKIE: &str = "fuzhi_device";
/// How long a device is remembered: a year.
pub const DEVICE_MAX_AGE_SECS: i64 = 365 * 24 * 3600;
const MAX_ENTRIES: usize = 6;

fn mac(secret: &SecretString, user_id: i64, nonce: &str, version: i32) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes any key");
    m.update(format!("device|{user_id}|{nonce}|{version}").as_bytes());
    hex::encode(&m.finalize().into_bytes()[..16])
}

/// The nonce of a valid entry for this account in the cookie, if any.
pub fn recognise(
    secret: &SecretString,
    cookie: Option<&str>,
    user_id: i64,
    version: i32,
) -> Option<String> {
    cookie?.split('.').find_map(|entry| {
        let mut parts = entry.split('-');
        let (uid, nonce, given) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || uid.parse::<i64>().ok()? != user_id || nonce.len() != 16 {
            return None;
        }
        let want = mac(secret, user_id, nonce, version);
        // Constant time: the MAC is compared as a whole.
        let same = want.len() == given.len()
            && want
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        same.then(|| nonce.to_string())
    })
}

/// The cookie after a sign-in of this account: its entry first (kept when it
/// was valid, else new), then the other accounts' entries, at most six.
pub fn remember(
    secret: &SecretString,
    cookie: Option<&str>,
    user_id: i64,
    version: i32,
    known: Option<String>,
) -> String {
    let nonce = known.unwrap_or_else(|| {
        use rand::Rng;
        hex::encode(rand::rng().random::<[u8; 8]>())
    });
    let mine = format!(
        "{user_id}-{nonce}-{}",
        mac(secret, user_id, &nonce, version)
    );
    let prefix = format!("{user_id}-");
    let mut out = vec![mine];
    out.extend(
        cookie
            .unwrap_or("")
            .split('.')
            .filter(|e| !e.is_empty() && !e.starts_with(&prefix) && e.len() <= 64)
            .filter(|e| e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            .take(MAX_ENTRIES - 1)
            .map(str::to_string),
    );
    out.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_per_account_and_version() {
        let s = SecretString::from("k".repeat(32));
        let c = remember(&s, None, 7, 0, None);
        let n = recognise(&s, Some(&c), 7, 0).expect("known");
        assert_eq!(recognise(&s, Some(&c), 8, 0), None);
        assert_eq!(
            recognise(&s, Some(&c), 7, 1),
            None,
            "a new password forgets"
        );
        let c2 = remember(&s, Some(&c), 8, 0, None);
        assert_eq!(recognise(&s, Some(&c2), 7, 0), Some(n));
        assert!(recognise(&s, Some(&c2), 8, 0).is_some());
        let forged = c.replace(&c[c.len() - 4..], "0000");
        assert_eq!(recognise(&s, Some(&forged), 7, 0), None);
    }
}
