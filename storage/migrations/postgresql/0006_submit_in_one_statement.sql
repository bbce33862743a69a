-- PostgreSQL form of ../0006_submit_in_one_statement.sql: the same trigger, in PL/pgSQL.
-- Submitting is one UPDATE carrying the answer rows in `pending_answer_rows`; the trigger writes
-- them to `answers` within that same statement and clears the column (before the row is written,
-- so the row is written once).
ALTER TABLE responses ADD COLUMN pending_answer_rows TEXT;

CREATE FUNCTION responses_submitted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO answers(response_id, consultation_id, question_id, value, first)
    SELECT NEW.response_id, NEW.consultation_id, item->>0, item->>1, (item->>2)::integer
    FROM json_array_elements(NEW.pending_answer_rows::json) AS item;
    NEW.pending_answer_rows := NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER responses_submitted BEFORE UPDATE OF submitted_at ON responses
FOR EACH ROW
WHEN (OLD.submitted_at IS NULL AND NEW.submitted_at IS NOT NULL AND NEW.pending_answer_rows IS NOT NULL)
EXECUTE FUNCTION responses_submitted();
