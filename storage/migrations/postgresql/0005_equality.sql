-- PostgreSQL form of ../0005_equality.sql.
CREATE TABLE equality_answers (
    equality_id     TEXT NOT NULL,
    consultation_id TEXT NOT NULL,
    question        TEXT NOT NULL,
    value           TEXT NOT NULL,
    at              TEXT NOT NULL,
    PRIMARY KEY (equality_id, consultation_id, question)
);
CREATE INDEX equality_by_consultation ON equality_answers(consultation_id, question, value);
