-- Declared levels join calculated ones in level_changes: a declared change carries who and
-- why instead of an explanation. SQLite cannot relax NOT NULL in place, so the table is
-- rebuilt with its rows kept.
CREATE TABLE level_changes_v2 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    entity          TEXT    NOT NULL,  -- "site:MPH", "community:E07000187", "community", "system"
    kind            TEXT    NOT NULL CHECK (kind IN ('calculated', 'declared')),
    at_ms           INTEGER NOT NULL,
    level           INTEGER CHECK (level BETWEEN 1 AND 4),  -- NULL: not calculable / withdrawn
    policy_version  TEXT,              -- calculated
    explanation     TEXT,              -- calculated: JSON
    actor           TEXT,              -- declared: who
    reason          TEXT               -- declared: why
);
INSERT INTO level_changes_v2 (id, entity, kind, at_ms, level, policy_version, explanation)
    SELECT id, entity, kind, at_ms, level, policy_version, explanation FROM level_changes;
DROP TABLE level_changes;
ALTER TABLE level_changes_v2 RENAME TO level_changes;
CREATE INDEX level_changes_by_entity ON level_changes (entity, kind, id);
CREATE INDEX level_changes_by_time ON level_changes (entity, at_ms);
CREATE TRIGGER level_changes_are_append_only_update BEFORE UPDATE ON level_changes
BEGIN SELECT RAISE(ABORT, 'level changes are append-only'); END;
CREATE TRIGGER level_changes_are_append_only_delete BEFORE DELETE ON level_changes
BEGIN SELECT RAISE(ABORT, 'level changes are append-only'); END;

-- Alerts raised by level changes, with the action card as raised.
CREATE TABLE alerts (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms   INTEGER NOT NULL,
    body    TEXT    NOT NULL  -- the alert as raised, JSON, no action done
);
CREATE INDEX alerts_by_time ON alerts (at_ms);
CREATE TRIGGER alerts_are_append_only_update BEFORE UPDATE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts are append-only'); END;
CREATE TRIGGER alerts_are_append_only_delete BEFORE DELETE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts are append-only'); END;

-- Every marking of an action done (or undone): the latest row per action is its state.
CREATE TABLE alert_actions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id  INTEGER NOT NULL REFERENCES alerts (id),
    action    INTEGER NOT NULL,
    done      INTEGER NOT NULL CHECK (done IN (0, 1)),
    actor     TEXT    NOT NULL,
    at_ms     INTEGER NOT NULL
);
CREATE INDEX alert_actions_by_alert ON alert_actions (alert_id, action, id);
CREATE TRIGGER alert_actions_are_append_only_update BEFORE UPDATE ON alert_actions
BEGIN SELECT RAISE(ABORT, 'alert actions are append-only'); END;
CREATE TRIGGER alert_actions_are_append_only_delete BEFORE DELETE ON alert_actions
BEGIN SELECT RAISE(ABORT, 'alert actions are append-only'); END;
