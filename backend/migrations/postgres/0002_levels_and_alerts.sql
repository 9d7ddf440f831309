-- Every change of a calculated or declared OPEL level, append-only: a calculated change
-- carries its explanation, a declared one who and why.
CREATE TABLE level_changes (
    id              BIGINT   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity          TEXT     NOT NULL,  -- "site:MPH", "community:E07000187", "community", "system"
    kind            TEXT     NOT NULL CHECK (kind IN ('calculated', 'declared')),
    at_ms           BIGINT   NOT NULL,
    level           SMALLINT CHECK (level BETWEEN 1 AND 4),  -- NULL: not calculable / withdrawn
    policy_version  TEXT,               -- calculated
    explanation     TEXT,               -- calculated: JSON
    actor           TEXT,               -- declared: who
    reason          TEXT                -- declared: why
);
CREATE INDEX level_changes_by_entity ON level_changes (entity, kind, id);
CREATE INDEX level_changes_by_time ON level_changes (entity, at_ms);
CREATE TRIGGER level_changes_are_append_only BEFORE UPDATE OR DELETE ON level_changes
    FOR EACH ROW EXECUTE FUNCTION levels_refuse_change('level changes are append-only');
CREATE TRIGGER level_changes_are_append_only_truncate BEFORE TRUNCATE ON level_changes
    FOR EACH STATEMENT EXECUTE FUNCTION levels_refuse_change('level changes are append-only');

-- Alerts raised by level changes, with the action card as raised.
CREATE TABLE alerts (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms   BIGINT NOT NULL,
    body    TEXT   NOT NULL  -- the alert as raised, JSON, no action done
);
CREATE INDEX alerts_by_time ON alerts (at_ms);
CREATE TRIGGER alerts_are_append_only BEFORE UPDATE OR DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION levels_refuse_change('alerts are append-only');
CREATE TRIGGER alerts_are_append_only_truncate BEFORE TRUNCATE ON alerts
    FOR EACH STATEMENT EXECUTE FUNCTION levels_refuse_change('alerts are append-only');

-- Every marking of an action done (or undone): the latest row per action is its state.
CREATE TABLE alert_actions (
    id        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id  BIGINT  NOT NULL REFERENCES alerts (id),
    action    BIGINT  NOT NULL,
    done      BOOLEAN NOT NULL,
    actor     TEXT    NOT NULL,
    at_ms     BIGINT  NOT NULL
);
CREATE INDEX alert_actions_by_alert ON alert_actions (alert_id, action, id);
CREATE TRIGGER alert_actions_are_append_only BEFORE UPDATE OR DELETE ON alert_actions
    FOR EACH ROW EXECUTE FUNCTION levels_refuse_change('alert actions are append-only');
CREATE TRIGGER alert_actions_are_append_only_truncate BEFORE TRUNCATE ON alert_actions
    FOR EACH STATEMENT EXECUTE FUNCTION levels_refuse_change('alert actions are append-only');
