//! Passwords are kept as Argon2id PHC strings (salt and parameters inside), with the
//! `argon2` crate's defaults (19 MiB, 2 passes): OWASP's recommended minimum.
//!
//! Each check needs those 19 MiB, so sign-ins check passwords through [`PasswordChecks`]:
//! at most a few at once across the server (one per core by default), each in a buffer
//! kept for the next check. However many sign-ins arrive, the checks hold at most
//! `permits × 19 MiB`, and nothing is freed and allocated again per check: glibc raises its
//! mmap threshold after the first such buffer is freed, so freed 19 MiB buffers would
//! otherwise stay in its per-thread arenas (the server kept 1.4 GiB after 72 sign-ins).

use argon2::password_hash::{
    rand_core::OsRng, Output, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches `stored` (a PHC string); a malformed hash matches nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// [`verify`] with Argon2's working memory in `memory` (grown to the hash's size and kept
/// for the next check) instead of a fresh allocation. The same steps as the crate's
/// `PasswordVerifier` (its parameters, salt and output length from the PHC string, and a
/// constant-time comparison of the outputs), with memory the caller owns.
pub fn verify_in(password: &str, stored: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    memory.resize(params.block_count(), Block::default());
    let argon2 = Argon2::new(algorithm, version, params);
    Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..])
            .map_err(Into::into)
    })
    // `Output`'s equality is constant-time.
    .is_ok_and(|computed| computed == expected)
}

/// A hash to check against when the account does not exist, so that a wrong name takes as
/// long as a wrong password and does not reveal which names exist.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("not a real password").unwrap_or_default())
}

/// Every password check is busy, and none came free within the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every password check is busy")]
pub struct Busy;

/// The server's password checks: at most `permits` at once, off the async workers, each
/// with a kept Argon2 buffer.
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    size: usize,
    wait: Duration,
    /// Buffers of finished checks, for the next: never more than `size`.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl PasswordChecks {
    /// `permits` checks at once (0: one per core); a sign-in waits at most `wait` for one.
    pub fn new(permits: usize, wait: Duration) -> PasswordChecks {
        let size = match permits {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        PasswordChecks {
            permits: Arc::new(Semaphore::new(size)),
            size,
            wait,
            memory: Arc::default(),
        }
    }

    /// How many checks may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How long a sign-in waits for a check.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// A check's permit, or [`Busy`] if none comes free within the wait.
    pub async fn permit(&self) -> Result<OwnedSemaphorePermit, Busy> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }

    /// Checks `password` against `stored` on the blocking pool, under `permit`. The permit
    /// goes with the check, so a sign-in abandoned meanwhile cannot let another start
    /// before this one's memory is back.
    pub async fn verify(
        &self,
        permit: OwnedSemaphorePermit,
        password: String,
        stored: String,
    ) -> bool {
        let memory = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let take = || memory.lock().unwrap_or_else(|e| e.into_inner());
            let mut buffer = take().pop().unwrap_or_default();
            let matches = verify_in(&password, &stored, &mut buffer);
            take().push(buffer);
            drop(permit);
            matches
        })
        .await
        .unwrap_or(false)
    }

    /// Buffers kept for the next checks.
    pub fn kept(&self) -> usize {
        self.memory.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_salted_and_checks_only_its_password() {
        let a = hash("correct horse battery").expect("hash");
        let b = hash("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("correct horse battery", "not a hash"));
    }

    #[test]
    fn a_check_in_kept_memory_answers_as_the_crate_s_own_check() {
        let a = hash("correct horse battery").expect("hash");
        let mut memory = Vec::new();
        for _ in 0..2 {
            assert!(verify_in("correct horse battery", &a, &mut memory));
            assert!(!verify_in("correct horse batterY", &a, &mut memory));
            assert!(!verify_in("", &a, &mut memory));
        }
        assert_eq!(memory.len(), 19 * 1024, "19 MiB of 1 KiB blocks");
        assert!(!verify_in(
            "correct horse battery",
            "not a hash",
            &mut memory
        ));
        // Another algorithm and cost in the PHC string are honoured, as the crate does.
        let params = Params::new(8 * 1024, 1, 1, None).expect("params");
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x10, params)
            .hash_password(b"other password", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        assert!(verify_in("other password", &argon2i, &mut memory));
        assert!(verify("other password", &argon2i));
        assert!(!verify_in("correct horse battery", &argon2i, &mut memory));
    }

    #[tokio::test]
    async fn no_more_checks_than_permits_run_and_their_memory_is_kept_for_the_next() {
        let checks = PasswordChecks::new(1, Duration::from_millis(1));
        let stored = hash("correct horse battery").expect("hash");
        let held = checks.permit().await.expect("a permit");
        assert_eq!(
            checks.permit().await.err(),
            Some(Busy),
            "the only one is held"
        );
        assert!(
            checks
                .verify(held, "correct horse battery".into(), stored.clone())
                .await
        );
        for _ in 0..3 {
            let permit = checks.permit().await.expect("free again");
            assert!(!checks.verify(permit, "wrong".into(), stored.clone()).await);
        }
        assert_eq!(checks.kept(), 1, "one buffer, reused");
        assert!(PasswordChecks::new(0, Duration::ZERO).size() >= 1);
    }
}
