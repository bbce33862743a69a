-- PostgreSQL form of ../0014_response_source.sql.
ALTER TABLE responses ADD COLUMN source TEXT;
