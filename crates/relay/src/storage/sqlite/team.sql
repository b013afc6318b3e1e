CREATE TABLE team_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE member_groups (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE permission_templates (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE member_templates (
    member_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    PRIMARY KEY (member_id, template_id)
);
CREATE INDEX member_templates_template ON member_templates(template_id);
CREATE TABLE member_pins (
    member_id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until INTEGER
);
CREATE TABLE device_sessions (
    device_id TEXT PRIMARY KEY,
    allowed TEXT,
    member_id TEXT,
    since INTEGER NOT NULL
);
CREATE TABLE pairing_code_extras (code_hash BLOB PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    actor_member_id TEXT,
    device_id TEXT,
    address TEXT,
    target TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
