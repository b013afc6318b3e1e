-- Schema 2: search that stays fast over a million messages.
--
-- 1. `messages.rowid_` becomes a time key: sent_at (ms, clamped to ±2^46) × 65536 plus a
--    counter among messages of the same millisecond. The full-text indexes are keyed by
--    it, so they list matches newest first without sorting, and a search reads only the
--    most recent matches instead of ranking every match in the store. A history backfill
--    inserted late still lands at its place in time. The table is rebuilt to renumber.
-- 2. `messages_cjk`: the CJK characters of each message, one token each, so 1–2 character
--    Chinese/Japanese/Korean terms (below the trigram length) are looked up in an index
--    instead of scanning every message. Fed by `teamline_cjk_chars` (registered by the
--    store on every connection); contentless, as snippets come from `messages.text`.

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;

CREATE TABLE messages_v2 (
    rowid_          INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    wamid           TEXT UNIQUE,
    conversation_id TEXT NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    kind            TEXT NOT NULL,
    text            TEXT,
    media           TEXT CHECK (media IS NULL OR json_valid(media)),
    status          TEXT NOT NULL CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed')),
    error           TEXT,
    author_member_id TEXT,
    sent_at         INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    seq             INTEGER NOT NULL
) STRICT;

INSERT INTO messages_v2 (rowid_, id, wamid, conversation_id, direction, kind, text, media,
    status, error, author_member_id, sent_at, updated_at, seq)
SELECT ms * 65536 + row_number() OVER (PARTITION BY ms ORDER BY rowid_) - 1,
    id, wamid, conversation_id, direction, kind, text, media, status, error,
    author_member_id, sent_at, updated_at, seq
FROM (SELECT *, max(min(sent_at, 70368744177663), -70368744177664) AS ms FROM messages);

DROP TABLE messages;
ALTER TABLE messages_v2 RENAME TO messages;

CREATE INDEX messages_by_conversation ON messages (conversation_id, sent_at);

CREATE VIRTUAL TABLE messages_fts USING fts5(
    text,
    content = 'messages',
    content_rowid = 'rowid_',
    tokenize = 'trigram'
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

-- The `ascii` tokenizer keeps every non-ASCII character as part of a token, so each
-- space-separated CJK character is one token and a term is a phrase of them.
CREATE VIRTUAL TABLE messages_cjk USING fts5(
    chars,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii'
);
INSERT INTO messages_cjk (rowid, chars)
SELECT rowid_, chars FROM (SELECT rowid_, teamline_cjk_chars(text) AS chars FROM messages)
WHERE chars IS NOT NULL;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid_, new.text);
    INSERT INTO messages_cjk (rowid, chars)
        SELECT new.rowid_, c FROM (SELECT teamline_cjk_chars(new.text) AS c) WHERE c IS NOT NULL;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid_, old.text);
    DELETE FROM messages_cjk WHERE rowid = old.rowid_;
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.text IS NOT new.text BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text)
        SELECT 'delete', old.rowid_, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts (rowid, text)
        SELECT new.rowid_, new.text WHERE new.text IS NOT NULL;
    DELETE FROM messages_cjk WHERE rowid = old.rowid_;
    INSERT INTO messages_cjk (rowid, chars)
        SELECT new.rowid_, c FROM (SELECT teamline_cjk_chars(new.text) AS c) WHERE c IS NOT NULL;
END;
