-- Results: answers one row per question (per ticked choice for multiple choice), so counts are
-- one indexed GROUP BY; where unfinished responses stopped; the resident's area at submission.
-- Outcomes: "What you told us" and "What we did" per consultation, and residents' replies to them.

CREATE TABLE answers (
    response_id     TEXT NOT NULL REFERENCES responses(response_id) ON DELETE CASCADE,
    consultation_id TEXT NOT NULL,
    question_id     TEXT NOT NULL,
    value           TEXT,            -- a choice id, a number, text; NULL when skipped
    first           INTEGER NOT NULL -- 1 on one row per response and question: counts who answered
);
CREATE INDEX answers_by_question ON answers(consultation_id, question_id, value, first);
CREATE INDEX answers_by_response ON answers(response_id);

ALTER TABLE responses ADD COLUMN current_question TEXT;   -- where an unfinished response stopped
ALTER TABLE responses ADD COLUMN area_id TEXT;            -- coarse location, for reach reports

CREATE TABLE outcomes (
    consultation_id TEXT PRIMARY KEY,
    told_us         TEXT,            -- JSON: language -> "What you told us"
    told_us_at      TEXT,
    decided         TEXT,            -- JSON: language -> "What we did"
    decided_at      TEXT
) WITHOUT ROWID;

-- "Did we get this right?" Keyed by a keyed hash of resident and consultation, never a Telegram id.
CREATE TABLE outcome_feedback (
    feedback_id     TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    rating          TEXT NOT NULL CHECK (rating IN ('yes', 'partly', 'no')),
    comment         TEXT,
    at              TEXT NOT NULL
) WITHOUT ROWID;
