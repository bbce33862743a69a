-- PostgreSQL form of ../0004_retention.sql.
ALTER TABLE residents ADD COLUMN inactivity_notice_at TEXT;
CREATE INDEX residents_by_last_seen ON residents(last_seen_at);
