-- What each committed write publishes, in commit order, for the live fan-out of every
-- replica (DESIGN §2). Numbers come from a one-row counter, updated last in each writing
-- transaction: its row lock is held until commit, so entries become visible in number
-- order with no gaps, and a rolled-back write gives its number back.
CREATE TABLE outbox_counter (
    seq BIGINT NOT NULL
);
INSERT INTO outbox_counter (seq) VALUES (0);

CREATE TABLE outbox (
    seq    BIGINT PRIMARY KEY,
    at_ms  BIGINT NOT NULL,
    body   TEXT   NOT NULL
);
