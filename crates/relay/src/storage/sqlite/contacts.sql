ALTER TABLE contacts ADD COLUMN display_name TEXT;
ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
CREATE INDEX contacts_display_name ON contacts(display_name);
CREATE TABLE contact_attribute_defs (
    key TEXT PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('text', 'number', 'boolean')),
    created_at INTEGER NOT NULL
);
INSERT INTO contact_attribute_defs (key, type, created_at) VALUES
    ('monthly_spend', 'number', 0),
    ('vip', 'boolean', 0),
    ('email', 'text', 0),
    ('city', 'text', 0);
