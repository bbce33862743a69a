-- Officers and their audit log; the delivery queue; broadcasts; who took part in what
-- (for reminders and outcomes: identity and participation, never answers); contact threads.

CREATE TABLE officers (
    user_id   INTEGER PRIMARY KEY,
    role      TEXT NOT NULL CHECK (role IN ('officer', 'admin')),
    added_by  INTEGER NOT NULL,
    added_at  TEXT NOT NULL
);

CREATE TABLE officer_invites (
    code        TEXT PRIMARY KEY,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER,
    used_at     TEXT
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor_id  INTEGER NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL
);

ALTER TABLE residents ADD COLUMN reminders INTEGER NOT NULL DEFAULT 1;
ALTER TABLE residents ADD COLUMN unreachable_at TEXT;
ALTER TABLE consultations ADD COLUMN opening_notice_at TEXT;

CREATE TABLE participation (
    chat_id         INTEGER NOT NULL REFERENCES residents(chat_id) ON DELETE CASCADE,
    consultation_id TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    submitted_at    TEXT,
    PRIMARY KEY (chat_id, consultation_id)
) WITHOUT ROWID;
CREATE INDEX participation_by_consultation ON participation(consultation_id, submitted_at);

CREATE TABLE broadcasts (
    id            INTEGER PRIMARY KEY,
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    texts         TEXT NOT NULL,          -- JSON: language -> text, as the officer wrote it
    consultation_id TEXT,                 -- the "Take part" button, if any
    audience      TEXT NOT NULL,          -- JSON description of who receives it
    recipients    INTEGER NOT NULL,
    reported_at   TEXT                    -- when the officer was sent the final report
);

-- One row per message to one chat, written before anything is sent.
-- state: waiting -> sending -> sent | failed | unreachable | expired | uncertain (sent again after a crash)
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL,
    kind            TEXT NOT NULL,        -- notice, broadcast, reminder, closing, report, reply, outcome
    priority        INTEGER NOT NULL,     -- lower goes first
    text            TEXT NOT NULL,        -- Telegram HTML, in the recipient's language
    buttons         TEXT,                 -- JSON rows of {label, data}
    broadcast_id    INTEGER REFERENCES broadcasts(id),
    dedupe_key      TEXT UNIQUE,          -- a reminder or notice is queued at most once
    civil_only      INTEGER NOT NULL DEFAULT 0,  -- a reminder: only between the deployment's civil hours
    expires_at      TEXT,                         -- not worth sending after this (a reminder after closing)
    state           TEXT NOT NULL DEFAULT 'waiting',
    attempts        INTEGER NOT NULL DEFAULT 0,
    resent          INTEGER NOT NULL DEFAULT 0,  -- in flight at a crash, so sent again
    not_before      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    finished_at     TEXT,
    last_error      TEXT
);
CREATE INDEX deliveries_waiting ON deliveries(state, priority, id) WHERE state IN ('waiting', 'sending');
CREATE INDEX deliveries_by_broadcast ON deliveries(broadcast_id, state);
CREATE INDEX deliveries_by_chat ON deliveries(chat_id, state);

CREATE TABLE contact_threads (
    id               INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL REFERENCES residents(chat_id) ON DELETE CASCADE,
    consultation_id  TEXT,
    created_at       TEXT NOT NULL
);

-- Which message in the officers' chat (or in the resident's chat) belongs to which thread,
-- so that a reply to it reaches the other side. No message text is stored.
CREATE TABLE contact_messages (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    thread_id   INTEGER NOT NULL REFERENCES contact_threads(id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;

-- Officers' guided conversations (broadcast drafts, contact drafts) survive restarts.
CREATE TABLE drafts (
    user_id  INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    data     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;
