CREATE TABLE automation_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id TEXT,
    label TEXT,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX automation_jobs_due ON automation_jobs(next_attempt_at, id);
CREATE TABLE automation_auto_replies (
    customer TEXT NOT NULL,
    key TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (customer, key)
);
CREATE TABLE automation_conversations (
    conversation_id TEXT PRIMARY KEY,
    priority TEXT,
    sla TEXT,
    last_tick INTEGER,
    sla_fired_due INTEGER
);
CREATE TABLE contact_attributes (
    wa_id TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversations_status ON conversations(status);
