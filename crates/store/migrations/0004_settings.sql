-- Schema 4: small per-device settings kept with the replicated data (encrypted with it),
-- e.g. the last audit-chain head this device verified (issue 9). A resync keeps them.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
