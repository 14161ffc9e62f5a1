-- "Dukung": a resident supports a report someone else filed instead of filing it again.
-- One support per report and phone. `supporter`: sha256 of a random id the phone keeps in
-- a cookie (web/supports.py); never a name, number or address. `support_count` is kept on
-- the report in the same transaction, so the inbox sorts by it and the tracking page's
-- cache key reads it without counting rows.
CREATE TABLE supports (
    report_id  BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    supporter  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (report_id, supporter)
);
CREATE INDEX supports_supporter ON supports (supporter, created_at);

ALTER TABLE reports ADD COLUMN support_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX reports_category_lat ON reports (category_code, lat);
CREATE INDEX reports_area_received ON reports (area_code, received_at);
