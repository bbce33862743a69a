-- PostgreSQL form of ../0007_outcome_versions.sql.
CREATE TABLE outcome_versions (
    consultation_id TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('told_us', 'decided')),
    version         BIGINT NOT NULL,
    texts           TEXT NOT NULL,
    published_at    TEXT NOT NULL,
    published_by    BIGINT,
    PRIMARY KEY (consultation_id, kind, version)
);

INSERT INTO outcome_versions(consultation_id, kind, version, texts, published_at)
SELECT consultation_id, 'told_us', 1, told_us, told_us_at FROM outcomes WHERE told_us IS NOT NULL;
INSERT INTO outcome_versions(consultation_id, kind, version, texts, published_at)
SELECT consultation_id, 'decided', 1, decided, decided_at FROM outcomes WHERE decided IS NOT NULL;
