-- Schema 10: a bulk catch-up defers more than the search index.
--
-- While `search_index_state.deferred` is set (a cold sync, see `Store::defer_search_index`)
-- the store also drops `messages_by_conversation` (maintaining it costs more than the row
-- insert: 1,000 conversations put every new row at a random place in it) and skips the
-- `waiting_since` triggers, which read that index on every message. The transaction that
-- ends the deferral recreates the index and recomputes `waiting_since` with the full rule of
-- migration 0005, from the final rows; a store opened while deferred does the same. A later
-- migration that touches `messages_by_conversation` must use `IF EXISTS`/`IF NOT EXISTS`
-- (a store may be opened, and migrated, in the middle of a catch-up).

DROP TRIGGER conversations_waiting_on_insert;
DROP TRIGGER messages_waiting_on_insert;

CREATE TRIGGER conversations_waiting_on_insert AFTER INSERT ON conversations
WHEN NOT (SELECT deferred FROM search_index_state WHERE id = 1) BEGIN
    UPDATE conversations SET waiting_since = (
        SELECT min(m.sent_at) FROM messages m
        WHERE m.conversation_id = new.id AND m.direction = 'in'
          AND m.sent_at > coalesce(
              (SELECT max(o.sent_at) FROM messages o
               WHERE o.conversation_id = new.id AND o.direction = 'out'), -1)
    ) WHERE id = new.id;
END;

CREATE TRIGGER messages_waiting_on_insert AFTER INSERT ON messages
WHEN NOT (SELECT deferred FROM search_index_state WHERE id = 1) BEGIN
    UPDATE conversations
    SET waiting_since = CASE WHEN new.direction = 'in'
        THEN coalesce(waiting_since, new.sent_at) ELSE NULL END
    WHERE id = new.conversation_id
      AND NOT EXISTS (SELECT 1 FROM messages m
                      WHERE m.conversation_id = new.conversation_id
                        AND m.sent_at > new.sent_at);
END;
