-- Residents' personal data under UU PDP; PostgreSQL variant of 0014_personal_data.sqlite.sql
-- (the comments there explain the columns).
ALTER TABLE reports ADD COLUMN contact_erased_at TEXT;
ALTER TABLE reports ADD COLUMN contact_erased_by TEXT
    CHECK (contact_erased_by IN ('retention', 'reporter', 'office'));
CREATE INDEX reports_closed_contact ON reports (closed_at) WHERE contact_erased_at IS NULL;
CREATE INDEX reports_resolved_contact ON reports (resolved_at)
    WHERE contact_erased_at IS NULL AND status = 'resolved';

ALTER TABLE audit_log DROP CONSTRAINT audit_log_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_kind_check CHECK (kind IN
    ('targets', 'holiday', 'routing', 'account', 'apikey', 'personal_data'));
