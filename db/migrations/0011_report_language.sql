-- The language the resident filed the report in ('id' or 'en': the page's language when the
-- form was sent; 'id' for every report filed before this, and for staff intake), so the
-- messages they agreed to (reports.notify_by) are written in it.
ALTER TABLE reports ADD COLUMN language TEXT NOT NULL DEFAULT 'id';
