-- Time series of key measures (issue: trends and the escalation timeline read these).
-- One value per entity ("site:MPH", "team:CN-MENDIP", "locality:E07000187"), measure and
-- time bucket (the bucket's start, Unix milliseconds UTC). Missing or stale inputs are
-- simply absent, so charts show gaps rather than lines drawn through them.
CREATE TABLE history (
    entity     TEXT    NOT NULL,
    measure    TEXT    NOT NULL,
    bucket_ms  INTEGER NOT NULL,
    value      REAL    NOT NULL,
    PRIMARY KEY (entity, measure, bucket_ms)
);
CREATE INDEX history_by_time ON history (bucket_ms);
