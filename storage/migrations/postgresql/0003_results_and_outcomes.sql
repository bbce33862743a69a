-- PostgreSQL form of ../0003_results_and_outcomes.sql.
-- `rowid` stands in for SQLite's implicit row id: what people wrote is listed in the order it came.

CREATE TABLE answers (
    response_id     TEXT NOT NULL REFERENCES responses(response_id) ON DELETE CASCADE,
    consultation_id TEXT NOT NULL,
    question_id     TEXT NOT NULL,
    value           TEXT,
    first           INTEGER NOT NULL,
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX answers_by_question ON answers(consultation_id, question_id, value, first);
CREATE INDEX answers_by_response ON answers(response_id);

ALTER TABLE responses ADD COLUMN current_question TEXT;
ALTER TABLE responses ADD COLUMN area_id TEXT;

CREATE TABLE outcomes (
    consultation_id TEXT PRIMARY KEY,
    told_us         TEXT,
    told_us_at      TEXT,
    decided         TEXT,
    decided_at      TEXT
);

CREATE TABLE outcome_feedback (
    feedback_id     TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    rating          TEXT NOT NULL CHECK (rating IN ('yes', 'partly', 'no')),
    comment         TEXT,
    at              TEXT NOT NULL
);
