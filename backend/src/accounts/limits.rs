//! Sign-in attempts are limited per account and per client address: after too many
//! failures within a window, further attempts are refused (429) until the oldest ages out,
//! whether or not the password is right, so guessing is slow and a locked account says so.
//! Every attempt is counted the moment it starts (and forgiven if it succeeds), so attempts
//! sent all at once cannot slip past the check while their passwords are being hashed.
//!
//! Written by hand (a map of recent failure times) because rate-limiting crates limit
//! request rates, not failures, and this needs both keys checked before a hash is computed.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    window: Duration,
    per_account: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> LoginLimiter {
        LoginLimiter {
            window,
            per_account,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts an attempt: refused with how long to wait, or counted as a failure until
    /// [`LoginLimiter::succeeded`] forgives it.
    pub fn begin(&self, account: &str, address: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.lock();
        if let Some(wait) = self.wait_locked(&mut map, account, address, now) {
            return Err(wait);
        }
        for key in [format!("account:{account}"), format!("address:{address}")] {
            map.entry(key).or_default().push_back(now);
        }
        Ok(())
    }

    /// How long until `account` from `address` may try again; `None` if it may now.
    pub fn wait(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        self.wait_locked(&mut self.lock(), account, address, now)
    }

    fn wait_locked(
        &self,
        map: &mut HashMap<String, VecDeque<Instant>>,
        account: &str,
        address: &str,
        now: Instant,
    ) -> Option<Duration> {
        let mut wait = None;
        for (key, limit) in [
            (format!("account:{account}"), self.per_account),
            (format!("address:{address}"), self.per_address),
        ] {
            let Some(times) = map.get_mut(&key) else {
                continue;
            };
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                times.pop_front();
            }
            if times.len() >= limit {
                let until = times[times.len() - limit] + self.window;
                let w = until.saturating_duration_since(now);
                wait = Some(wait.map_or(w, |x: Duration| x.max(w)));
            }
        }
        wait
    }

    /// Counts a failed attempt.
    pub fn failed(&self, account: &str, address: &str, now: Instant) {
        let mut map = self.lock();
        for key in [format!("account:{account}"), format!("address:{address}")] {
            map.entry(key).or_default().push_back(now);
        }
        // Keep the map from growing without bound under a spray of names.
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, t| t.back().is_some_and(|t| now.duration_since(*t) < window));
        }
    }

    /// A successful sign-in clears the account's failures, and forgives its own attempt at
    /// the address.
    pub fn succeeded(&self, account: &str, address: &str) {
        let mut map = self.lock();
        map.remove(&format!("account:{account}"));
        if let Some(times) = map.get_mut(&format!("address:{address}")) {
            times.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_locks_the_account_until_the_oldest_ages_out() {
        let limiter = LoginLimiter::new(Duration::from_secs(900), 5, 20);
        let t0 = Instant::now();
        for i in 0..5 {
            assert_eq!(
                limiter.begin("sam", "10.0.0.1", t0 + Duration::from_secs(i)),
                Ok(()),
                "attempt {i}"
            );
        }
        let now = t0 + Duration::from_secs(10);
        assert_eq!(
            limiter.wait("sam", "10.0.0.2", now),
            Some(Duration::from_secs(890))
        );
        assert_eq!(
            limiter.wait("alex", "10.0.0.1", now),
            None,
            "another account from there"
        );
        assert_eq!(
            limiter.wait("sam", "10.0.0.1", t0 + Duration::from_secs(900)),
            None
        );
    }

    #[test]
    fn attempts_count_when_they_start_and_a_success_is_forgiven() {
        let limiter = LoginLimiter::new(Duration::from_secs(900), 5, 20);
        let t0 = Instant::now();
        // Five at once: the sixth is refused before any has finished.
        for _ in 0..5 {
            assert!(limiter.begin("sam", "10.0.0.1", t0).is_ok());
        }
        assert!(limiter.begin("sam", "10.0.0.1", t0).is_err());
        let other = LoginLimiter::new(Duration::from_secs(900), 5, 20);
        for _ in 0..10 {
            assert!(other.begin("alex", "10.0.0.2", t0).is_ok());
            other.succeeded("alex", "10.0.0.2");
        }
        assert_eq!(
            other.wait("alex", "10.0.0.2", t0),
            None,
            "successes do not lock anyone"
        );
    }

    #[test]
    fn many_accounts_from_one_address_lock_the_address() {
        let limiter = LoginLimiter::new(Duration::from_secs(900), 5, 20);
        let t0 = Instant::now();
        for i in 0..20 {
            limiter.failed(&format!("user{i}"), "10.0.0.9", t0);
        }
        assert!(limiter.wait("someone-new", "10.0.0.9", t0).is_some());
        assert!(limiter.wait("someone-new", "10.0.0.8", t0).is_none());
    }
}
