-- Balade sync server: initial schema.
-- Times are RFC 3339 UTC strings with microseconds ("2026-05-01T10:00:00.000000Z"), so they sort as text.
-- Ids are UUID strings in their hyphenated lower-case form.

-- Enrolled field devices. Only a SHA-256 (hex) of the bearer token is kept.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_seen_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);

-- One-time enrolment codes, made by `balade-sync enroll --name NAME`. Only a SHA-256 of the code is kept.
CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT,
    device_id TEXT REFERENCES devices(id)
);

-- Walks (balades urbaines), upserted by pushes.
CREATE TABLE walks (
    id TEXT PRIMARY KEY,
    device_id TEXT REFERENCES devices(id),
    title TEXT NOT NULL,
    neighbourhood TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    participants_json TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL
);

-- Requests (incidents once stored by the server). `body_json` is the exact Incident as first pushed;
-- the other columns are the current, operator-corrected view.
CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    tracking_code TEXT NOT NULL UNIQUE,
    device_id TEXT REFERENCES devices(id),
    walk_id TEXT,
    source TEXT NOT NULL CHECK (source IN ('device', 'open311', 'console')),
    content_hash TEXT NOT NULL,
    body_json TEXT NOT NULL,
    category TEXT NOT NULL,
    subcategory TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    observed_at TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    accuracy_m REAL,
    l93_x REAL,
    l93_y REAL,
    address TEXT,
    state TEXT NOT NULL,
    service TEXT,
    outside_body TEXT,
    planned_date TEXT,
    duplicate_of TEXT REFERENCES requests(id),
    incomplete INTEGER NOT NULL DEFAULT 0 CHECK (incomplete IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX requests_device ON requests(device_id);
CREATE INDEX requests_state ON requests(state);
CREATE INDEX requests_duplicate_of ON requests(duplicate_of);

-- Per-year counter behind the human reference LR-<year>-<6 digits>.
CREATE TABLE reference_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- Append-only history. `seq` is THE monotonic sequence: feed cursor and ordering of everything.
-- public = 0 rows (internal notes) never leave the console.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests(id),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    public INTEGER NOT NULL CHECK (public IN (0, 1)),
    service TEXT,
    outside_body TEXT,
    note TEXT,
    planned_date TEXT,
    reason TEXT,
    duplicate_of TEXT,
    category TEXT,
    subcategory TEXT,
    address TEXT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX events_request ON events(request_id, seq);

-- Photos the server holds, content-addressed: the file is <data>/photos/<sha[0..2]>/<sha>.
CREATE TABLE photos (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    stored_at TEXT NOT NULL
);

-- Photos a request references (present or not yet uploaded).
CREATE TABLE request_photos (
    request_id TEXT NOT NULL REFERENCES requests(id),
    sha256 TEXT NOT NULL,
    idx INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    PRIMARY KEY (request_id, idx)
);
CREATE INDEX request_photos_sha ON request_photos(sha256);

-- tus uploads in progress. The partial file is <data>/uploads/<id>.part; `offset` is the durable truth
-- (the file is fsynced before the offset is committed).
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    sha256 TEXT NOT NULL,
    mime TEXT NOT NULL,
    incident_id TEXT,
    length INTEGER NOT NULL,
    "offset" INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
