//! Sign-in attempts are limited per account and per client address: after too many
//! failures within a window, further attempts are refused (429) until the oldest ages out,
//! whether or not the password is right, so guessing is slow and a locked account says so.
//! Every attempt is counted the moment it starts (and forgiven if it succeeds), so attempts
//! sent all at once cannot slip past the check while their passwords are being hashed.
//!
//! An IPv6 client is limited by its /64 ([`address_key`]): one subscriber usually holds a
//! whole /64, and would otherwise have 2^64 addresses to spread its guesses over.
//!
//! The table is bounded ([`LoginLimiter::with_max_keys`]; [`max_keys_for`] the server's
//! password checks, at least 100,000 keys), even
//! against a spray of new names within the window. When it is full, entries whose failures
//! have all aged out go first; then the entries below their limit with the fewest failures,
//! least recent first (a tenth of the table at once, so a spray costs one sort per many
//! names). Forgetting those unlocks no one, and a sprayed name (one failure) goes before an
//! account's real count. A locked entry is never forgotten before its window: if every
//! entry is locked, a new name or address is refused until one ages out (fail closed).
//! Entries are only added while a password check may run, so filling the table costs the
//! attacker a password check per key: [`max_keys_for`] leaves room for twice the locked
//! entries the server's checks could produce within one window, so an attacker cannot
//! fill it with locked entries and keep new names out.
//!
//! Written by hand (a map of recent failure times) because rate-limiting crates limit
//! request rates, not failures, and this needs both keys checked before a hash is computed.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

type Table = HashMap<String, VecDeque<Instant>>;

/// The keys a server with `password_checks` concurrent checks needs. One Argon2id check
/// (19 MiB, 2 passes) takes about 20 ms or more on current processors (tens of ms here),
/// so each check slot fails at most 50 sign-ins a second, 45,000 in a 15-minute window.
/// Each failure counts towards one account (locked at 5) and one address (locked at 20),
/// so at most a quarter as many entries can be locked: 11,250 per slot. Twice that, and
/// never fewer than 100,000.
pub fn max_keys_for(password_checks: usize) -> usize {
    password_checks.saturating_mul(22_500).max(100_000)
}

pub struct LoginLimiter {
    window: Duration,
    per_account: usize,
    per_address: usize,
    max_keys: usize,
    failures: Mutex<Table>,
}

/// The key a client address is limited by: an IPv4 address itself (also when it reaches
/// the server as an IPv4-mapped IPv6 address), an IPv6 address's /64.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl LoginLimiter {
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> LoginLimiter {
        LoginLimiter {
            window,
            per_account,
            per_address,
            max_keys: 100_000,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// At most `max_keys` accounts and addresses are remembered (see the module's notes).
    pub fn with_max_keys(mut self, max_keys: usize) -> LoginLimiter {
        self.max_keys = max_keys.max(2);
        self
    }

    /// How many accounts and addresses are remembered now.
    pub fn keys(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keys_of(account: &str, address: &str) -> [String; 2] {
        [format!("account:{account}"), format!("address:{address}")]
    }

    fn limit_of(&self, key: &str) -> usize {
        if key.starts_with("account:") {
            self.per_account
        } else {
            self.per_address
        }
    }

    /// Starts an attempt: refused with how long to wait, or counted as a failure until
    /// [`LoginLimiter::succeeded`] forgives it.
    pub fn begin(&self, account: &str, address: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.lock();
        if let Some(wait) = self.wait_locked(&mut map, account, address, now) {
            return Err(wait);
        }
        self.count(&mut map, Self::keys_of(account, address), now)
    }

    /// How long until `account` from `address` may try again; `None` if it may now.
    pub fn wait(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        self.wait_locked(&mut self.lock(), account, address, now)
    }

    fn wait_locked(
        &self,
        map: &mut Table,
        account: &str,
        address: &str,
        now: Instant,
    ) -> Option<Duration> {
        let mut wait = None;
        for key in Self::keys_of(account, address) {
            let limit = self.limit_of(&key);
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

    /// Counts a failure under `keys`, making room for new keys first; refused (with how
    /// long until an entry ages out) when the table is full of locked entries.
    fn count(&self, map: &mut Table, keys: [String; 2], now: Instant) -> Result<(), Duration> {
        let new = keys.iter().filter(|k| !map.contains_key(*k)).count();
        if map.len() + new > self.max_keys {
            self.make_room(map, &keys, new, now)?;
        }
        for key in keys {
            map.entry(key).or_default().push_back(now);
        }
        Ok(())
    }

    fn make_room(
        &self,
        map: &mut Table,
        keep: &[String; 2],
        needed: usize,
        now: Instant,
    ) -> Result<(), Duration> {
        let window = self.window;
        map.retain(|_, t| t.back().is_some_and(|t| now.duration_since(*t) < window));
        if map.len() + needed <= self.max_keys {
            return Ok(());
        }
        let mut unlocked: Vec<(usize, Instant, &String)> = map
            .iter()
            .filter(|(key, times)| times.len() < self.limit_of(key) && !keep.contains(key))
            .filter_map(|(key, times)| Some((times.len(), *times.back()?, key)))
            .collect();
        let target = (map.len() + needed - self.max_keys).max(self.max_keys / 10);
        if unlocked.len() > target {
            unlocked.select_nth_unstable(target);
            unlocked.truncate(target);
        }
        let forget: Vec<String> = unlocked.into_iter().map(|(_, _, k)| k.clone()).collect();
        for key in forget {
            map.remove(&key);
        }
        if map.len() + needed <= self.max_keys {
            return Ok(());
        }
        // Every entry left is locked: refuse, rather than unlock anyone, until one ages out.
        Err(map
            .values()
            .filter_map(VecDeque::back)
            .map(|t| (*t + window).saturating_duration_since(now))
            .min()
            .unwrap_or(window))
    }

    /// Counts a failed attempt (not counted when the table is full of locked entries).
    pub fn failed(&self, account: &str, address: &str, now: Instant) {
        let mut map = self.lock();
        let _ = self.count(&mut map, Self::keys_of(account, address), now);
    }

    /// A successful sign-in clears the account's failures, and forgives its own attempt at
    /// the address.
    pub fn succeeded(&self, account: &str, address: &str) {
        let mut map = self.lock();
        let [account, address] = Self::keys_of(account, address);
        map.remove(&account);
        if let Some(times) = map.get_mut(&address) {
            times.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_room_for_more_locked_entries_than_the_checks_can_make() {
        assert_eq!(max_keys_for(2), 100_000);
        // 32 slots × 50 failures/s × 900 s / 4 = 360,000 entries at most locked.
        assert!(max_keys_for(32) >= 2 * 360_000);
        assert_eq!(max_keys_for(usize::MAX), usize::MAX);
    }

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

    #[test]
    fn an_ipv6_64_is_one_address_and_ipv4_stays_whole() {
        let key = |s: &str| address_key(s.parse().expect("an address"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:1:2:3"));
        assert_eq!(key("2001:db8:1:2::7"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("10.0.0.1"), "10.0.0.1");
        assert_ne!(key("10.0.0.1"), key("10.0.0.2"));
        assert_eq!(
            key("::ffff:10.0.0.1"),
            "10.0.0.1",
            "an IPv4 client over IPv6"
        );
        assert_eq!(key("::1"), "::/64");
    }

    #[test]
    fn a_spray_of_names_keeps_the_table_bounded_and_does_not_unlock_a_locked_account() {
        let limiter = LoginLimiter::new(Duration::from_secs(900), 5, 20).with_max_keys(1_000);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(limiter.begin("sam", "10.0.0.1", t0).is_ok());
        }
        // Within the window, from many addresses, each a name never seen before.
        for i in 0..20_000u32 {
            let at = t0 + Duration::from_millis(u64::from(i));
            let address = format!("10.1.{}.{}", i / 250, i % 250);
            let _ = limiter.begin(&format!("spray-{i}"), &address, at);
        }
        assert!(limiter.keys() <= 1_000, "{} keys", limiter.keys());
        let now = t0 + Duration::from_secs(30);
        assert!(
            limiter.wait("sam", "10.9.9.9", now).is_some(),
            "sam is still locked"
        );
    }

    #[test]
    fn a_full_table_of_locked_entries_refuses_new_names_rather_than_forget_one() {
        let limiter = LoginLimiter::new(Duration::from_secs(900), 1, 1).with_max_keys(10);
        let t0 = Instant::now();
        // Five locked accounts from five locked addresses (one failure locks each): ten keys.
        for i in 0..5 {
            assert!(limiter
                .begin(&format!("user{i}"), &format!("10.0.0.{i}"), t0)
                .is_ok());
        }
        assert!(
            limiter.begin("new", "10.0.0.99", t0).is_err(),
            "the table is full"
        );
        assert!(limiter.keys() <= 10);
        for i in 0..5 {
            assert!(limiter.wait(&format!("user{i}"), "10.0.0.9", t0).is_some());
        }
        // Once the window has passed, their entries go and new names are counted again.
        let later = t0 + Duration::from_secs(900);
        assert!(limiter.begin("new", "10.0.0.99", later).is_ok());
    }
}
