-- PostgreSQL form of ../0010_contact_thread_state.sql.
ALTER TABLE contact_threads ADD COLUMN state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered'));
ALTER TABLE contact_threads ADD COLUMN answered_at TEXT;
