-- Results read counts kept as answers are written, rather than counted from every answer row
-- at each look: with 100,000 responses of 10 questions a count was a scan of 1.1 million
-- index entries (0.3 s of CPU, well over a second on a busy machine), now it reads one row per
-- question and value. Triggers on `answers` keep the counts, whatever writes or deletes answers
-- (submitting, /delete, retention, cascades), in the same statement, so they cannot disagree.
-- A count that falls to zero is deleted with its value: a free-text answer is kept here only as
-- long as an answer row holding the same text exists.
CREATE TABLE answer_counts (
    consultation_id TEXT NOT NULL,
    question_id     TEXT NOT NULL,
    value           TEXT NOT NULL,
    given           INTEGER NOT NULL,   -- answer rows with this value (a ticked choice is one)
    answered        INTEGER NOT NULL,   -- of them, rows with first = 1: people who answered the question
    PRIMARY KEY (consultation_id, question_id, value)
) WITHOUT ROWID;

INSERT INTO answer_counts(consultation_id, question_id, value, given, answered)
SELECT consultation_id, question_id, value, COUNT(*), SUM(first) FROM answers WHERE value IS NOT NULL
GROUP BY consultation_id, question_id, value;

CREATE TRIGGER answers_counted AFTER INSERT ON answers WHEN NEW.value IS NOT NULL
BEGIN
    INSERT INTO answer_counts(consultation_id, question_id, value, given, answered)
    VALUES (NEW.consultation_id, NEW.question_id, NEW.value, 1, NEW.first)
    ON CONFLICT (consultation_id, question_id, value)
    DO UPDATE SET given = given + 1, answered = answered + excluded.answered;
END;

CREATE TRIGGER answers_uncounted AFTER DELETE ON answers WHEN OLD.value IS NOT NULL
BEGIN
    UPDATE answer_counts SET given = given - 1, answered = answered - OLD.first
    WHERE consultation_id = OLD.consultation_id AND question_id = OLD.question_id AND value = OLD.value;
    DELETE FROM answer_counts
    WHERE consultation_id = OLD.consultation_id AND question_id = OLD.question_id AND value = OLD.value
    AND given <= 0;
END;

-- Nothing changes these columns of an answer today (erasure with "anonymise" changes only its
-- response id); were anything to, the counts follow.
CREATE TRIGGER answers_recounted AFTER UPDATE OF consultation_id, question_id, value, first ON answers
BEGIN
    UPDATE answer_counts SET given = given - 1, answered = answered - OLD.first
    WHERE OLD.value IS NOT NULL
    AND consultation_id = OLD.consultation_id AND question_id = OLD.question_id AND value = OLD.value;
    DELETE FROM answer_counts
    WHERE OLD.value IS NOT NULL
    AND consultation_id = OLD.consultation_id AND question_id = OLD.question_id AND value = OLD.value
    AND given <= 0;
    INSERT INTO answer_counts(consultation_id, question_id, value, given, answered)
    SELECT NEW.consultation_id, NEW.question_id, NEW.value, 1, NEW.first WHERE NEW.value IS NOT NULL
    ON CONFLICT (consultation_id, question_id, value)
    DO UPDATE SET given = given + 1, answered = answered + excluded.answered;
END;
