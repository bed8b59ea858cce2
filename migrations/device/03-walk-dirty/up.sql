-- Device store, schema 3: a walk changed since the server last stored it (started, ended) is
-- "dirty" and travels with the next push even when it has no queued incident.
ALTER TABLE walks ADD COLUMN dirty INTEGER NOT NULL DEFAULT 1;
