-- Residents' personal data under UU PDP (SQLite variant; the PostgreSQL one changes the
-- audit log's CHECK in place instead of rebuilding the table).

-- When a report's contact details were erased, and by what: 'retention' (the periodic task,
-- ADUAN_CONTACT_RETENTION_MONTHS after the report closed), 'reporter' (through the private
-- link's "Data saya") or 'office' (an admin answering a request that came to the office).
-- The values themselves are overwritten, never kept behind a flag.
ALTER TABLE reports ADD COLUMN contact_erased_at TEXT;
ALTER TABLE reports ADD COLUMN contact_erased_by TEXT
    CHECK (contact_erased_by IN ('retention', 'reporter', 'office'));
-- The retention task's search: closed reports whose contact is still held.
CREATE INDEX reports_closed_contact ON reports (closed_at) WHERE contact_erased_at IS NULL;
-- A resolved report nobody closes (ADUAN_AUTOCLOSE_WORKDAYS=0) counts from its resolution.
CREATE INDEX reports_resolved_contact ON reports (resolved_at)
    WHERE contact_erased_at IS NULL AND status = 'resolved';

-- The audit log also records each export and erasure of a resident's personal data and each
-- staff CSV holding contacts ('personal_data'). SQLite cannot change a CHECK: the table is
-- rebuilt with its rows, indexes and append-only triggers.
CREATE TABLE audit_log_new (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor_id     INTEGER,
    actor_name   TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN
                 ('targets', 'holiday', 'routing', 'account', 'apikey', 'personal_data')),
    action       TEXT NOT NULL,
    object_table TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT
);
INSERT INTO audit_log_new
    SELECT id, at, actor_id, actor_name, kind, action, object_table, object_key,
           before_json, after_json
    FROM audit_log ORDER BY id;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_kind ON audit_log (kind, id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
