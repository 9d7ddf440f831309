-- Every change of a calculated OPEL level (declared levels will join it), with the
-- explanation that produced it, for timelines and the daily pattern of levels.
CREATE TABLE level_changes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    entity          TEXT    NOT NULL,  -- "site:MPH"
    kind            TEXT    NOT NULL,  -- "calculated"
    at_ms           INTEGER NOT NULL,
    level           INTEGER,           -- NULL: not calculable
    policy_version  TEXT    NOT NULL,
    explanation     TEXT    NOT NULL   -- JSON
);
CREATE INDEX level_changes_by_entity ON level_changes (entity, at_ms);
