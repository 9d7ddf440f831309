-- The append-only event log and the current state derived from it (DESIGN §2).
-- Timestamps are stored as Unix milliseconds (UTC) so "latest by at" compares correctly
-- whatever offset the producer sent; the record's own text keeps the original.

-- One row per accepted request.
CREATE TABLE batches (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    producer     TEXT    NOT NULL,
    feed         TEXT    NOT NULL,
    received_ms  INTEGER NOT NULL,
    records      INTEGER NOT NULL
);

-- Every accepted record, never updated or deleted. (producer, feed, record_id) is the
-- idempotency key: a re-sent identical record is found here and counted as a duplicate.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id     INTEGER NOT NULL REFERENCES batches(id),
    producer     TEXT    NOT NULL,
    feed         TEXT    NOT NULL,
    record_id    TEXT    NOT NULL,
    site         TEXT    NOT NULL,
    entity       TEXT    NOT NULL,
    at_ms        INTEGER NOT NULL,
    received_ms  INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    UNIQUE (producer, feed, record_id)
);

CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- The latest record by `at` for each entity of each feed (for beds: a pool at a site).
-- Rebuildable from `events`.
CREATE TABLE current_state (
    feed         TEXT    NOT NULL,
    site         TEXT    NOT NULL,
    entity       TEXT    NOT NULL,
    at_ms        INTEGER NOT NULL,
    event_id     INTEGER NOT NULL REFERENCES events(id),
    body         TEXT    NOT NULL,
    PRIMARY KEY (feed, site, entity)
);
