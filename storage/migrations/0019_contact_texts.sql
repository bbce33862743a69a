-- The workspace's inbox shows each conversation with the team, so what was said is now kept:
-- each message of a thread, the resident's and the team's, in order. It is the resident's
-- personal data: /mydata sends it to them (without the officer's id: another person's data),
-- /delete erases it with the thread, and the scheduled purge removes a conversation the
-- retention period after its last message (conversations/retention.py).
CREATE TABLE contact_texts (
    id          INTEGER PRIMARY KEY,
    thread_id   INTEGER NOT NULL REFERENCES contact_threads(id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,  -- the resident's chat, whoever wrote it
    from_team   INTEGER NOT NULL CHECK (from_team IN (0, 1)),
    officer_id  INTEGER,           -- the officer who wrote a reply from the team
    text        TEXT NOT NULL,
    sent_at     TEXT NOT NULL
);
CREATE INDEX contact_texts_by_thread ON contact_texts(thread_id, id);
CREATE INDEX contact_texts_by_chat ON contact_texts(chat_id);

-- An officer closed the conversation in the inbox (it leaves the open list); the resident
-- writing again opens it again.
ALTER TABLE contact_threads ADD COLUMN closed_at TEXT;
