//! Sign-in throttling. Failures are counted per key in a window; a key that
//! reaches its limit is locked, for the window the first time and twice as long
//! at each lockout after that (up to a day), until a quiet day forgets it.
//!
//! `signin` keys failures by (login, client address) and by client address,
//! never by login alone: a stranger who types wrong passwords for someone's
//! login locks out only himself, and the owner signing in from an address that
//! has not been failing is never refused. Kept in memory: each process limits
//! on its own, which only makes the limit stricter behind a load balancer. The
//! clock can be moved forward by tests instead of sleeping.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.offset_secs.load(Ordering::Relaxed)
    }
    /// Moves this clock forward (tests).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

/// The longest lockout, and how long a key must stay quiet to be forgotten.
pub const MAX_LOCK_SECS: i64 = 24 * 3600;
/// Keys kept at most; past it the quiet ones are dropped first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    window_start: i64,
    failures: u32,
    /// Lockouts so far: the next one lasts `window << lockouts`.
    lockouts: u32,
    locked_until: i64,
    last_failure: i64,
}

pub struct Limiter {
    window: i64,
    entries: Mutex<HashMap<String, Entry>>,
    pub clock: Clock,
}

impl Limiter {
    pub fn new(window_secs: u64) -> Limiter {
        Limiter {
            window: (window_secs.max(1) as i64).min(MAX_LOCK_SECS),
            entries: Mutex::new(HashMap::new()),
            clock: Clock::default(),
        }
    }

    /// `Some(retry_after)` while `key` is locked.
    pub fn locked(&self, key: &str) -> Option<u64> {
        let now = self.clock.now();
        let map = self.entries.lock().ok()?;
        let e = map.get(key)?;
        (e.locked_until > now).then(|| (e.locked_until - now) as u64)
    }

    /// Failures of `key` in the current window.
    pub fn failures(&self, key: &str) -> u32 {
        let now = self.clock.now();
        let Ok(map) = self.entries.lock() else {
            return 0;
        };
        map.get(key)
            .filter(|e| e.window_start + self.window > now)
            .map_or(0, |e| e.failures)
    }

    /// Counts a failure of `key`. When it reaches `max` in the window the key
    /// is locked: returns `Some(lock_secs)` for the failure that locked it
    /// (once per lockout), else `None`.
    pub fn fail(&self, key: &str, max: u32) -> Option<u64> {
        let now = self.clock.now();
        let mut map = self.entries.lock().ok()?;
        if map.len() >= MAX_KEYS {
            map.retain(|_, e| e.last_failure + MAX_LOCK_SECS > now || e.locked_until > now);
            if map.len() >= MAX_KEYS {
                // Still full of recent keys: forget the oldest half.
                let mut ages: Vec<i64> = map.values().map(|e| e.last_failure).collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 2];
                map.retain(|_, e| e.last_failure > cut || e.locked_until > now);
            }
        }
        let e = map.entry(key.to_string()).or_default();
        if e.last_failure + MAX_LOCK_SECS <= now {
            *e = Entry::default();
        }
        e.last_failure = now;
        if e.locked_until > now {
            return None;
        }
        if e.window_start + self.window <= now {
            e.window_start = now;
            e.failures = 0;
        }
        e.failures += 1;
        if e.failures < max.max(1) {
            return None;
        }
        let secs = (self.window << e.lockouts.min(16)).min(MAX_LOCK_SECS);
        e.lockouts += 1;
        e.locked_until = now + secs;
        e.failures = 0;
        e.window_start = now;
        Some(secs as u64)
    }

    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_grow_and_end() {
        let l = Limiter::new(60);
        for _ in 0..2 {
            assert_eq!(l.fail("k", 3), None);
        }
        assert_eq!(l.fail("k", 3), Some(60));
        assert!(l.locked("k").is_some());
        // Failures while locked neither count nor lock again.
        assert_eq!(l.fail("k", 3), None);
        l.clock.advance(61);
        assert_eq!(l.locked("k"), None);
        for _ in 0..2 {
            assert_eq!(l.fail("k", 3), None);
        }
        assert_eq!(
            l.fail("k", 3),
            Some(120),
            "the second lockout is twice as long"
        );
        assert!(l.locked("other").is_none());
        l.clock.advance(MAX_LOCK_SECS + 1);
        assert_eq!(l.fail("k", 3), None, "a quiet day forgets the key");
        assert_eq!(l.failures("k"), 1);
    }
}
