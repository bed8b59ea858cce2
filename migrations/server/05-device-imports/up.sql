-- Device export files imported by an operator (sync-server/src/device_import.rs). The requests
-- themselves are ordinary device requests (source 'device'); this table keeps where they came
-- from: one row per request the import created, with the file's manifest facts. A request
-- imported from a device not enrolled then has device_id NULL until that device syncs and
-- takes it over. Append-only. Runs after 01..04.

CREATE TABLE device_imports (
    request_id        TEXT PRIMARY KEY REFERENCES requests(id),
    imported_at       TEXT NOT NULL,        -- RFC 3339 UTC
    exported_at       TEXT NOT NULL,        -- from the file's manifest
    manifest_device   TEXT,                 -- the device id the file names, if any
    actor             TEXT NOT NULL         -- 'cli' or the console login
) STRICT;

CREATE TRIGGER device_imports_no_update BEFORE UPDATE ON device_imports
BEGIN SELECT RAISE(ABORT, 'device_imports is append-only'); END;
CREATE TRIGGER device_imports_no_delete BEFORE DELETE ON device_imports
BEGIN SELECT RAISE(ABORT, 'device_imports is append-only'); END;
