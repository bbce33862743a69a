-- Updates survive a crash, and are applied once.
-- update_inbox: each update as received, written before Telegram is told it arrived (before the
-- next getUpdates confirms it, or before the webhook answers 200) and deleted once handled. After
-- a crash, what is left here is handled at start-up, so nothing received is lost.
-- handled_updates: the last update handled in each chat (ids only, pruned after two days, longer
-- than Telegram keeps an update), so an update re-delivered after a restart, or a webhook
-- request replayed, is recognised and changes nothing.
CREATE TABLE update_inbox (
    update_id   INTEGER PRIMARY KEY,
    chat_id     INTEGER,
    data        TEXT NOT NULL,          -- the update's JSON, as Telegram sent it
    received_at TEXT NOT NULL
);

CREATE TABLE handled_updates (
    chat_id    INTEGER PRIMARY KEY,
    update_id  INTEGER NOT NULL,
    handled_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX handled_updates_by_time ON handled_updates(handled_at);
