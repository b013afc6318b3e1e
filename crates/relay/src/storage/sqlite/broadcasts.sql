CREATE TABLE broadcasts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    audience TEXT NOT NULL,
    template TEXT NOT NULL,
    state TEXT NOT NULL,
    scheduled_at INTEGER,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    device_id TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    note TEXT,
    hold_until INTEGER,
    announced TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX broadcasts_created ON broadcasts(created_at);
CREATE INDEX broadcasts_state ON broadcasts(state);
CREATE TABLE broadcast_recipients (
    broadcast_id TEXT NOT NULL,
    wa_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    conversation_id TEXT,
    message_id TEXT,
    attempted_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (broadcast_id, wa_id)
);
CREATE INDEX broadcast_recipients_order ON broadcast_recipients(broadcast_id, state, position);
CREATE INDEX broadcast_recipients_attempted ON broadcast_recipients(attempted_at)
    WHERE attempted_at IS NOT NULL;
CREATE TABLE broadcast_opt_outs (
    wa_id TEXT PRIMARY KEY,
    opted_out_at INTEGER NOT NULL,
    message_id TEXT
);
