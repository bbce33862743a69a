-- PostgreSQL form of ../0018_team_and_audit.sql (strpos for SQLite's instr).
CREATE TABLE officer_names (
    user_id    BIGINT PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name  TEXT,
    username   TEXT,
    updated_at TEXT NOT NULL
);

ALTER TABLE audit_log ADD COLUMN consultation_id TEXT;
UPDATE audit_log SET consultation_id = (
    SELECT known.id FROM (SELECT id FROM consultations UNION SELECT id FROM consultation_drafts) AS known
    WHERE audit_log.detail = known.id
       OR substr(audit_log.detail, 1, length(known.id) + 1) IN (known.id || ':', known.id || ' ', known.id || ',')
       OR (audit_log.action IN ('publish outcome', 'correct outcome')
           AND (strpos(audit_log.detail, ' for ' || known.id || ' ') > 0
                OR strpos(audit_log.detail, ' for ' || known.id || ',') > 0))
    ORDER BY length(known.id) DESC
    LIMIT 1
);
CREATE INDEX audit_log_by_consultation ON audit_log(consultation_id, id);
CREATE INDEX audit_log_by_actor ON audit_log(actor_id, id);
CREATE INDEX audit_log_by_action ON audit_log(action, actor_id, at);
