-- Schema 8: what the team's automation says of a conversation (issue 8): its priority
-- (`low`, `normal`, `high`, `urgent`) and its SLA as last announced by the relay
-- (`{target, state}` JSON), for live timers in the inbox. Written only by the
-- `conversation.priority` / `conversation.sla` events; `upsert_conversation` names the
-- columns it writes, so a conversation update never clears them.
ALTER TABLE conversations ADD COLUMN priority TEXT;
ALTER TABLE conversations ADD COLUMN sla TEXT;
