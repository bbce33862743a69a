-- "Did we get this right?" was stored from forged buttons, even for consultations without a
-- published "What you told us" (or that do not exist), where erasure could not find it.
-- Feedback is now accepted only from people the outcome was sent to; drop what no outcome explains.
DELETE FROM outcome_feedback
WHERE consultation_id NOT IN (SELECT consultation_id FROM outcomes WHERE told_us IS NOT NULL);
