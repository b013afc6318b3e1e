-- Teamline desktop store, schema 1. Times are UTC milliseconds since the Unix epoch.
-- Every replicated row carries `seq`: the relay event that last wrote it. A row is only
-- overwritten by data from an equal or newer seq, so replays and backfills are harmless.

CREATE TABLE contacts (
    wa_id       TEXT PRIMARY KEY,
    name        TEXT,
    attributes  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    seq         INTEGER NOT NULL
) STRICT;

CREATE TABLE members (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    seq         INTEGER NOT NULL
) STRICT;

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    os           TEXT NOT NULL,
    ceiling      TEXT NOT NULL,
    member_id    TEXT,
    last_seen_at INTEGER,
    revoked      INTEGER NOT NULL CHECK (revoked IN (0, 1)),
    seq          INTEGER NOT NULL
) STRICT;

CREATE TABLE labels (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    colour      TEXT NOT NULL,
    urgent      INTEGER NOT NULL CHECK (urgent IN (0, 1)),
    seq         INTEGER NOT NULL
) STRICT;

CREATE TABLE conversations (
    id                   TEXT PRIMARY KEY,
    contact_wa_id        TEXT NOT NULL,
    name                 TEXT,
    assignee             TEXT,
    team                 TEXT,
    status               TEXT NOT NULL CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
    snoozed_until        INTEGER,
    last_message_preview TEXT,
    last_message_at      INTEGER,
    unread_count         INTEGER NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    window_expires_at    INTEGER,
    seq                  INTEGER NOT NULL
) STRICT;

-- The inbox list: newest activity first.
CREATE INDEX conversations_by_activity ON conversations (last_message_at DESC);
CREATE INDEX conversations_by_assignee ON conversations (assignee, status);

CREATE TABLE conversation_labels (
    conversation_id TEXT NOT NULL,
    label_id        TEXT NOT NULL,
    PRIMARY KEY (conversation_id, label_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX conversation_labels_by_label ON conversation_labels (label_id);

-- `rowid_` is an explicit INTEGER PRIMARY KEY so the full-text index's content rowids
-- stay stable across VACUUM (implicit rowids may be renumbered).
CREATE TABLE messages (
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

CREATE INDEX messages_by_conversation ON messages (conversation_id, sent_at);

-- Trigram tokens match any 3+ character substring, so Russian stems and Chinese words
-- (no spaces between words) are found without a language-specific tokenizer.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text,
    content = 'messages',
    content_rowid = 'rowid_',
    tokenize = 'trigram'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid_, new.text);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid_, old.text);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.text IS NOT new.text BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text)
        SELECT 'delete', old.rowid_, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts (rowid, text)
        SELECT new.rowid_, new.text WHERE new.text IS NOT NULL;
END;

CREATE TABLE notes (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL,
    author_member_id TEXT,
    text             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    seq              INTEGER NOT NULL
) STRICT;

CREATE INDEX notes_by_conversation ON notes (conversation_id, created_at);

-- One row: what this device may do, as the relay computed it (JSON, opaque here).
CREATE TABLE my_permissions (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    permissions TEXT NOT NULL CHECK (json_valid(permissions)),
    seq         INTEGER NOT NULL
) STRICT;

-- One row: the last relay event seq applied here.
CREATE TABLE sync_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    cursor      INTEGER NOT NULL CHECK (cursor >= 0)
) STRICT;

INSERT INTO sync_state (id, cursor) VALUES (1, 0);

-- Commands written before they are sent; the idempotency key goes to the relay with every
-- attempt so a retry after a crash never sends twice.
CREATE TABLE outbox (
    position        INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    command         TEXT NOT NULL CHECK (json_valid(command)),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX outbox_by_state ON outbox (state, position);
