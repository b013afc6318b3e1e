-- Schema 3: a cold sync may defer search-index maintenance.
--
-- Indexing each message as it is inserted (trigram FTS5 + the CJK character index) costs
-- more than the insert itself, and many small index segments are merged again and again.
-- A bulk catch-up (a fresh device syncing its history) instead sets `deferred`, inserts the
-- messages without touching the indexes, and rebuilds both in one pass in the transaction
-- that reaches `until_seq` (see `Store::defer_search_index`). The flag is persistent, so a
-- crash in between is noticed: `Store::open` rebuilds the indexes of a store it finds
-- deferred. Update and delete triggers are skipped too (the rebuild reads the final rows).

CREATE TABLE search_index_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    deferred    INTEGER NOT NULL CHECK (deferred IN (0, 1)),
    until_seq   INTEGER NOT NULL CHECK (until_seq >= 0)
) STRICT;

INSERT INTO search_index_state (id, deferred, until_seq) VALUES (1, 0, 0);

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.text IS NOT NULL AND NOT (SELECT deferred FROM search_index_state WHERE id = 1) BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid_, new.text);
    INSERT INTO messages_cjk (rowid, chars)
        SELECT new.rowid_, c FROM (SELECT teamline_cjk_chars(new.text) AS c) WHERE c IS NOT NULL;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.text IS NOT NULL AND NOT (SELECT deferred FROM search_index_state WHERE id = 1) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid_, old.text);
    DELETE FROM messages_cjk WHERE rowid = old.rowid_;
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.text IS NOT new.text AND NOT (SELECT deferred FROM search_index_state WHERE id = 1) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text)
        SELECT 'delete', old.rowid_, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts (rowid, text)
        SELECT new.rowid_, new.text WHERE new.text IS NOT NULL;
    DELETE FROM messages_cjk WHERE rowid = old.rowid_;
    INSERT INTO messages_cjk (rowid, chars)
        SELECT new.rowid_, c FROM (SELECT teamline_cjk_chars(new.text) AS c) WHERE c IS NOT NULL;
END;
