-- Aduan's initial schema. Times are UTC text 'YYYY-MM-DDTHH:MM:SSZ' (fixed width, so they
-- sort and compare as text); the pages show them in the city's zone.

-- Official administrative areas (Kepmendagri codes): level 1 province, 2 kota/kabupaten,
-- 3 kecamatan, 4 kelurahan/desa.
CREATE TABLE areas (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),
    parent_code TEXT REFERENCES areas (code)
);
CREATE INDEX areas_parent ON areas (parent_code, name);

CREATE TABLE agencies (
    code            TEXT PRIMARY KEY,
    name_id         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    -- the inspectorate alone sees reporter contact of confidential categories
    is_inspectorate INTEGER NOT NULL DEFAULT 0 CHECK (is_inspectorate IN (0, 1))
);

-- Deadline targets are an amount and a unit: clock 'hours' or 'workdays'.
CREATE TABLE categories (
    code                 TEXT PRIMARY KEY,
    name_id              TEXT NOT NULL,
    name_en              TEXT NOT NULL,
    description_id       TEXT NOT NULL DEFAULT '',
    description_en       TEXT NOT NULL DEFAULT '',
    group_id             TEXT NOT NULL DEFAULT '',
    group_en             TEXT NOT NULL DEFAULT '',
    keywords             TEXT NOT NULL DEFAULT '',
    default_agency_code  TEXT NOT NULL REFERENCES agencies (code),
    confidential         INTEGER NOT NULL DEFAULT 0 CHECK (confidential IN (0, 1)),
    response_amount      INTEGER NOT NULL DEFAULT 24 CHECK (response_amount > 0),
    response_unit        TEXT NOT NULL DEFAULT 'hours' CHECK (response_unit IN ('hours', 'workdays')),
    dispatch_amount      INTEGER NOT NULL DEFAULT 3 CHECK (dispatch_amount > 0),
    dispatch_unit        TEXT NOT NULL DEFAULT 'workdays' CHECK (dispatch_unit IN ('hours', 'workdays')),
    resolution_amount    INTEGER NOT NULL DEFAULT 5 CHECK (resolution_amount > 0),
    resolution_unit      TEXT NOT NULL DEFAULT 'workdays' CHECK (resolution_unit IN ('hours', 'workdays')),
    sort_order           INTEGER NOT NULL DEFAULT 0,
    active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'officer')),
    agency_code   TEXT REFERENCES agencies (code),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL
);

-- An officer may hold several kelurahan (or a kecamatan/kota, which covers what is below).
CREATE TABLE user_areas (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    area_code TEXT NOT NULL REFERENCES areas (code),
    PRIMARY KEY (user_id, area_code)
);

-- Server-side sessions: the cookie carries a random id, the table its hash.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins and other counted events (per account, per client), for rate limits.
CREATE TABLE rate_events (
    bucket TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX rate_events_bucket ON rate_events (bucket, at);

CREATE TABLE api_keys (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    rate_per_minute INTEGER NOT NULL DEFAULT 60,
    created_by      INTEGER REFERENCES users (id),
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);

CREATE TABLE reports (
    id                  INTEGER PRIMARY KEY,
    -- 8 Crockford base32 characters, stored without the dash
    code                TEXT NOT NULL UNIQUE,
    -- the client's Idempotency-Key (outbox, Open311 device_id + key) and a fingerprint of
    -- the content it came with, so a replay with other content can be refused
    idempotency_key     TEXT UNIQUE,
    request_hash        TEXT,
    category_code       TEXT NOT NULL REFERENCES categories (code),
    area_code           TEXT NOT NULL REFERENCES areas (code),
    agency_code         TEXT REFERENCES agencies (code),
    description         TEXT NOT NULL,
    address             TEXT NOT NULL DEFAULT '',
    rt_rw               TEXT NOT NULL DEFAULT '',
    lat                 REAL,
    lon                 REAL,
    -- 'form' when the resident gave it, 'photo' when read from a photo's EXIF (staff only)
    location_source     TEXT CHECK (location_source IN ('form', 'photo')),
    channel             TEXT NOT NULL CHECK (channel IN
                        ('web', 'outbox', 'walk_in', 'whatsapp', 'phone', 'email', 'social', 'open311')),
    reporter_name       TEXT NOT NULL DEFAULT '',
    reporter_phone      TEXT NOT NULL DEFAULT '',
    reporter_email      TEXT NOT NULL DEFAULT '',
    anonymous           INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1)),
    confidential        INTEGER NOT NULL DEFAULT 0 CHECK (confidential IN (0, 1)),
    on_behalf           INTEGER NOT NULL DEFAULT 0 CHECK (on_behalf IN (0, 1)),
    on_behalf_name      TEXT NOT NULL DEFAULT '',
    on_behalf_phone     TEXT NOT NULL DEFAULT '',
    on_behalf_no_phone  INTEGER NOT NULL DEFAULT 0 CHECK (on_behalf_no_phone IN (0, 1)),
    volunteer_name      TEXT NOT NULL DEFAULT '',
    -- when the resident wrote it (phone clock, walk-in time) and when the server got it
    written_at          TEXT,
    received_at         TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'received' CHECK (status IN
                        ('received', 'verified', 'dispatched', 'in_progress', 'resolved',
                         'rejected', 'duplicate', 'closed')),
    status_changed_at   TEXT NOT NULL,
    response_due_at     TEXT,
    first_response_at   TEXT,
    dispatch_due_at     TEXT,
    resolution_due_at   TEXT,
    resolved_at         TEXT,
    closed_at           TEXT,
    -- the deadline of the next step; NULL once nothing is due (the inbox orders by it)
    next_due_at         TEXT,
    duplicate_of        INTEGER REFERENCES reports (id),
    rating              INTEGER CHECK (rating BETWEEN 1 AND 5),
    reopen_count        INTEGER NOT NULL DEFAULT 0,
    created_by          INTEGER REFERENCES users (id),
    version             INTEGER NOT NULL DEFAULT 1,
    updated_at          TEXT NOT NULL
);
CREATE INDEX reports_area_due ON reports (area_code, next_due_at, id);
CREATE INDEX reports_agency_due ON reports (agency_code, next_due_at, id);
CREATE INDEX reports_due ON reports (next_due_at, id);
CREATE INDEX reports_status ON reports (status);
CREATE INDEX reports_received ON reports (received_at);
CREATE INDEX reports_category ON reports (category_code, received_at);
CREATE INDEX reports_updated ON reports (updated_at);

-- The timeline. `public_note` is shown to residents; `internal_note` to staff only.
CREATE TABLE report_events (
    id                INTEGER PRIMARY KEY,
    report_id         INTEGER NOT NULL REFERENCES reports (id),
    kind              TEXT NOT NULL,
    status_after      TEXT,
    public_note       TEXT NOT NULL DEFAULT '',
    internal_note     TEXT NOT NULL DEFAULT '',
    actor             TEXT NOT NULL CHECK (actor IN ('resident', 'staff', 'system')),
    user_id           INTEGER REFERENCES users (id),
    related_report_id INTEGER REFERENCES reports (id),
    created_at        TEXT NOT NULL
);
CREATE INDEX report_events_report ON report_events (report_id, id);

-- Photo files live under DATA_DIR/photos named by the sha256 of the stored JPEG.
CREATE TABLE photos (
    id         INTEGER PRIMARY KEY,
    report_id  INTEGER NOT NULL REFERENCES reports (id),
    event_id   INTEGER REFERENCES report_events (id),
    sha256     TEXT NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX photos_report ON photos (report_id, position);
CREATE INDEX photos_sha ON photos (sha256);

CREATE TABLE holidays (
    day  TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE canned_replies (
    id            INTEGER PRIMARY KEY,
    category_code TEXT REFERENCES categories (code),
    title         TEXT NOT NULL,
    body          TEXT NOT NULL
);
