-- Submitting a response is one statement. The UPDATE that marks a response submitted carries
-- its answer rows (worked out by the bot, `storage.responses.answer_rows`) in
-- `pending_answer_rows`; this trigger writes them to `answers` within that same statement and
-- clears the column. So a submission is atomic in one round trip to SQLite's thread, and no
-- lock is held across awaits while other residents' answers wait behind it.
ALTER TABLE responses ADD COLUMN pending_answer_rows TEXT;   -- JSON [[question, value, first], ...]

CREATE TRIGGER responses_submitted AFTER UPDATE OF submitted_at ON responses
WHEN OLD.submitted_at IS NULL AND NEW.submitted_at IS NOT NULL AND NEW.pending_answer_rows IS NOT NULL
BEGIN
    INSERT INTO answers(response_id, consultation_id, question_id, value, first)
    SELECT NEW.response_id, NEW.consultation_id, json_extract(row.value, '$[0]'),
           json_extract(row.value, '$[1]'), json_extract(row.value, '$[2]')
    FROM json_each(NEW.pending_answer_rows) AS row;
    UPDATE responses SET pending_answer_rows = NULL WHERE response_id = NEW.response_id;
END;
