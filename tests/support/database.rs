//! The database a test runs against: a SQLite file in the test's folder, or, when
//! `LEVELS_TEST_POSTGRES_URL` names a PostgreSQL server (`scripts/postgres.sh` prints one),
//! a fresh database of the test's own on it, so the whole suite runs against either.
//!
//! `LEVELS_TEST_REQUIRE_POSTGRES=1` (CI sets it) makes a missing server a failure rather
//! than a skip, so a run meant for PostgreSQL cannot quietly test SQLite instead.

use sqlx::{Connection, PgConnection};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// The PostgreSQL server's URL (its role needs CREATEDB).
pub const POSTGRES_URL: &str = "LEVELS_TEST_POSTGRES_URL";
/// `1`: a test that needs PostgreSQL fails when `LEVELS_TEST_POSTGRES_URL` is not set.
pub const REQUIRE_POSTGRES: &str = "LEVELS_TEST_REQUIRE_POSTGRES";

/// The PostgreSQL server the tests should use, if any.
///
/// # Panics
/// When none is set and `LEVELS_TEST_REQUIRE_POSTGRES=1`.
pub fn postgres_server() -> Option<String> {
    match std::env::var(POSTGRES_URL) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ => {
            if std::env::var(REQUIRE_POSTGRES).is_ok_and(|v| v == "1") {
                panic!(
                    "{REQUIRE_POSTGRES}=1 but {POSTGRES_URL} is not set: start a server with \
                     scripts/postgres.sh and set {POSTGRES_URL} to the URL it prints"
                );
            }
            None
        }
    }
}

/// For a test of PostgreSQL itself: the server, or `None` after printing why the test does
/// nothing (or failing, when PostgreSQL is required).
pub fn postgres_or_skip(test: &str) -> Option<String> {
    let server = postgres_server();
    if server.is_none() {
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "note: {test} skipped: {POSTGRES_URL} is not set (scripts/postgres.sh starts a server)"
        );
    }
    server
}

/// The database URL for a test whose files are in `dir`: PostgreSQL when a server is set,
/// else SQLite. Every call with the same `dir` gives the same database, so a restarted
/// server finds what it wrote.
pub fn database_url(dir: &Path) -> String {
    match postgres_server() {
        Some(server) => postgres_database(&server, dir),
        None => format!("sqlite://{}", dir.join("levels.db").display()),
    }
}

/// A PostgreSQL database for `dir`: the one named in `dir` if it has one, else a new one.
fn postgres_database(server: &str, dir: &Path) -> String {
    let marker = dir.join("postgres-database");
    let name = match std::fs::read_to_string(&marker) {
        Ok(name) => name.trim().to_owned(),
        Err(_) => {
            let name = fresh_database(server);
            std::fs::write(&marker, &name).expect("the test folder is writable");
            name
        }
    };
    with_database(server, &name)
}

/// Creates an empty database on `server` and returns its name.
pub fn fresh_database(server: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "levels_test_{}_{}_{}",
        host_tag(),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    // Tests call this from synchronous code inside their own runtime, which cannot block on
    // a future: the database is created on a thread with a runtime of its own.
    let server = server.to_owned();
    let created = name.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let mut admin = PgConnection::connect(&server).await.unwrap_or_else(|e| {
                panic!(
                    "cannot connect to {POSTGRES_URL} ({}): {e}",
                    levels::store::redacted(&server)
                )
            });
            drop_stale_databases(&mut admin).await;
            sqlx::query(&format!("CREATE DATABASE \"{created}\""))
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("cannot create the test database {created}: {e}"));
            let _ = admin.close().await;
        });
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
    name
}

/// `server` with its database replaced by `name`.
pub fn with_database(server: &str, name: &str) -> String {
    let mut url =
        reqwest::Url::parse(server).unwrap_or_else(|e| panic!("{POSTGRES_URL} is not a URL: {e}"));
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Test databases are not dropped when their test ends (nothing runs then), so the first
/// test of each run drops those left by runs on this machine that have finished: their
/// process no longer exists.
async fn drop_stale_databases(admin: &mut PgConnection) {
    static ONCE: Once = Once::new();
    let mut first = false;
    ONCE.call_once(|| first = true);
    if !first {
        return;
    }
    let prefix = format!("levels_test_{}_", host_tag());
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
    )
    .bind(&prefix)
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let finished = pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        if finished {
            // Best effort: another run may be dropping it too.
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

/// This machine's name, as far as it can be part of a database name: process ids are only
/// comparable on the machine that gave them.
fn host_tag() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let tag: String = host
        .trim()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(20)
        .collect();
    if tag.is_empty() {
        "host".to_owned()
    } else {
        tag
    }
}
