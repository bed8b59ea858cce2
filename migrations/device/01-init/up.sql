-- Device store, schema 1. Applied by rusqlite_migration at open (PRAGMA user_version).

-- Key/value settings: server url, device id, token, feed cursor, taxonomy json + version,
-- last sync at, last error.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE walks (
    id         TEXT PRIMARY KEY,
    body       TEXT NOT NULL,           -- balade_protocol::incident::Walk as JSON
    ended      INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE incidents (
    id                 TEXT PRIMARY KEY,  -- UUIDv7 made at capture
    body               TEXT NOT NULL,     -- Incident JSON as last edited
    walk_id            TEXT,
    local_state        TEXT NOT NULL
        CHECK (local_state IN ('draft', 'queued', 'sending', 'acknowledged', 'frozen')),
    content_hash       TEXT NOT NULL,
    last_error_code    TEXT,
    last_error_message TEXT,
    reference          TEXT,
    tracking_code      TEXT,
    server_state       TEXT,
    service            TEXT,
    outside_body       TEXT,
    planned_date       TEXT,
    reason             TEXT,
    resolved_at        TEXT,
    duplicate_of       TEXT,
    last_seq           INTEGER NOT NULL DEFAULT 0,
    unread             INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;
CREATE INDEX incidents_by_state ON incidents (local_state, created_at);

CREATE TABLE photos (
    incident_id   TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    path          TEXT NOT NULL,        -- relative to the data dir: photos/<sha256>
    size          INTEGER NOT NULL,
    mime          TEXT NOT NULL,
    upload_state  TEXT NOT NULL DEFAULT 'missing'
        CHECK (upload_state IN ('missing', 'uploading', 'uploaded')),
    upload_url    TEXT,
    upload_offset INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    PRIMARY KEY (incident_id, idx)
) STRICT;
CREATE INDEX photos_by_sha ON photos (sha256);

-- Public status events from the feed, raw JSON; seq is the server's sequence (unique).
CREATE TABLE status_events (
    seq         INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL,
    raw         TEXT NOT NULL
) STRICT;
CREATE INDEX status_events_by_incident ON status_events (incident_id, seq);

-- Citizen mode: tracking codes the user follows.
CREATE TABLE followed_codes (
    code     TEXT PRIMARY KEY,
    added_at TEXT NOT NULL,
    label    TEXT
) STRICT;
