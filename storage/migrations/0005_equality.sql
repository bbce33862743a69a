-- Equality monitoring ("About you"): stored apart from survey answers, keyed by a keyed hash of
-- the resident alone, reported only in aggregate, and withdrawable on its own.
CREATE TABLE equality_answers (
    equality_id     TEXT NOT NULL,
    consultation_id TEXT NOT NULL,
    question        TEXT NOT NULL,
    value           TEXT NOT NULL,
    at              TEXT NOT NULL,
    PRIMARY KEY (equality_id, consultation_id, question)
) WITHOUT ROWID;
CREATE INDEX equality_by_consultation ON equality_answers(consultation_id, question, value);
