-- Schema 4 (issue 9): the audit log becomes a hash chain (see teamline-core's audit_chain).
--
-- Each entry gets its position in the chain (`chain_index`, 1, 2, 3, ... without holes),
-- the previous entry's MAC and its own MAC (HMAC-SHA256 with a key kept outside this
-- database). Entries written before this schema have none until the relay seals them with
-- its key. `chain_index` is UNIQUE, so two appends can never claim the same place (the
-- single writer serialises them anyway).
ALTER TABLE audit_log ADD COLUMN chain_index INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_mac BLOB;
ALTER TABLE audit_log ADD COLUMN mac BLOB;
CREATE UNIQUE INDEX audit_log_chain ON audit_log(chain_index);
CREATE INDEX audit_log_created ON audit_log(created_at);
CREATE INDEX audit_log_actor ON audit_log(actor_member_id, seq);
CREATE INDEX audit_log_device ON audit_log(device_id, seq);

-- How far the chain reached (head seq, entry count, head MAC) and what retention removed
-- from its start (cut_*), signed with the same key. One row per append or cut; rows are
-- never changed or removed, and a new row never goes back on the latest one.
CREATE TABLE audit_checkpoints (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    count INTEGER NOT NULL,
    head_mac BLOB NOT NULL,
    cut_count INTEGER NOT NULL,
    cut_seq INTEGER NOT NULL,
    cut_mac BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    sig BLOB NOT NULL,
    CHECK (count >= cut_count AND seq >= cut_seq)
);

CREATE TRIGGER audit_checkpoints_forward_only BEFORE INSERT ON audit_checkpoints
WHEN EXISTS (
    SELECT 1 FROM (SELECT seq, count, cut_count FROM audit_checkpoints ORDER BY id DESC LIMIT 1) AS last
    WHERE last.seq > NEW.seq OR last.count > NEW.count OR last.cut_count > NEW.cut_count
)
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints cannot move backwards');
END;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints cannot be changed');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints cannot be deleted');
END;

-- Sealed entries are never changed (sealing an old entry fills its NULL MAC once).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.mac IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit entries cannot be changed');
END;

-- Entries leave only through retention, after a checkpoint recorded the cut.
CREATE TRIGGER audit_log_delete_only_cut BEFORE DELETE ON audit_log
WHEN OLD.chain_index IS NULL
    OR OLD.chain_index > COALESCE(
        (SELECT cut_count FROM audit_checkpoints ORDER BY id DESC LIMIT 1), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit entries leave only through a retention checkpoint');
END;
