-- The officers' web workspace.
-- A sign-in link made by /workspace: only its hash is kept, used once, within minutes.
CREATE TABLE web_signin_links (
    token_hash TEXT PRIMARY KEY,
    officer_id INTEGER NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
-- A signed-in browser: the cookie holds the token, the database its hash. `language` is the
-- workspace language the officer chose (NULL: their chat language).
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    officer_id INTEGER NOT NULL,
    csrf_token TEXT NOT NULL,
    language TEXT,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX web_sessions_by_officer ON web_sessions(officer_id);
-- A consultation being written in the workspace, as a consultation file's data (the format of
-- `haveyoursay check`): residents never see it; publishing stores it in `consultations`.
CREATE TABLE consultation_drafts (
    id TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by INTEGER NOT NULL
);
