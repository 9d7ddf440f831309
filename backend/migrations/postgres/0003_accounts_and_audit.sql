-- People's accounts and their sessions. Passwords are Argon2id PHC strings; a session's
-- cookie value is never stored, only its SHA-256 digest. Names sort byte by byte
-- (COLLATE "C"), as SQLite sorts them, whatever the database's locale.
CREATE TABLE users (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            TEXT COLLATE "C" NOT NULL UNIQUE,   -- the login name
    display_name    TEXT   NOT NULL,
    role            TEXT   NOT NULL CHECK (role IN
                        ('display', 'site_manager', 'discharge_coordinator', 'system_leader', 'admin')),
    organisation    TEXT,                      -- ODS code; a coordinator sees its sites' patients
    password_hash   TEXT,                      -- NULL: cannot sign in with a password (displays)
    created_at_ms   BIGINT NOT NULL,
    disabled_at_ms  BIGINT
);

CREATE TABLE sessions (
    token_hash      TEXT   PRIMARY KEY,        -- hex SHA-256 of the cookie value
    user_id         BIGINT NOT NULL REFERENCES users (id),
    csrf            TEXT   NOT NULL,           -- echoed in X-CSRF-Token on state changes
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL,
    revoked_at_ms   BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- The audit log: who did what, when, from where. Append-only: the triggers refuse any
-- change, and nothing in Levels deletes from it.
CREATE TABLE audit (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms       BIGINT NOT NULL,
    actor       TEXT   NOT NULL,   -- account name, producer name, or "-" when unknown
    action      TEXT   NOT NULL,   -- e.g. "login", "login_failed", "declare", "view_patients"
    subject     TEXT   NOT NULL,   -- what it was done to, e.g. "site:MPH"
    detail      TEXT   NOT NULL,   -- JSON
    address     TEXT               -- the client's address, when known
);
CREATE INDEX audit_by_time ON audit (at_ms);
CREATE TRIGGER audit_is_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION levels_refuse_change('the audit log is append-only');
CREATE TRIGGER audit_is_append_only_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION levels_refuse_change('the audit log is append-only');

-- Producer tokens created by an administrator: kept only as SHA-256 digests, scoped to
-- feeds and sites, revocable at once.
CREATE TABLE producer_tokens (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            TEXT COLLATE "C" NOT NULL UNIQUE,
    token_hash      TEXT   NOT NULL UNIQUE,
    feeds           TEXT   NOT NULL,   -- JSON array of feed names
    sites           TEXT   NOT NULL,   -- JSON array of site codes, or ["*"]
    created_at_ms   BIGINT NOT NULL,
    revoked_at_ms   BIGINT
);

-- Control-room screens enrol with a one-time link an administrator creates: the link's
-- token is stored only as a digest, works once, and expires.
CREATE TABLE enrolments (
    token_hash      TEXT   PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL,
    used_at_ms      BIGINT
);
