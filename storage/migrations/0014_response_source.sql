-- Where a response came from: the source tag of the link or poster QR code the resident
-- followed ("surgery-waiting-room"), so reach can be counted by source. It names a place a
-- poster hangs, not a person; NULL for a response that came by no tagged link.
ALTER TABLE responses ADD COLUMN source TEXT;
