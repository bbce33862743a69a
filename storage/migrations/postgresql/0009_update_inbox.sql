-- PostgreSQL form of ../0009_update_inbox.sql.
CREATE TABLE update_inbox (
    update_id   BIGINT PRIMARY KEY,
    chat_id     BIGINT,
    data        TEXT NOT NULL,
    received_at TEXT NOT NULL
);

CREATE TABLE handled_updates (
    chat_id    BIGINT PRIMARY KEY,
    update_id  BIGINT NOT NULL,
    handled_at TEXT NOT NULL
);
CREATE INDEX handled_updates_by_time ON handled_updates(handled_at);
