-- What each committed write publishes, in commit order, for the live fan-out (DESIGN §2).
-- AUTOINCREMENT: a number is never reused, even after old entries are pruned.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    body TEXT NOT NULL
);
