-- An officer's tap on "Kabari via WhatsApp" for one public step of a case. The message goes
-- out through the officer's own WhatsApp (a wa.me link), so this row is the only record that
-- the resident was told, and by whom: the case page shows it to everyone who reads the case,
-- supervisors included. One row per step and officer: tapping again changes nothing.
CREATE TABLE contact_taps (
    report_id INTEGER NOT NULL REFERENCES reports (id),
    event_id  INTEGER NOT NULL REFERENCES report_events (id),
    user_id   INTEGER NOT NULL REFERENCES users (id),
    channel   TEXT NOT NULL CHECK (channel IN ('whatsapp')),
    tapped_at TEXT NOT NULL,
    PRIMARY KEY (event_id, user_id, channel)
);
CREATE INDEX contact_taps_report ON contact_taps (report_id);
