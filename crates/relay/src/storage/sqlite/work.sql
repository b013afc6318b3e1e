CREATE TABLE command_results (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    http_status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE send_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    command_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    wamid TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX send_queue_state ON send_queue(state, next_attempt_at);
-- Only unfinished items matter for ordering; done ones pile up and are never scanned.
CREATE INDEX send_queue_open ON send_queue(recipient, seq) WHERE state != 'done';
CREATE TABLE media_fetch (
    media_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    mime_type TEXT,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX media_fetch_due ON media_fetch(next_attempt_at);
CREATE TABLE media (
    media_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    stored_at INTEGER NOT NULL
);
CREATE TABLE notes (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    mentions TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notes_conversation ON notes(conversation_id, created_at);
CREATE TABLE conversation_labels (
    conversation_id TEXT NOT NULL,
    label TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, label)
);
CREATE TABLE conversation_snoozes (
    conversation_id TEXT PRIMARY KEY,
    until INTEGER NOT NULL
);
