-- Administration audit trail (sync-server/src/console/audit.rs): every admin change (accounts,
-- services, taxonomy, routing rules, refusal templates), written in the same step as the change.
-- Append-only: the triggers refuse UPDATE and DELETE. Runs after 01-init, 02-console, 03-open311.

CREATE TABLE admin_audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,              -- RFC 3339 UTC, sorts as text like events.at
    actor       TEXT NOT NULL,              -- console login of the admin
    action      TEXT NOT NULL,              -- e.g. account_created, category_edited
    subject     TEXT NOT NULL,              -- what changed: a login, a category code, a rule id...
    before_json TEXT,                       -- NULL when the thing did not exist
    after_json  TEXT                        -- NULL when the thing no longer exists
) STRICT;
CREATE INDEX admin_audit_at ON admin_audit(at, id);

CREATE TRIGGER admin_audit_no_update BEFORE UPDATE ON admin_audit
BEGIN SELECT RAISE(ABORT, 'admin_audit is append-only'); END;
CREATE TRIGGER admin_audit_no_delete BEFORE DELETE ON admin_audit
BEGIN SELECT RAISE(ABORT, 'admin_audit is append-only'); END;
