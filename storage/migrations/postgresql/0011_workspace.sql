-- PostgreSQL form of ../0011_workspace.sql.
CREATE TABLE web_signin_links (
    token_hash TEXT PRIMARY KEY,
    officer_id BIGINT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    officer_id BIGINT NOT NULL,
    csrf_token TEXT NOT NULL,
    language TEXT,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX web_sessions_by_officer ON web_sessions(officer_id);
CREATE TABLE consultation_drafts (
    id TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by BIGINT NOT NULL
);
