-- A broadcast's template message is not a person's reply: the SLA and no-reply timers
-- leave out messages a broadcast sent, found through this index.
CREATE INDEX broadcast_recipients_message ON broadcast_recipients(message_id)
    WHERE message_id IS NOT NULL;
