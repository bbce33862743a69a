-- Storage limitation: residents who have been away a long time are told, then removed.
ALTER TABLE residents ADD COLUMN inactivity_notice_at TEXT;
CREATE INDEX residents_by_last_seen ON residents(last_seen_at);
