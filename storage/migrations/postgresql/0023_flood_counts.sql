-- PostgreSQL form of ../0023_flood_counts.sql.
CREATE TABLE flood_counts (
    name   TEXT NOT NULL,
    minute BIGINT NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (name, minute)
);
