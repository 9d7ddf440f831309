-- Control-room screens enrol with a one-time link an administrator creates (DESIGN §9):
-- the link's token is stored only as a digest, works once, and expires.
CREATE TABLE enrolments (
    token_hash      TEXT    PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    used_at_ms      INTEGER
);
