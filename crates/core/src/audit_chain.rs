//! The audit log's hash chain: pure functions, no I/O.
//!
//! Each entry carries `mac = HMAC-SHA256(key, prev_mac || encode(entry))`, where
//! `prev_mac` is the previous entry's MAC ([`GENESIS`] for the first one) and [`encode`] is
//! an unambiguous byte encoding (a domain tag, then every field length-prefixed, absent
//! values tagged), so no two different entries encode alike. Editing, reordering or
//! removing an entry breaks the MAC of the entry itself or of the one after it.
//!
//! Removing entries at the END leaves a shorter chain that still verifies, so a
//! [`Checkpoint`] — (head seq, entry count, head MAC), itself MAC'ed with the key — records
//! how far the chain reached. A retention cut moves the checkpoint's `cut_*` fields forward:
//! verification then starts from the last removed entry's MAC instead of [`GENESIS`].
//!
//! Entries carry two numbers: `seq` (the relay's event seq, increasing but not contiguous:
//! other events sit between audit entries) and `index` (the entry's position in the chain,
//! 1, 2, 3, ... without holes), so a missing entry shows as a gap in `index`.
//!
//! Text fields are the exact stored text (JSON as stored, UUIDs as stored): the MAC covers
//! bytes, never a re-serialisation that could hide an edit.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac as _};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Length of a MAC (HMAC-SHA256).
pub const MAC_LEN: usize = 32;

/// An entry or checkpoint MAC.
pub type Mac = [u8; MAC_LEN];

/// The `prev_mac` of the first entry.
pub const GENESIS: Mac = [0; MAC_LEN];

/// The shortest key accepted (256 bits).
pub const MIN_KEY_LEN: usize = 32;

const ENTRY_TAG: &[u8] = b"teamline/audit-entry/v1";
const CHECKPOINT_TAG: &[u8] = b"teamline/audit-checkpoint/v1";

/// The chain's secret key. Never printed (`Debug` is redacted).
#[derive(Clone)]
pub struct Key(Vec<u8>);

/// A key shorter than [`MIN_KEY_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit key has {got} bytes; at least {MIN_KEY_LEN} random bytes are needed")]
pub struct KeyTooShort {
    pub got: usize,
}

impl Key {
    pub fn new(bytes: Vec<u8>) -> Result<Key, KeyTooShort> {
        if bytes.len() < MIN_KEY_LEN {
            return Err(KeyTooShort { got: bytes.len() });
        }
        Ok(Key(bytes))
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// One audit entry's fields, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Position in the chain, from 1, without holes.
    pub index: u64,
    /// The relay's event seq of the entry (increasing, not contiguous).
    pub seq: u64,
    pub kind: &'a str,
    pub actor: Option<&'a str>,
    pub device: Option<&'a str>,
    pub address: Option<&'a str>,
    /// JSON text, as stored.
    pub target: &'a str,
    pub before: &'a str,
    pub after: &'a str,
    /// Milliseconds since the Unix epoch, as stored.
    pub created_at_ms: i64,
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_be_bytes());
    out.extend_from_slice(b);
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_bytes(out, s.as_bytes());
        }
    }
}

/// The canonical bytes of an entry: a version tag, then every field in a fixed order,
/// integers as fixed-width big-endian, strings length-prefixed, options tagged 0/1.
pub fn encode(e: &Entry<'_>) -> Vec<u8> {
    let text = e.kind.len()
        + e.target.len()
        + e.before.len()
        + e.after.len()
        + e.actor.map_or(0, str::len)
        + e.device.map_or(0, str::len)
        + e.address.map_or(0, str::len);
    let mut out = Vec::with_capacity(ENTRY_TAG.len() + text + 100);
    put_bytes(&mut out, ENTRY_TAG);
    out.extend_from_slice(&e.index.to_be_bytes());
    out.extend_from_slice(&e.seq.to_be_bytes());
    put_bytes(&mut out, e.kind.as_bytes());
    put_opt(&mut out, e.actor);
    put_opt(&mut out, e.device);
    put_opt(&mut out, e.address);
    put_bytes(&mut out, e.target.as_bytes());
    put_bytes(&mut out, e.before.as_bytes());
    put_bytes(&mut out, e.after.as_bytes());
    out.extend_from_slice(&e.created_at_ms.to_be_bytes());
    out
}

/// `HMAC-SHA256(key, prev || encode(entry))`.
pub fn entry_mac(key: &Key, prev: &Mac, e: &Entry<'_>) -> Mac {
    let mut m = key.mac();
    m.update(prev);
    m.update(&encode(e));
    m.finalize().into_bytes().into()
}

/// Whether `mac` is the entry's MAC after `prev` (constant time).
pub fn entry_mac_ok(key: &Key, prev: &Mac, e: &Entry<'_>, mac: &Mac) -> bool {
    let mut m = key.mac();
    m.update(prev);
    m.update(&encode(e));
    m.verify_slice(mac).is_ok()
}

/// How far the chain reached, and what retention removed from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Seq of the newest entry (0 while the chain is empty).
    pub seq: u64,
    /// Entries ever appended, i.e. the index of the newest entry.
    pub count: u64,
    /// MAC of the newest entry ([`GENESIS`] while empty).
    pub head_mac: Mac,
    /// Entries with `index <= cut_count` were removed by retention (0: none).
    pub cut_count: u64,
    /// Seq of the last removed entry (0: none).
    pub cut_seq: u64,
    /// MAC of the last removed entry, where verification starts ([`GENESIS`]: none).
    pub cut_mac: Mac,
    pub created_at_ms: i64,
}

impl Checkpoint {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CHECKPOINT_TAG.len() + 8 * 6 + 2 * MAC_LEN);
        put_bytes(&mut out, CHECKPOINT_TAG);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.head_mac);
        out.extend_from_slice(&self.cut_count.to_be_bytes());
        out.extend_from_slice(&self.cut_seq.to_be_bytes());
        out.extend_from_slice(&self.cut_mac);
        out.extend_from_slice(&self.created_at_ms.to_be_bytes());
        out
    }

    /// The checkpoint's signature (an HMAC with the chain's key, domain-separated from
    /// entry MACs by its own tag).
    pub fn sign(&self, key: &Key) -> Mac {
        let mut m = key.mac();
        m.update(&self.encode());
        m.finalize().into_bytes().into()
    }

    /// Whether `sig` is this checkpoint's signature (constant time).
    pub fn signature_ok(&self, key: &Key, sig: &Mac) -> bool {
        let mut m = key.mac();
        m.update(&self.encode());
        m.verify_slice(sig).is_ok()
    }

    /// The chain position verification starts after.
    fn start(&self) -> Head {
        Head {
            seq: self.cut_seq,
            count: self.cut_count,
            mac: self.cut_mac,
        }
    }
}

/// A position in the chain: the newest entry's seq, index (= count) and MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    pub seq: u64,
    pub count: u64,
    pub mac: Mac,
}

/// An entry with what was stored beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored<'a> {
    pub entry: Entry<'a>,
    /// The stored link to the previous entry (`None`: not stored).
    pub prev_mac: Option<Mac>,
    /// `None`: the entry was never sealed.
    pub mac: Option<Mac>,
}

/// What is wrong at the first broken place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// The entry's content does not match its MAC: edited (or forged without the key).
    MacMismatch,
    /// Entries between the previous one and this one are missing.
    Gap {
        expected_index: u64,
        found_index: u64,
    },
    /// The entry's index or seq does not follow the previous entry's (reordered or
    /// duplicated).
    OutOfOrder,
    /// The entry has no MAC.
    NotSealed,
    /// The entry's stored link to its predecessor was changed.
    PrevMismatch,
    /// The chain ends before the checkpoint's count: entries at the end were removed.
    ChainShorter {
        checkpoint_count: u64,
        found_count: u64,
    },
    /// The entry at the checkpoint's count is not the checkpoint's head.
    HeadDiffers,
    /// The checkpoint's signature does not match its content.
    CheckpointSignature,
    /// Entries exist but no checkpoint does (the checkpoints were removed).
    CheckpointMissing,
}

impl Broken {
    /// A stable code for programs and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Broken::MacMismatch => "mac_mismatch",
            Broken::Gap { .. } => "seq_gap",
            Broken::OutOfOrder => "out_of_order",
            Broken::NotSealed => "not_sealed",
            Broken::PrevMismatch => "prev_mismatch",
            Broken::ChainShorter { .. } => "chain_shorter_than_checkpoint",
            Broken::HeadDiffers => "head_differs_from_checkpoint",
            Broken::CheckpointSignature => "checkpoint_signature_invalid",
            Broken::CheckpointMissing => "checkpoint_missing",
        }
    }
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::MacMismatch => f.write_str(
                "MAC mismatch: the entry's content does not match its MAC (it was edited)",
            ),
            Broken::Gap {
                expected_index,
                found_index,
            } => {
                let n = found_index - expected_index;
                write!(
                    f,
                    "seq gap: {n} entr{} before it {} missing (entry #{expected_index} expected, #{found_index} found)",
                    if n == 1 { "y" } else { "ies" },
                    if n == 1 { "is" } else { "are" },
                )
            }
            Broken::OutOfOrder => f.write_str(
                "out of order: the entry does not follow the previous one (reordered or duplicated)",
            ),
            Broken::NotSealed => f.write_str("not sealed: the entry has no MAC"),
            Broken::PrevMismatch => f.write_str(
                "link changed: the entry's stored link to the previous entry was altered",
            ),
            Broken::ChainShorter {
                checkpoint_count,
                found_count,
            } => write!(
                f,
                "chain shorter than checkpoint: the checkpoint records {checkpoint_count} entries, the log ends at entry #{found_count} (entries at the end were deleted)"
            ),
            Broken::HeadDiffers => f.write_str(
                "head differs from checkpoint: the entry the checkpoint ends at is not the one it recorded",
            ),
            Broken::CheckpointSignature => {
                f.write_str("checkpoint signature invalid: the checkpoint was altered")
            }
            Broken::CheckpointMissing => {
                f.write_str("checkpoint missing: entries exist but their checkpoints were removed")
            }
        }
    }
}

/// The first broken place: the entry's seq (for a truncated chain or a bad checkpoint,
/// the checkpoint's head seq) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Break {
    pub seq: u64,
    pub reason: Broken,
}

/// The outcome of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Entries whose MAC was checked and found good.
    pub checked: u64,
    /// The last good position (the retention cut when no entry is left).
    pub head: Head,
    pub first_broken: Option<Break>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// Verifies entries one by one (oldest first), so a long log is never held in memory.
#[derive(Debug)]
pub struct Verifier<'k> {
    key: &'k Key,
    checkpoint: Option<Checkpoint>,
    head: Head,
    checked: u64,
    broken: Option<Break>,
}

impl<'k> Verifier<'k> {
    /// Starts from the checkpoint's retention cut (or [`GENESIS`] without a checkpoint).
    /// A checkpoint whose signature is wrong is itself the first break.
    pub fn new(key: &'k Key, checkpoint: Option<(&Checkpoint, &Mac)>) -> Verifier<'k> {
        let mut v = Verifier {
            key,
            checkpoint: checkpoint.map(|(c, _)| *c),
            head: Head::default(),
            checked: 0,
            broken: None,
        };
        if let Some((c, sig)) = checkpoint {
            if c.signature_ok(key, sig) {
                v.head = c.start();
            } else {
                v.broken = Some(Break {
                    seq: c.seq,
                    reason: Broken::CheckpointSignature,
                });
            }
        }
        v
    }

    /// Checks the next entry. After the first break every call returns that break.
    pub fn push(&mut self, s: &Stored<'_>) -> Result<(), Break> {
        if let Some(b) = self.broken {
            return Err(b);
        }
        let r = self.check(s);
        if let Err(b) = r {
            self.broken = Some(b);
        }
        r
    }

    fn check(&mut self, s: &Stored<'_>) -> Result<(), Break> {
        let e = &s.entry;
        let fail = |reason| Err(Break { seq: e.seq, reason });
        let Some(mac) = s.mac else {
            return fail(Broken::NotSealed);
        };
        if self.checkpoint.is_none() {
            return fail(Broken::CheckpointMissing);
        }
        let expected = self.head.count + 1;
        if e.index > expected {
            return fail(Broken::Gap {
                expected_index: expected,
                found_index: e.index,
            });
        }
        if e.index < expected || (self.head.count > 0 && e.seq <= self.head.seq) {
            return fail(Broken::OutOfOrder);
        }
        if !entry_mac_ok(self.key, &self.head.mac, e, &mac) {
            return fail(Broken::MacMismatch);
        }
        if s.prev_mac.is_some_and(|p| p != self.head.mac) {
            return fail(Broken::PrevMismatch);
        }
        if let Some(c) = &self.checkpoint
            && e.index == c.count
            && (e.seq != c.seq || mac != c.head_mac)
        {
            return fail(Broken::HeadDiffers);
        }
        self.head = Head {
            seq: e.seq,
            count: e.index,
            mac,
        };
        self.checked += 1;
        Ok(())
    }

    /// The report once every entry was pushed: a chain that ends before the checkpoint's
    /// count is broken.
    pub fn finish(self) -> Report {
        let mut broken = self.broken;
        if broken.is_none()
            && let Some(c) = &self.checkpoint
            && self.head.count < c.count
        {
            broken = Some(Break {
                seq: c.seq,
                reason: Broken::ChainShorter {
                    checkpoint_count: c.count,
                    found_count: self.head.count,
                },
            });
        }
        Report {
            checked: self.checked,
            head: self.head,
            first_broken: broken,
        }
    }
}

/// Verifies an ordered slice of entries against the latest checkpoint (and its signature).
pub fn verify(
    key: &Key,
    entries: &[Stored<'_>],
    checkpoint: Option<(&Checkpoint, &Mac)>,
) -> Report {
    let mut v = Verifier::new(key, checkpoint);
    for s in entries {
        if v.push(s).is_err() {
            break;
        }
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::new(vec![7; 32]).unwrap()
    }

    /// Owned fields of a test entry.
    #[derive(Clone, Debug)]
    struct Row {
        index: u64,
        seq: u64,
        kind: String,
        actor: Option<String>,
        device: Option<String>,
        address: Option<String>,
        target: String,
        before: String,
        after: String,
        created_at_ms: i64,
        prev_mac: Option<Mac>,
        mac: Option<Mac>,
    }

    impl Row {
        fn entry(&self) -> Entry<'_> {
            Entry {
                index: self.index,
                seq: self.seq,
                kind: &self.kind,
                actor: self.actor.as_deref(),
                device: self.device.as_deref(),
                address: self.address.as_deref(),
                target: &self.target,
                before: &self.before,
                after: &self.after,
                created_at_ms: self.created_at_ms,
            }
        }

        fn stored(&self) -> Stored<'_> {
            Stored {
                entry: self.entry(),
                prev_mac: self.prev_mac,
                mac: self.mac,
            }
        }
    }

    /// A sealed chain of `n` entries (seqs 10, 13, 16, ...) and its checkpoint.
    fn chain(k: &Key, n: u64) -> (Vec<Row>, Checkpoint, Mac) {
        let mut prev = GENESIS;
        let mut rows = Vec::new();
        for i in 1..=n {
            let mut r = Row {
                index: i,
                seq: 7 + 3 * i,
                kind: "audit.member_updated".into(),
                actor: Some(format!("actor-{}", i % 3)),
                device: (i % 2 == 0).then(|| "device-1".to_owned()),
                address: Some("10.0.0.1".into()),
                target: format!(r#"{{"member_id":"m{i}"}}"#),
                before: r#"{"name":"Mo"}"#.into(),
                after: r#"{"name":"Moe"}"#.into(),
                created_at_ms: 1_700_000_000_000 + i as i64,
                prev_mac: Some(prev),
                mac: None,
            };
            let mac = entry_mac(k, &prev, &r.entry());
            r.mac = Some(mac);
            prev = mac;
            rows.push(r);
        }
        let last = rows.last();
        let cp = Checkpoint {
            seq: last.map_or(0, |r| r.seq),
            count: n,
            head_mac: prev,
            cut_count: 0,
            cut_seq: 0,
            cut_mac: GENESIS,
            created_at_ms: 1_700_000_100_000,
        };
        let sig = cp.sign(k);
        (rows, cp, sig)
    }

    fn run(k: &Key, rows: &[Row], cp: Option<(&Checkpoint, &Mac)>) -> Report {
        let stored: Vec<Stored<'_>> = rows.iter().map(Row::stored).collect();
        verify(k, &stored, cp)
    }

    fn broken(r: &Report) -> (u64, Broken) {
        let b = r.first_broken.expect("the chain should be broken");
        (b.seq, b.reason)
    }

    #[test]
    fn an_untouched_chain_verifies_with_its_head() {
        let k = key();
        let (rows, cp, sig) = chain(&k, 6);
        let r = run(&k, &rows, Some((&cp, &sig)));
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.checked, 6);
        assert_eq!(
            r.head,
            Head {
                seq: cp.seq,
                count: 6,
                mac: cp.head_mac
            }
        );
    }

    #[test]
    fn an_empty_log_is_intact_with_or_without_an_empty_checkpoint() {
        let k = key();
        let r = run(&k, &[], None);
        assert!(r.ok());
        assert_eq!(r.head, Head::default());
        let (_, cp, sig) = chain(&k, 0);
        assert!(run(&k, &[], Some((&cp, &sig))).ok());
    }

    #[test]
    fn every_field_is_covered_by_the_mac() {
        let k = key();
        let (rows, cp, sig) = chain(&k, 3);
        type Edit = fn(&mut Row);
        let edits: [(&str, Edit); 10] = [
            ("seq", |r| r.seq += 1),
            ("kind", |r| r.kind.push('x')),
            ("actor", |r| r.actor = None),
            ("device", |r| r.device = Some("device-2".into())),
            ("address", |r| r.address = Some("10.0.0.2".into())),
            ("target", |r| r.target = r.target.replace("m2", "m9")),
            ("before", |r| r.before = r.before.replace("Mo", "Al")),
            ("after", |r| r.after.push(' ')),
            ("created_at", |r| r.created_at_ms -= 1),
            ("mac", |r| r.mac.as_mut().unwrap()[0] ^= 1),
        ];
        for (name, edit) in edits {
            let mut t = rows.clone();
            edit(&mut t[1]);
            let r = run(&k, &t, Some((&cp, &sig)));
            assert_eq!(broken(&r), (t[1].seq, Broken::MacMismatch), "{name}");
            assert_eq!(r.checked, 1, "{name}");
            assert_eq!(r.head.count, 1, "{name}");
        }
    }

    #[test]
    fn a_same_length_rewrite_is_detected() {
        let k = key();
        let (mut rows, cp, sig) = chain(&k, 4);
        rows[2].after = rows[2].after.replace("Moe", "Joe");
        assert_eq!(rows[2].after.len(), r#"{"name":"Moe"}"#.len());
        let r = run(&k, &rows, Some((&cp, &sig)));
        assert_eq!(broken(&r), (rows[2].seq, Broken::MacMismatch));
    }

    #[test]
    fn a_deleted_middle_entry_is_a_gap_at_the_next_one() {
        let k = key();
        let (mut rows, cp, sig) = chain(&k, 5);
        let next_seq = rows[2].seq;
        rows.remove(1);
        let r = run(&k, &rows, Some((&cp, &sig)));
        assert_eq!(
            broken(&r),
            (
                next_seq,
                Broken::Gap {
                    expected_index: 2,
                    found_index: 3
                }
            )
        );
        assert!(
            r.first_broken
                .unwrap()
                .reason
                .to_string()
                .contains("1 entry")
        );
    }

    #[test]
    fn a_deleted_first_entry_is_a_gap() {
        let k = key();
        let (mut rows, cp, sig) = chain(&k, 3);
        rows.remove(0);
        let r = run(&k, &rows, Some((&cp, &sig)));
        assert!(matches!(
            broken(&r).1,
            Broken::Gap {
                expected_index: 1,
                found_index: 2
            }
        ));
    }

    #[test]
    fn renumbering_after_a_deletion_breaks_the_mac() {
        let k = key();
        let (mut rows, cp, sig) = chain(&k, 4);
        rows.remove(1);
        for r in rows.iter_mut().skip(1) {
            r.index -= 1;
        }
        let r = run(&k, &rows, Some((&cp, &sig)));
        assert_eq!(broken(&r), (rows[1].seq, Broken::MacMismatch));
    }

    #[test]
    fn deleting_the_last_entry_or_all_of_them_falls_short_of_the_checkpoint() {
        let k = key();
        let (mut rows, cp, sig) = chain(&k, 4);
        rows.pop();
        let r = run(&k, &rows, Some((&cp, &sig)));
        assert_eq!(
            broken(&r),
            (
                cp.seq,
                Broken::ChainShorter {
                    checkpoint_count: 4,
                    found_count: 3
                }
            )
        );
        assert_eq!(r.checked, 3);
        let r = run(&k, &[], Some((&cp, &sig)));
        assert_eq!(
            broken(&r),
            (
                cp.seq,
                Broken::ChainShorter {
                    checkpoint_count: 4,
                    found_count: 0
                }
            )
        );
    }

    #[test]
    fn swapped_or_duplicated_entries_are_out_of_order() {
        let k = key();
        let (rows, cp, sig) = chain(&k, 4);
        let mut swapped = rows.clone();
        swapped.swap(1, 2);
        let r = run(&k, &swapped, Some((&cp, &sig)));
        assert_eq!(
            broken(&r).1,
            Broken::Gap {
                expected_index: 2,
                found_index: 3
            }
        );
        let mut dup = rows.clone();
        dup.insert(2, rows[1].clone());
        let r = run(&k, &dup, Some((&cp, &sig)));
        assert_eq!(broken(&r), (rows[1].seq, Broken::OutOfOrder));
        // Same index, seq going backwards.
        let mut back = rows.clone();
        back[2].seq = back[1].seq;
        let r = run(&k, &back, Some((&cp, &sig)));
        assert_eq!(broken(&r), (rows[1].seq, Broken::OutOfOrder));
    }

    #[test]
    fn a_checkpoint_with_a_bad_signature_or_wrong_key_is_the_first_break() {
        let k = key();
        let (rows, cp, sig) = chain(&k, 3);
        let mut forged = cp;
        forged.count = 2;
        let r = run(&k, &rows, Some((&forged, &sig)));
        assert_eq!(broken(&r), (cp.seq, Broken::CheckpointSignature));
        assert_eq!(r.checked, 0);
        let other = Key::new(vec![8; 40]).unwrap();
        let r = run(&other, &rows, Some((&cp, &sig)));
        assert_eq!(broken(&r).1, Broken::CheckpointSignature);
        // With the other key's own checkpoint, the entries' MACs fail.
        let osig = cp.sign(&other);
        let r = run(&other, &rows, Some((&cp, &osig)));
        assert_eq!(broken(&r), (rows[0].seq, Broken::MacMismatch));
    }

    #[test]
    fn a_signed_checkpoint_whose_head_is_not_the_chain_is_detected() {
        let k = key();
        let (rows, cp, _) = chain(&k, 3);
        let mut wrong = cp;
        wrong.head_mac = rows[0].mac.unwrap();
        let sig = wrong.sign(&k);
        let r = run(&k, &rows, Some((&wrong, &sig)));
        assert_eq!(broken(&r), (rows[2].seq, Broken::HeadDiffers));
        let mut wrong_seq = cp;
        wrong_seq.seq += 1;
        let sig = wrong_seq.sign(&k);
        let r = run(&k, &rows, Some((&wrong_seq, &sig)));
        assert_eq!(broken(&r), (rows[2].seq, Broken::HeadDiffers));
    }

    #[test]
    fn entries_without_any_checkpoint_are_broken() {
        let k = key();
        let (rows, _, _) = chain(&k, 2);
        let r = run(&k, &rows, None);
        assert_eq!(broken(&r), (rows[0].seq, Broken::CheckpointMissing));
    }

    #[test]
    fn entries_appended_after_the_checkpoint_still_verify_by_their_macs() {
        let k = key();
        let (rows, _, _) = chain(&k, 5);
        let (_, early, early_sig) = chain(&k, 3);
        let r = run(&k, &rows, Some((&early, &early_sig)));
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.head.count, 5);
    }

    #[test]
    fn an_unsealed_entry_or_a_changed_link_is_reported() {
        let k = key();
        let (rows, cp, sig) = chain(&k, 3);
        let mut t = rows.clone();
        t[1].mac = None;
        assert_eq!(
            broken(&run(&k, &t, Some((&cp, &sig)))),
            (t[1].seq, Broken::NotSealed)
        );
        let mut t = rows.clone();
        t[2].prev_mac = Some([9; 32]);
        assert_eq!(
            broken(&run(&k, &t, Some((&cp, &sig)))),
            (t[2].seq, Broken::PrevMismatch)
        );
        // Links that were not stored are not required.
        let mut t = rows;
        t.iter_mut().for_each(|r| r.prev_mac = None);
        assert!(run(&k, &t, Some((&cp, &sig))).ok());
    }

    #[test]
    fn verification_starts_from_a_retention_cut() {
        let k = key();
        let (rows, cp, _) = chain(&k, 6);
        let cut = Checkpoint {
            cut_count: 2,
            cut_seq: rows[1].seq,
            cut_mac: rows[1].mac.unwrap(),
            ..cp
        };
        let sig = cut.sign(&k);
        let kept = &rows[2..];
        let r = run(&k, kept, Some((&cut, &sig)));
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.checked, 4);
        // Everything cut: no entry is left and the head is the cut itself.
        let all = Checkpoint {
            seq: rows[5].seq,
            count: 6,
            head_mac: rows[5].mac.unwrap(),
            cut_count: 6,
            cut_seq: rows[5].seq,
            cut_mac: rows[5].mac.unwrap(),
            created_at_ms: 0,
        };
        let sig = all.sign(&k);
        let r = run(&k, &[], Some((&all, &sig)));
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.head.count, 6);
        // Deleting one more entry than the cut says is still a gap.
        let sig = cut.sign(&k);
        let r = run(&k, &rows[3..], Some((&cut, &sig)));
        assert!(matches!(
            broken(&r).1,
            Broken::Gap {
                expected_index: 3,
                found_index: 4
            }
        ));
        // An entry from before the cut that reappears is out of order.
        let r = run(&k, &rows[1..], Some((&cut, &sig)));
        assert_eq!(broken(&r), (rows[1].seq, Broken::OutOfOrder));
    }

    #[test]
    fn the_encoding_is_unambiguous_across_field_boundaries() {
        let base = Entry {
            index: 1,
            seq: 2,
            kind: "ab",
            actor: Some("c"),
            device: None,
            address: None,
            target: "{}",
            before: "null",
            after: "null",
            created_at_ms: 3,
        };
        // Moving a character between neighbouring fields changes the encoding.
        let shifted = Entry {
            kind: "a",
            actor: Some("bc"),
            ..base
        };
        assert_ne!(encode(&base), encode(&shifted));
        // An absent value differs from an empty one.
        let empty = Entry {
            device: Some(""),
            ..base
        };
        assert_ne!(encode(&base), encode(&empty));
        let moved = Entry {
            actor: None,
            device: Some("c"),
            ..base
        };
        assert_ne!(encode(&base), encode(&moved));
        // Encoding is a pure function of the fields.
        assert_eq!(encode(&base), encode(&{ base }));
    }

    #[test]
    fn entry_and_checkpoint_macs_are_domain_separated_and_keyed() {
        let k = key();
        let e = Entry {
            index: 1,
            seq: 1,
            kind: "k",
            actor: None,
            device: None,
            address: None,
            target: "",
            before: "",
            after: "",
            created_at_ms: 0,
        };
        let m = entry_mac(&k, &GENESIS, &e);
        assert!(entry_mac_ok(&k, &GENESIS, &e, &m));
        assert!(!entry_mac_ok(&k, &[1; 32], &e, &m), "prev is covered");
        assert_ne!(m, entry_mac(&Key::new(vec![8; 32]).unwrap(), &GENESIS, &e));
        let cp = Checkpoint {
            seq: 1,
            count: 1,
            head_mac: m,
            cut_count: 0,
            cut_seq: 0,
            cut_mac: GENESIS,
            created_at_ms: 0,
        };
        assert_ne!(cp.sign(&k), m);
        for field in 0..7 {
            let mut c = cp;
            match field {
                0 => c.seq += 1,
                1 => c.count += 1,
                2 => c.head_mac[5] ^= 1,
                3 => c.cut_count += 1,
                4 => c.cut_seq += 1,
                5 => c.cut_mac[0] ^= 1,
                _ => c.created_at_ms += 1,
            }
            assert!(!c.signature_ok(&k, &cp.sign(&k)), "field {field} is signed");
        }
    }

    #[test]
    fn keys_need_32_bytes_and_never_print() {
        assert!(matches!(
            Key::new(vec![1; 31]),
            Err(KeyTooShort { got: 31 })
        ));
        let k = Key::new(vec![0xAB; 32]).unwrap();
        let shown = format!("{k:?}");
        assert!(
            !shown.contains("171") && !shown.to_lowercase().contains("ab,"),
            "{shown}"
        );
    }

    #[test]
    fn after_a_break_the_verifier_keeps_reporting_the_first_one() {
        let k = key();
        let (mut rows, cp, sig) = chain(&k, 4);
        rows[1].kind = "edited".into();
        rows[3].kind = "edited".into();
        let mut v = Verifier::new(&k, Some((&cp, &sig)));
        assert!(v.push(&rows[0].stored()).is_ok());
        let first = v.push(&rows[1].stored()).unwrap_err();
        assert_eq!(v.push(&rows[2].stored()), Err(first));
        let r = v.finish();
        assert_eq!(r.first_broken, Some(first));
        assert_eq!(first.seq, rows[1].seq);
    }

    proptest::proptest! {
        /// Any one-byte change to any text field of any entry (same length, still UTF-8)
        /// is caught at that entry.
        #[test]
        fn any_single_byte_change_is_caught_at_its_entry(
            n in 1u64..10,
            pick in 0usize..1000,
            field in 0usize..7,
            at in 0usize..1000,
            byte in proptest::sample::select(b"abcdefghijklmnopqrstuvwxyz0123456789{}:,\"".to_vec()),
        ) {
            let k = key();
            let (rows, cp, sig) = chain(&k, n);
            let mut t = rows.clone();
            let i = pick % t.len();
            let text = match field {
                0 => &mut t[i].kind,
                1 => &mut t[i].target,
                2 => &mut t[i].before,
                3 => &mut t[i].after,
                4 => t[i].actor.get_or_insert_with(String::new),
                5 => t[i].device.get_or_insert_with(|| "d".into()),
                _ => t[i].address.get_or_insert_with(String::new),
            };
            let mut bytes = std::mem::take(text).into_bytes();
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            *text = String::from_utf8(bytes).unwrap();
            let r = run(&k, &t, Some((&cp, &sig)));
            if t[i].entry() == rows[i].entry() {
                proptest::prop_assert!(r.ok());
            } else {
                proptest::prop_assert_eq!(broken(&r), (t[i].seq, Broken::MacMismatch));
            }
        }
    }

    #[test]
    fn broken_reasons_have_codes_and_plain_words() {
        let all = [
            Broken::MacMismatch,
            Broken::Gap {
                expected_index: 2,
                found_index: 5,
            },
            Broken::OutOfOrder,
            Broken::NotSealed,
            Broken::PrevMismatch,
            Broken::ChainShorter {
                checkpoint_count: 4,
                found_count: 3,
            },
            Broken::HeadDiffers,
            Broken::CheckpointSignature,
            Broken::CheckpointMissing,
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(Broken::code).collect();
        assert_eq!(codes.len(), all.len());
        assert!(all[1].to_string().contains("3 entries"));
        assert!(all[5].to_string().contains("4 entries"));
        for b in all {
            assert!(!b.to_string().is_empty());
        }
    }
}
