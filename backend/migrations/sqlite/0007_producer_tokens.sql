-- Producer tokens created by an administrator (DESIGN §9): kept only as SHA-256 digests,
-- scoped to feeds and sites, revocable at once.
CREATE TABLE producer_tokens (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL UNIQUE,
    token_hash      TEXT    NOT NULL UNIQUE,
    feeds           TEXT    NOT NULL,   -- JSON array of feed names
    sites           TEXT    NOT NULL,   -- JSON array of site codes, or ["*"]
    created_at_ms   INTEGER NOT NULL,
    revoked_at_ms   INTEGER
);
