-- PostgreSQL form of ../0008_feedback_only_on_published_outcomes.sql.
DELETE FROM outcome_feedback
WHERE consultation_id NOT IN (SELECT consultation_id FROM outcomes WHERE told_us IS NOT NULL);
