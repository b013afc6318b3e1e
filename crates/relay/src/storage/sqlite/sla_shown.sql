-- The SLA target and state last announced to devices (`conversation.sla`), so the relay
-- announces each change once (live timers in the inbox) and never repeats itself.
ALTER TABLE automation_conversations ADD COLUMN sla_shown TEXT;
