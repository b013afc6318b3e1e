-- Schema (contacts): contacts as the team keeps them (issue 7). `name` stays the name
-- people see (the team's display name, else the WhatsApp profile name); the two sources
-- are kept apart so a profile change never overwrites the team's edit. `search_key` is
-- the lower-cased name and the number (lower-cased in Rust, so Cyrillic and other
-- scripts fold too, which SQLite's LIKE does not do).

ALTER TABLE contacts ADD COLUMN profile_name TEXT;
ALTER TABLE contacts ADD COLUMN display_name TEXT;
ALTER TABLE contacts ADD COLUMN updated_at INTEGER;
ALTER TABLE contacts ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
UPDATE contacts SET profile_name = name, search_key = lower(coalesce(name, '')) || ' ' || wa_id;
CREATE INDEX contacts_by_name ON contacts (name COLLATE NOCASE, wa_id);
CREATE INDEX conversations_by_contact ON conversations (contact_wa_id);

-- The attributes the team keeps on contacts (`monthly_spend_usd` number, `vip` boolean...).
CREATE TABLE contact_attribute_defs (
    key     TEXT PRIMARY KEY,
    type    TEXT NOT NULL CHECK (type IN ('text', 'number', 'boolean')),
    seq     INTEGER NOT NULL
) STRICT;
