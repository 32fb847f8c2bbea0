//! Sign-in rate limiting: failures counted per login and per client address in
//! a fixed window. Past the limit every attempt, even a right one, gets 429
//! until the window ends. Kept in memory: each process limits on its own, which
//! only makes the limit stricter behind a load balancer. The clock can be
//! moved forward by tests instead of sleeping.

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

pub struct Limiter {
    window: i64,
    counts: Mutex<HashMap<String, (i64, u32)>>,
    pub clock: Clock,
}

impl Limiter {
    pub fn new(window_secs: u64) -> Limiter {
        Limiter {
            window: window_secs.max(1) as i64,
            counts: Mutex::new(HashMap::new()),
            clock: Clock::default(),
        }
    }

    /// `Some(retry_after)` when `key` has `max` or more failures in this window.
    pub fn blocked(&self, key: &str, max: u32) -> Option<u64> {
        let now = self.clock.now();
        let map = self.counts.lock().ok()?;
        let (start, n) = *map.get(key)?;
        let left = start + self.window - now;
        (left > 0 && n >= max).then_some(left as u64)
    }

    /// Counts a failure; returns the count in the current window.
    pub fn fail(&self, key: &str) -> u32 {
        let now = self.clock.now();
        let Ok(mut map) = self.counts.lock() else {
            return 0;
        };
        if map.len() > 100_000 {
            let w = self.window;
            map.retain(|_, (s, _)| *s + w > now);
        }
        let e = map.entry(key.to_string()).or_insert((now, 0));
        if e.0 + self.window <= now {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1
    }

    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.counts.lock() {
            map.remove(key);
        }
    }
}
