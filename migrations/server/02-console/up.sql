-- Review console (sync-server/src/console): operators, sessions, login throttling, refusal
-- templates, routing rules, public photo choices, settings, inbox indexes.
-- Runs after 01-init (requests, events, photos, walks, devices).

CREATE TABLE console_users (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,            -- argon2id PHC string
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator')),
    display_name  TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
) STRICT;

-- Services an operator may see and act on (admins see everything).
CREATE TABLE console_user_services (
    user_id      INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    service_code TEXT NOT NULL,
    PRIMARY KEY (user_id, service_code)
) STRICT;

-- Only the SHA-256 of the session cookie is stored.
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX console_sessions_user ON console_sessions(user_id);

-- Every login attempt, for throttling per account and per IP address.
CREATE TABLE console_login_attempts (
    id      INTEGER PRIMARY KEY,
    login   TEXT NOT NULL,
    ip      TEXT NOT NULL,
    at      TEXT NOT NULL,
    success INTEGER NOT NULL
) STRICT;
CREATE INDEX console_login_attempts_login ON console_login_attempts(login, at);
CREATE INDEX console_login_attempts_ip ON console_login_attempts(ip, at);

-- Refusal reasons offered to operators (admin-managed); the operator adds free text.
CREATE TABLE console_refusal_templates (
    id      INTEGER PRIMARY KEY,
    title   TEXT NOT NULL,
    body_fr TEXT NOT NULL,
    active  INTEGER NOT NULL DEFAULT 1
) STRICT;
INSERT INTO console_refusal_templates (title, body_fr) VALUES
    ('Domaine privé', 'Ce signalement concerne le domaine privé : la Ville ne peut pas intervenir.'),
    ('Hors compétence', 'Ce signalement ne relève pas de la compétence de la Ville.'),
    ('Déjà traité', 'L''intervention a déjà été réalisée.'),
    ('Non constaté', 'Le problème n''a pas été constaté sur place.');

-- Routing rules: category (+ optional neighbourhood polygon, GeoJSON) -> default recipient.
-- The most specific active rule wins: a polygon rule containing the point, then a plain rule,
-- then the taxonomy's default recipient; lower priority number first.
CREATE TABLE console_routing_rules (
    id             INTEGER PRIMARY KEY,
    category       TEXT NOT NULL,
    neighbourhood  TEXT,                    -- label shown to admins
    polygon_json   TEXT,                    -- GeoJSON Polygon/MultiPolygon geometry, or NULL
    recipient_code TEXT NOT NULL,
    priority       INTEGER NOT NULL DEFAULT 100,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL
) STRICT;
CREATE INDEX console_routing_rules_category ON console_routing_rules(category, active);

-- Photos an operator allowed on the citizen page.
CREATE TABLE console_public_photos (
    incident_id TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    PRIMARY KEY (incident_id, sha256)
) STRICT;

-- Console settings (duplicate radius and window, ...), key -> text value.
CREATE TABLE console_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO console_settings (key, value) VALUES
    ('duplicate_radius_m', '50'),
    ('duplicate_window_days', '30'),
    -- Pairs of categories whose requests may describe the same problem (symmetric), ';'-separated.
    ('duplicate_related_categories', 'proprete=collecte_dechets;voirie=signalisation;eclairage=mobilier_urbain');

-- Inbox and request-page indexes (measured by sync-server/benches/inbox.rs).
CREATE INDEX console_requests_created ON requests(created_at, id);
CREATE INDEX console_requests_state_created ON requests(state, created_at);
CREATE INDEX console_requests_category_created ON requests(category, created_at);
CREATE INDEX console_requests_category_state_created ON requests(category, state, created_at);
CREATE INDEX console_requests_service_created ON requests(service, created_at);
CREATE INDEX console_requests_outside_created ON requests(outside_body, created_at);
CREATE INDEX console_requests_walk ON requests(walk_id);
CREATE INDEX console_requests_category_lat ON requests(category, lat, lon);
CREATE INDEX console_events_at ON events(at);
