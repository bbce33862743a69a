-- The first schema: residents, consultations (versioned), and survey responses.
-- Responses carry a pseudonymous response id and no Telegram id (DESIGN.md, principle 5).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE residents (
    chat_id                INTEGER PRIMARY KEY,
    language               TEXT NOT NULL,
    acknowledged_at        TEXT NOT NULL,
    area_id                TEXT,
    onboarding_step        TEXT,          -- 'area', 'topics', or NULL once done
    active_consultation_id TEXT,          -- the survey a typed message answers
    notices                INTEGER NOT NULL DEFAULT 1,
    created_at             TEXT NOT NULL,
    last_seen_at           TEXT NOT NULL
);

CREATE TABLE resident_topics (
    chat_id  INTEGER NOT NULL REFERENCES residents(chat_id) ON DELETE CASCADE,
    topic_id TEXT NOT NULL,
    PRIMARY KEY (chat_id, topic_id)
) WITHOUT ROWID;

CREATE TABLE consultations (
    id              TEXT PRIMARY KEY,
    current_version INTEGER NOT NULL,
    revision        INTEGER NOT NULL,     -- bumped on every import, so caches know to reload
    opens           TEXT NOT NULL,
    closes          TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE consultation_versions (
    consultation_id TEXT NOT NULL REFERENCES consultations(id),
    version         INTEGER NOT NULL,
    definition      TEXT NOT NULL,        -- the validated consultation, as JSON
    structure       TEXT NOT NULL,        -- question ids, types and choice ids, as JSON
    created_at      TEXT NOT NULL,
    PRIMARY KEY (consultation_id, version)
) WITHOUT ROWID;

CREATE TABLE responses (
    response_id     TEXT PRIMARY KEY,     -- keyed hash of resident and consultation
    consultation_id TEXT NOT NULL,
    version         INTEGER NOT NULL,
    language        TEXT NOT NULL,
    state           TEXT NOT NULL,        -- the survey engine's state, as JSON
    answers         TEXT,                 -- the submitted answers, as JSON
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    submitted_at    TEXT,
    FOREIGN KEY (consultation_id, version) REFERENCES consultation_versions(consultation_id, version)
) WITHOUT ROWID;

CREATE INDEX responses_by_consultation ON responses(consultation_id, submitted_at);
