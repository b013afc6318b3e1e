-- Schema 4: small values this device keeps for itself inside the encrypted store, kept
-- across resyncs.
--
-- A profile protected by a passphrase (no OS keyring on this computer) keeps its device
-- token here instead of in the keyring: the store is the only encrypted place it has.
-- It also remembers the last audit-chain head this device verified (issue 9). Keys are
-- fixed names chosen by teamline-client (`device_token`, `audit_head`).

CREATE TABLE device_values (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
) STRICT;
