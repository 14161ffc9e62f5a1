-- A replayed submission (same Idempotency-Key) gets the report's private link only when it
-- comes from the device that sent the original: the phone's outbox sends a random secret of
-- its own with every submission, and only its sha256 is kept, beside the key.
ALTER TABLE reports ADD COLUMN idempotency_device TEXT;

-- Photos that a failed form attempt keeps for the next attempt, per client (a keyed hash of
-- its address, never the address), so that one client can leave only a few photo files
-- behind that no report uses (web/limits.py).
CREATE TABLE held_photos (
    client  TEXT NOT NULL,
    sha256  TEXT NOT NULL,
    held_at TEXT NOT NULL,
    PRIMARY KEY (client, sha256)
);
CREATE INDEX held_photos_sha ON held_photos (sha256);
CREATE INDEX held_photos_at ON held_photos (held_at);

-- A submission retried with the same idempotency key while its first try is still at work
-- counts once against the client's limit on new reports.
ALTER TABLE rate_events ADD COLUMN ref TEXT;
