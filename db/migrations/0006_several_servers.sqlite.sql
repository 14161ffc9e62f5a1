-- Several servers on one database, and a staff text search that scales (SQLite variant;
-- the PostgreSQL one does the same with pg_trgm).

-- Staff text search: an FTS5 index of each report's description and address with the
-- trigram tokenizer, which makes a quoted phrase a case-insensitive substring match
-- ("lubang" finds "berlubang"). External content: the text stays in `reports`, the index
-- follows it through the triggers below. A search that matches nothing on a million
-- reports answers from the index instead of reading every row (bench/inbox_million.py).
CREATE VIRTUAL TABLE reports_fts USING fts5(
    description, address, content = 'reports', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO reports_fts (reports_fts) VALUES ('rebuild');

CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports
BEGIN
    INSERT INTO reports_fts (rowid, description, address)
    VALUES (new.id, new.description, new.address);
END;

CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports
BEGIN
    INSERT INTO reports_fts (reports_fts, rowid, description, address)
    VALUES ('delete', old.id, old.description, old.address);
END;

CREATE TRIGGER reports_fts_update AFTER UPDATE OF description, address ON reports
BEGIN
    INSERT INTO reports_fts (reports_fts, rowid, description, address)
    VALUES ('delete', old.id, old.description, old.address);
    INSERT INTO reports_fts (rowid, description, address)
    VALUES (new.id, new.description, new.address);
END;

-- Held photos get an explicit id, the order they were held in (the rowid was used so far;
-- PostgreSQL has none).
CREATE TABLE held_photos_new (
    id      INTEGER PRIMARY KEY,
    client  TEXT NOT NULL,
    sha256  TEXT NOT NULL,
    held_at TEXT NOT NULL,
    UNIQUE (client, sha256)
);
INSERT INTO held_photos_new (client, sha256, held_at)
    SELECT client, sha256, held_at FROM held_photos ORDER BY rowid;
DROP TABLE held_photos;
ALTER TABLE held_photos_new RENAME TO held_photos;
CREATE INDEX held_photos_sha ON held_photos (sha256);
CREATE INDEX held_photos_at ON held_photos (held_at);

-- Periodic tasks run once across every server: a server runs a task only while it holds
-- the task's lease, which it takes when nobody holds it (or the holder's lease expired:
-- a server that died mid-task) and the last run finished long enough ago.
CREATE TABLE task_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    finished_at TEXT
);
