-- Schema 5: since when each customer has been waiting for an answer (issue 7: the inbox
-- shows it on every row and can sort by it).
--
-- A customer waits from their first message after the team's last reply until the team
-- answers. This device derives it from the messages it holds (it is not a relay field), so
-- it is kept by triggers here and never overwritten by a conversation update from the relay
-- (`upsert_conversation` names the columns it writes).

ALTER TABLE conversations ADD COLUMN waiting_since INTEGER;

-- The full rule, for conversations that already have messages: the first inbound message
-- after the last outbound one (none: not waiting).
UPDATE conversations SET waiting_since = (
    SELECT min(m.sent_at) FROM messages m
    WHERE m.conversation_id = conversations.id AND m.direction = 'in'
      AND m.sent_at > coalesce(
          (SELECT max(o.sent_at) FROM messages o
           WHERE o.conversation_id = conversations.id AND o.direction = 'out'), -1)
);

-- A conversation row written after its messages (a sync batch writes messages first).
CREATE TRIGGER conversations_waiting_on_insert AFTER INSERT ON conversations BEGIN
    UPDATE conversations SET waiting_since = (
        SELECT min(m.sent_at) FROM messages m
        WHERE m.conversation_id = new.id AND m.direction = 'in'
          AND m.sent_at > coalesce(
              (SELECT max(o.sent_at) FROM messages o
               WHERE o.conversation_id = new.id AND o.direction = 'out'), -1)
    ) WHERE id = new.id;
END;

-- A new newest message: an inbound one starts the wait (if not already waiting), an
-- outbound one ends it. An older message filled in later (history) changes nothing, and the
-- check reads one index entry instead of the conversation's history.
CREATE TRIGGER messages_waiting_on_insert AFTER INSERT ON messages BEGIN
    UPDATE conversations
    SET waiting_since = CASE WHEN new.direction = 'in'
        THEN coalesce(waiting_since, new.sent_at) ELSE NULL END
    WHERE id = new.conversation_id
      AND NOT EXISTS (SELECT 1 FROM messages m
                      WHERE m.conversation_id = new.conversation_id
                        AND m.sent_at > new.sent_at);
END;
