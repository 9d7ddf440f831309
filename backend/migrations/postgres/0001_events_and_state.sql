-- The PostgreSQL schema is the SQLite schema's final shape (migrations/sqlite/0001..0008),
-- with the same columns and meanings, so both stores answer identically:
-- * times are Unix milliseconds (UTC) in BIGINT, compared exactly as SQLite compares them;
-- * JSON is kept as TEXT: the store never looks inside it, and a record's canonical text
--   must come back byte for byte (duplicates are recognised by comparing it);
-- * append-only tables refuse UPDATE, DELETE and TRUNCATE with a trigger, as SQLite's do.

-- Raises the trigger's argument as the error: one function for every append-only table.
CREATE FUNCTION levels_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END
$$;

-- One row per accepted request.
CREATE TABLE batches (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    producer     TEXT   NOT NULL,
    feed         TEXT   NOT NULL,
    received_ms  BIGINT NOT NULL,
    records      BIGINT NOT NULL
);

-- Every accepted record, never updated or deleted. (producer, feed, record_id) is the
-- idempotency key: a re-sent identical record is found here and counted as a duplicate.
CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id     BIGINT NOT NULL REFERENCES batches (id),
    producer     TEXT   NOT NULL,
    feed         TEXT   NOT NULL,
    record_id    TEXT   NOT NULL,
    site         TEXT   NOT NULL,
    entity       TEXT   NOT NULL,
    at_ms        BIGINT NOT NULL,
    received_ms  BIGINT NOT NULL,
    body         TEXT   NOT NULL,
    UNIQUE (producer, feed, record_id)
);
CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION levels_refuse_change('events are append-only');
CREATE TRIGGER events_are_append_only_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION levels_refuse_change('events are append-only');

-- The latest record by `at` for each entity of each feed (for beds: a pool at a site).
-- Rebuildable from `events`.
CREATE TABLE current_state (
    feed         TEXT   NOT NULL,
    site         TEXT   NOT NULL,
    entity       TEXT   NOT NULL,
    at_ms        BIGINT NOT NULL,
    event_id     BIGINT NOT NULL REFERENCES events (id),
    body         TEXT   NOT NULL,
    PRIMARY KEY (feed, site, entity)
);

-- Time series of key measures: one value per entity, measure and time bucket (the
-- bucket's start). Missing or stale inputs are simply absent, so charts show gaps.
CREATE TABLE history (
    entity     TEXT             NOT NULL,
    measure    TEXT             NOT NULL,
    bucket_ms  BIGINT           NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (entity, measure, bucket_ms)
);
CREATE INDEX history_by_time ON history (bucket_ms);
