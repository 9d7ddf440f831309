-- The audit log (DESIGN §9): who did what, when, from where. Append-only: the triggers
-- refuse any change, and nothing in Levels deletes from it.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms       INTEGER NOT NULL,
    actor       TEXT    NOT NULL,   -- account name, producer name, or "-" when unknown
    action      TEXT    NOT NULL,   -- e.g. "login", "login_failed", "declare", "view_patients"
    subject     TEXT    NOT NULL,   -- what it was done to, e.g. "site:MPH"
    detail      TEXT    NOT NULL,   -- JSON
    address     TEXT                -- the client's address, when known
);
CREATE INDEX audit_by_time ON audit (at_ms);
CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
