-- Whether the engagement team has answered a resident's conversation: 'open' while the
-- resident's last message waits for a reply, 'answered' once an officer has replied (who
-- replied is in the audit log, not here: this row is the resident's and goes out in /mydata).
ALTER TABLE contact_threads ADD COLUMN state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered'));
ALTER TABLE contact_threads ADD COLUMN answered_at TEXT;
