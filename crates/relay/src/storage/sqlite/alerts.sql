CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    dedupe_key TEXT,
    raised_at INTEGER NOT NULL,
    facts TEXT NOT NULL,
    params TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at INTEGER,
    comment TEXT
);
CREATE INDEX alerts_rule_key ON alerts(rule, dedupe_key, raised_at);
CREATE INDEX alerts_open ON alerts(acknowledged_at, id);
CREATE TABLE alert_signals (
    id INTEGER PRIMARY KEY,
    signal TEXT NOT NULL,
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX alert_signals_key ON alert_signals(signal, key, at);
CREATE INDEX alert_signals_at ON alert_signals(at);
