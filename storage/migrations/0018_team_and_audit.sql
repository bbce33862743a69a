-- The workspace's team and audit pages.

-- An officer's or admin's name as Telegram last gave it (when they used an officer command or
-- opened an invite link), so that the team page and the audit log name people, not ids. Staff
-- data, kept to what is needed: the name and @username, nothing else Telegram sends. Kept after
-- someone stops being an officer, because the audit log still names what they did; erased with
-- the person by /delete like every row keyed by their id.
CREATE TABLE officer_names (
    user_id    INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name  TEXT,
    username   TEXT,
    updated_at TEXT NOT NULL
);

-- Which consultation an audited action concerns, so the log can be filtered by it. Written by
-- new entries (given, or the consultation whose id the detail begins with); here filled in for
-- the entries already written: those whose detail begins with a consultation's id ("gp-hours as
-- CSV, ...", "gp-hours: version 2") and outcomes ("what_we_did for gp-hours to 12 people").
ALTER TABLE audit_log ADD COLUMN consultation_id TEXT;
UPDATE audit_log SET consultation_id = (
    SELECT known.id FROM (SELECT id FROM consultations UNION SELECT id FROM consultation_drafts) AS known
    WHERE audit_log.detail = known.id
       OR substr(audit_log.detail, 1, length(known.id) + 1) IN (known.id || ':', known.id || ' ', known.id || ',')
       OR (audit_log.action IN ('publish outcome', 'correct outcome')
           AND (instr(audit_log.detail, ' for ' || known.id || ' ') > 0
                OR instr(audit_log.detail, ' for ' || known.id || ',') > 0))
    ORDER BY length(known.id) DESC
    LIMIT 1
);
CREATE INDEX audit_log_by_consultation ON audit_log(consultation_id, id);
CREATE INDEX audit_log_by_actor ON audit_log(actor_id, id);
-- When each officer last signed in to the workspace (the team page).
CREATE INDEX audit_log_by_action ON audit_log(action, actor_id, at);
