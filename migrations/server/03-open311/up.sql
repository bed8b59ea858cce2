-- Standards (sync-server/src/open311): Open311 API keys and tokens, FixMyStreet-style
-- servicerequestupdates applied once per update_id, work-order connectors (signed webhooks)
-- with their delivery queue and dead letters. Runs after 01-init and 02-console.

-- Admin-made API keys (`balade-sync apikey add --name N`). Only a SHA-256 (hex) of the key is kept.
-- A key allows Open311 POSTs, servicerequestupdates POSTs and the export endpoints.
CREATE TABLE open311_api_keys (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;

-- Open311 tokens: GET tokens/{token} answers the request made by a POST.
-- Every POST answers its service_request_id directly too; the token stays valid forever.
-- Personal data given with the POST (email, names, phone, device_id) is kept here, never published.
CREATE TABLE open311_tokens (
    token      TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    api_key_id INTEGER NOT NULL REFERENCES open311_api_keys(id),
    contact_json TEXT NOT NULL DEFAULT '{}',
    media_url  TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX open311_tokens_request ON open311_tokens(request_id);

-- Updates received from back offices (FixMyStreet servicerequestupdates), applied once per update_id.
-- `applied` = 0 when the update was older than the newest one already applied (kept, not applied).
CREATE TABLE open311_updates (
    update_id      TEXT PRIMARY KEY,
    request_id     TEXT NOT NULL REFERENCES requests(id),
    status         TEXT NOT NULL,
    external_status_code TEXT,
    description    TEXT NOT NULL DEFAULT '',
    media_url      TEXT,
    updated_datetime TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    event_seq      INTEGER,
    applied        INTEGER NOT NULL CHECK (applied IN (0, 1)),
    api_key_id     INTEGER REFERENCES open311_api_keys(id)
) STRICT;
CREATE INDEX open311_updates_request ON open311_updates(request_id, updated_datetime);

-- Work-order connectors: a city service whose requests are pushed to an external system.
CREATE TABLE connectors (
    service_code TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    max_attempts INTEGER NOT NULL DEFAULT 8,
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at   TEXT NOT NULL
) STRICT;

-- One webhook to deliver per (request, routing event). Idempotency-Key = "<request id>:<event seq>".
-- status: pending → delivered | dead (after max_attempts failures: the dead-letter list).
CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY,
    service_code  TEXT NOT NULL,
    request_id    TEXT NOT NULL REFERENCES requests(id),
    event_seq     INTEGER NOT NULL,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (request_id, event_seq, service_code)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);

-- The connector worker's cursor over `events`: routed events after it are turned into deliveries.
CREATE TABLE connector_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
) STRICT;
INSERT INTO connector_cursor (id, last_seq) VALUES (1, 0);
