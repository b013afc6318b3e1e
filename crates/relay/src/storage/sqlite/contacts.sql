ALTER TABLE contacts ADD COLUMN display_name TEXT;
ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
CREATE INDEX contacts_display_name ON contacts(display_name);
CREATE TABLE contact_attribute_defs (
    key TEXT PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('text', 'number', 'boolean')),
    created_at INTEGER NOT NULL
);
INSERT INTO contact_attribute_defs (key, type, created_at) VALUES
    ('monthly_spend_usd', 'number', 0),
    ('vip', 'boolean', 0),
    ('email', 'text', 0),
    ('city', 'text', 0);
INSERT INTO contacts (wa_id, name, profile, created_at, updated_at)
    SELECT wa_id, NULL, '{}', updated_at, updated_at FROM contact_attributes WHERE true
    ON CONFLICT(wa_id) DO NOTHING;
UPDATE contacts SET attributes = (SELECT a.attributes FROM contact_attributes a WHERE a.wa_id = contacts.wa_id)
    WHERE wa_id IN (SELECT wa_id FROM contact_attributes);
INSERT INTO contact_attribute_defs (key, type, created_at)
    SELECT j.key, CASE j.type WHEN 'text' THEN 'text' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE 'number' END, MIN(a.updated_at)
    FROM contact_attributes a, json_each(a.attributes) j
    WHERE j.type IN ('text', 'integer', 'real', 'true', 'false')
      AND length(j.key) BETWEEN 1 AND 40
      AND j.key NOT GLOB '*[^a-z0-9_]*' AND substr(j.key, 1, 1) GLOB '[a-z]'
    GROUP BY j.key
    ON CONFLICT(key) DO NOTHING;
DROP TABLE contact_attributes;
