//! End-to-end tests of Levels: one test binary (one link on a 2-core machine), one module
//! per user-facing area. Every test starts the real server on port 0 with a fresh database
//! (SQLite, or PostgreSQL when `LEVELS_TEST_POSTGRES_URL` is set) and talks to it over HTTP
//! and websockets; `store` holds both stores to the same contract; the browser test drives
//! headless Chromium against the built dashboard in `dist/`.

mod accounts;
mod architecture;
mod backfill;
mod browser;
mod crash;
mod discharge;
mod disclosure;
mod docs;
mod escalation;
mod feeds;
mod history;
mod hostile;
mod ingest;
mod live;
mod operations;
mod replicas;
mod restart;
mod security;
mod sign_in_flood;
mod store;
