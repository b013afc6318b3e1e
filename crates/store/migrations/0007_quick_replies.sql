-- Schema 7 (composer): the team's quick replies, replicated from the relay
-- (`quick_reply.saved` / `quick_reply.deleted`) so typing `/` searches them offline.
-- Cleared with the rest of the replica on a resync.

CREATE TABLE quick_replies (
    id          TEXT PRIMARY KEY,
    shortcut    TEXT NOT NULL,
    title       TEXT NOT NULL,
    text        TEXT NOT NULL,
    language    TEXT,
    seq         INTEGER NOT NULL
) STRICT;
CREATE INDEX quick_replies_shortcut ON quick_replies(shortcut);
