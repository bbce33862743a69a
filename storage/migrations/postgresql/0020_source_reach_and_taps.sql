-- PostgreSQL form of ../0020_source_reach_and_taps.sql.
CREATE TABLE take_part_taps (
    message   TEXT NOT NULL,
    tapper_id TEXT NOT NULL,
    PRIMARY KEY (message, tapper_id)
);

CREATE INDEX responses_by_source ON responses(consultation_id, source, submitted_at);
