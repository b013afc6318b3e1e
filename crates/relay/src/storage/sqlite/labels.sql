-- The team's labels (issue 7): a name, a colour, at most 20 per team (enforced by the
-- relay). `key` is the lower-cased name, so "VIP" and "vip" are one label. Labels already
-- on conversations join the catalogue with a neutral colour.
CREATE TABLE labels (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    colour TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT OR IGNORE INTO labels (key, name, colour, created_at)
    SELECT lower(label), min(label), '#64748b', min(added_at)
    FROM conversation_labels GROUP BY lower(label);
