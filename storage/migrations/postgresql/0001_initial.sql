-- PostgreSQL form of ../0001_initial.sql (same tables, columns and meaning; see that file).
-- Translation rules used by every PostgreSQL form here: INTEGER -> BIGINT (Telegram ids pass
-- 2^31), `id INTEGER PRIMARY KEY` (SQLite's row id) -> an identity column, no WITHOUT ROWID,
-- timestamps stay ISO text and booleans stay 0/1 integers, so the repositories' SQL is the same.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE residents (
    chat_id                BIGINT PRIMARY KEY,
    language               TEXT NOT NULL,
    acknowledged_at        TEXT NOT NULL,
    area_id                TEXT,
    onboarding_step        TEXT,
    active_consultation_id TEXT,
    notices                INTEGER NOT NULL DEFAULT 1,
    created_at             TEXT NOT NULL,
    last_seen_at           TEXT NOT NULL
);

CREATE TABLE resident_topics (
    chat_id  BIGINT NOT NULL REFERENCES residents(chat_id) ON DELETE CASCADE,
    topic_id TEXT NOT NULL,
    PRIMARY KEY (chat_id, topic_id)
);

CREATE TABLE consultations (
    id              TEXT PRIMARY KEY,
    current_version BIGINT NOT NULL,
    revision        BIGINT NOT NULL,
    opens           TEXT NOT NULL,
    closes          TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE consultation_versions (
    consultation_id TEXT NOT NULL REFERENCES consultations(id),
    version         BIGINT NOT NULL,
    definition      TEXT NOT NULL,
    structure       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (consultation_id, version)
);

CREATE TABLE responses (
    response_id     TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    version         BIGINT NOT NULL,
    language        TEXT NOT NULL,
    state           TEXT NOT NULL,
    answers         TEXT,
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    submitted_at    TEXT,
    FOREIGN KEY (consultation_id, version) REFERENCES consultation_versions(consultation_id, version)
);

CREATE INDEX responses_by_consultation ON responses(consultation_id, submitted_at);
