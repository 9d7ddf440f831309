-- People's accounts and their sessions (DESIGN §9). Passwords are Argon2id PHC strings;
-- a session's cookie value is never stored, only its SHA-256 digest.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL UNIQUE,   -- the login name
    display_name    TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN
                        ('display', 'site_manager', 'discharge_coordinator', 'system_leader', 'admin')),
    organisation    TEXT,                      -- ODS code; a coordinator sees its sites' patients
    password_hash   TEXT,                      -- NULL: cannot sign in with a password (displays)
    created_at_ms   INTEGER NOT NULL,
    disabled_at_ms  INTEGER
);

CREATE TABLE sessions (
    token_hash      TEXT    PRIMARY KEY,       -- hex SHA-256 of the cookie value
    user_id         INTEGER NOT NULL REFERENCES users (id),
    csrf            TEXT    NOT NULL,          -- echoed in X-CSRF-Token on state changes
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    revoked_at_ms   INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_id);
