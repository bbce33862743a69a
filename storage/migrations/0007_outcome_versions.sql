-- Outcomes can be corrected: every version of "What you told us" and "What we did" is kept.
-- `outcomes` keeps the latest texts (what /outcomes shows); a correction adds a version here and
-- goes, marked as a correction, to everyone the earlier version was sent to.
CREATE TABLE outcome_versions (
    consultation_id TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('told_us', 'decided')),
    version         INTEGER NOT NULL,     -- 1: the original; 2 and on: corrections
    texts           TEXT NOT NULL,        -- JSON: language -> text
    published_at    TEXT NOT NULL,
    published_by    INTEGER,              -- the officer; NULL for outcomes published before versions were kept
    PRIMARY KEY (consultation_id, kind, version)
) WITHOUT ROWID;

INSERT INTO outcome_versions(consultation_id, kind, version, texts, published_at)
SELECT consultation_id, 'told_us', 1, told_us, told_us_at FROM outcomes WHERE told_us IS NOT NULL;
INSERT INTO outcome_versions(consultation_id, kind, version, texts, published_at)
SELECT consultation_id, 'decided', 1, decided, decided_at FROM outcomes WHERE decided IS NOT NULL;
