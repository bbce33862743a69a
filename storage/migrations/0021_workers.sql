-- Several bot workers on one database (docs/scaling.md): one of them sends, and each scheduled
-- check runs once a tick, whichever worker's timer fires first.
-- leases: a lease is held by `holder` until `expires_at`; its holder renews it while it lives, and
-- anyone may take it once it has expired. The bot's sender holds the lease named 'sender'; the
-- worker applying a resident's updates holds 'chat:' and a keyed hash of the chat id (never the id).
-- ticks: a scheduled check's run for one tick (the tick's start); the worker whose insert made the
-- row runs it, the others leave it. Pruned after a day.
-- Both timestamps are UTC ISO text always to the microsecond, so that they compare as text.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE ticks (
    job    TEXT NOT NULL,
    tick   TEXT NOT NULL,
    worker TEXT NOT NULL,
    PRIMARY KEY (job, tick)
);
