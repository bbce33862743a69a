-- Several bot workers (docs/scaling.md): the flood guard's counts, shared by every worker, so that a
-- resident's updates are counted together whichever worker receives them (bot/guards.py, SharedFlood).
-- name: what is counted ('messages', 'taps' or 'group') and a keyed hash of the chat id (never the id);
-- minute: the minute counted, from the Unix epoch; count: the updates counted in it so far.
-- Rows of minutes past are deleted once a tick.
CREATE TABLE flood_counts (
    name   TEXT NOT NULL,
    minute INTEGER NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (name, minute)
) WITHOUT ROWID;
