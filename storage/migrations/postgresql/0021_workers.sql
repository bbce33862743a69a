-- PostgreSQL form of ../0021_workers.sql.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE ticks (
    job    TEXT NOT NULL,
    tick   TEXT NOT NULL,
    worker TEXT NOT NULL,
    PRIMARY KEY (job, tick)
);
