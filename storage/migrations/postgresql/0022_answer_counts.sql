-- PostgreSQL form of ../0022_answer_counts.sql: the same counts, kept by the same three triggers in
-- PL/pgSQL. Concurrent submissions of the same value meet on the count's row (ON CONFLICT takes its
-- lock), so no increment is lost across workers.
CREATE TABLE answer_counts (
    consultation_id TEXT NOT NULL,
    question_id     TEXT NOT NULL,
    value           TEXT NOT NULL,
    given           INTEGER NOT NULL,
    answered        INTEGER NOT NULL,
    PRIMARY KEY (consultation_id, question_id, value)
);

INSERT INTO answer_counts(consultation_id, question_id, value, given, answered)
SELECT consultation_id, question_id, value, COUNT(*), SUM(first) FROM answers WHERE value IS NOT NULL
GROUP BY consultation_id, question_id, value;

CREATE FUNCTION answer_counted(c TEXT, q TEXT, v TEXT, f INTEGER) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO answer_counts(consultation_id, question_id, value, given, answered)
    VALUES (c, q, v, 1, f)
    ON CONFLICT (consultation_id, question_id, value)
    DO UPDATE SET given = answer_counts.given + 1, answered = answer_counts.answered + excluded.answered;
END
$$;

CREATE FUNCTION answer_uncounted(c TEXT, q TEXT, v TEXT, f INTEGER) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE answer_counts SET given = given - 1, answered = answered - f
    WHERE consultation_id = c AND question_id = q AND value = v;
    DELETE FROM answer_counts WHERE consultation_id = c AND question_id = q AND value = v AND given <= 0;
END
$$;

CREATE FUNCTION answers_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.value IS NOT NULL THEN
        PERFORM answer_uncounted(OLD.consultation_id, OLD.question_id, OLD.value, OLD.first);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.value IS NOT NULL THEN
        PERFORM answer_counted(NEW.consultation_id, NEW.question_id, NEW.value, NEW.first);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER answers_counted AFTER INSERT OR DELETE OR UPDATE OF consultation_id, question_id, value, first
ON answers FOR EACH ROW EXECUTE FUNCTION answers_counted();
