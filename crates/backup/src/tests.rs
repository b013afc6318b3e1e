//! Round trips and the tamper matrix: every way a file can be wrong has its own answer.

use super::*;

const PASS: &str = "correct horse battery";
/// The cheapest accepted cost and small chunks, so tests cover many chunks quickly.
const FAST: SealOptions = SealOptions {
    kdf: KdfParams::MINIMUM,
    chunk_size: 1024,
};

fn payload(len: usize) -> Vec<u8> {
    // Deterministic, not repeating within a chunk, so a swapped chunk differs.
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn sealed(data: &[u8], kind: Kind) -> Vec<u8> {
    let mut out = Vec::new();
    let s = seal_with(data, &mut out, PASS, kind, &FAST).unwrap();
    assert_eq!(s.plaintext_bytes, data.len() as u64);
    assert_eq!(s.file_bytes, out.len() as u64);
    out
}

fn open_vec(file: &[u8], pass: &str) -> Result<(Kind, Vec<u8>)> {
    let mut out = Vec::new();
    let kind = open(file, &mut out, pass)?;
    Ok((kind, out))
}

fn chunk_at(i: usize) -> std::ops::Range<usize> {
    let sealed = FAST.chunk_size as usize + TAG_LEN;
    HEADER_LEN + i * sealed..HEADER_LEN + (i + 1) * sealed
}

#[test]
fn round_trips_every_size_and_kind() {
    for len in [0, 1, 1023, 1024, 1025, 2048, 10_000] {
        for kind in [Kind::Relay, Kind::Store] {
            let data = payload(len);
            let file = sealed(&data, kind);
            // Header + one tag per chunk; an exact multiple needs no extra empty chunk.
            let chunks = len.div_ceil(1024).max(1);
            assert_eq!(file.len(), HEADER_LEN + len + chunks * TAG_LEN, "len {len}");
            let (k, back) = open_vec(&file, PASS).unwrap();
            assert_eq!(k, kind);
            assert_eq!(back, data, "len {len}");
        }
    }
}

#[test]
fn ciphertext_hides_the_payload_and_differs_each_time() {
    let data = b"canary-7f3a canary-7f3a canary-7f3a".repeat(100);
    let a = sealed(&data, Kind::Store);
    let b = sealed(&data, Kind::Store);
    assert_ne!(a, b, "fresh salt and nonce prefix every time");
    assert!(!a.windows(11).any(|w| w == b"canary-7f3a"));
}

#[test]
fn header_is_readable_without_the_passphrase() {
    let file = sealed(b"x", Kind::Relay);
    let h = read_header(&file[..]).unwrap();
    assert_eq!(h.kind, Kind::Relay);
    assert_eq!(h.version, FORMAT_VERSION);
    assert_eq!(h.kdf, KdfParams::MINIMUM);
    assert_eq!(h.chunk_size, 1024);
    assert!(!format!("{h:?}").contains("salt"));
}

#[test]
fn wrong_passphrase_is_named_as_such() {
    let file = sealed(&payload(5000), Kind::Store);
    let err = open_vec(&file, "correct horse battery!").unwrap_err();
    assert!(matches!(err, BackupError::WrongPassphrase), "{err}");
    assert_eq!(err.code(), "backup_wrong_passphrase");
    assert!(err.to_string().contains("wrong passphrase"));
}

#[test]
fn a_file_that_is_not_a_backup_is_named_as_such() {
    for bytes in [
        &b""[..],
        b"TLB",
        b"SQLite format 3\0 and more bytes here",
        &[0u8; 500],
    ] {
        let err = open_vec(bytes, PASS).unwrap_err();
        assert!(matches!(err, BackupError::NotABackup), "{err}");
    }
}

#[test]
fn every_header_byte_flipped_is_refused_with_the_right_reason() {
    let file = sealed(&payload(3000), Kind::Relay);
    for i in 0..HEADER_LEN {
        let mut bad = file.clone();
        bad[i] ^= 0x01;
        let err = open_vec(&bad, PASS).unwrap_err();
        match i {
            0..=3 => assert!(matches!(err, BackupError::NotABackup), "byte {i}: {err}"),
            // 0x0001 -> 0x0101 reads as a newer format; 0x0001 -> 0x0000 as damage.
            4 => assert!(
                matches!(
                    err,
                    BackupError::UnsupportedVersion {
                        found: 0x0101,
                        supported: 1
                    }
                ),
                "byte {i}: {err}"
            ),
            5 => assert!(
                matches!(err, BackupError::Damaged { .. }),
                "byte {i}: {err}"
            ),
            _ => assert!(
                matches!(err, BackupError::Damaged { offset: 0 }),
                "byte {i}: {err}"
            ),
        }
    }
}

#[test]
fn a_header_edited_with_a_recomputed_checksum_still_fails_the_tag() {
    // An attacker can fix the checksum; the AEAD's associated data still catches it.
    let file = sealed(&payload(3000), Kind::Relay);
    let mut bad = file.clone();
    bad[6] = Kind::Store.byte();
    let sum = checksum(&bad[..CHECKSUM_AT]);
    bad[CHECKSUM_AT..HEADER_LEN].copy_from_slice(&sum);
    assert_eq!(read_header(&bad[..]).unwrap().kind, Kind::Store);
    let err = open_vec(&bad, PASS).unwrap_err();
    // The passphrase check does not cover the kind byte; the first chunk's tag does.
    assert!(
        matches!(
            err,
            BackupError::Damaged {
                offset
            } if offset == HEADER_LEN as u64
        ),
        "{err}"
    );
}

#[test]
fn a_header_asking_for_absurd_cost_is_refused_before_any_work() {
    let file = sealed(b"x", Kind::Relay);
    for (at, value) in [(8, u32::MAX), (12, 1_000_000), (16, 0), (20, 1)] {
        let mut bad = file.clone();
        bad[at..at + 4].copy_from_slice(&value.to_be_bytes());
        let sum = checksum(&bad[..CHECKSUM_AT]);
        bad[CHECKSUM_AT..HEADER_LEN].copy_from_slice(&sum);
        let err = open_vec(&bad, PASS).unwrap_err();
        assert!(
            matches!(err, BackupError::Damaged { offset } if offset == at as u64),
            "field at {at}: {err}"
        );
    }
}

#[test]
fn a_flipped_byte_in_any_chunk_is_damage_at_that_chunk() {
    let data = payload(5 * 1024 + 100); // 6 chunks
    let file = sealed(&data, Kind::Store);
    for chunk in 0..6 {
        let range = chunk_at(chunk);
        let end = range.end.min(file.len());
        for at in [range.start, (range.start + 500).min(end - 1), end - 1] {
            let mut bad = file.clone();
            bad[at] ^= 0x80;
            let err = open_vec(&bad, PASS).unwrap_err();
            assert!(
                matches!(err, BackupError::Damaged { offset } if offset == range.start as u64),
                "chunk {chunk} byte {at}: {err}"
            );
        }
    }
}

#[test]
fn swapped_dropped_duplicated_or_appended_chunks_are_refused() {
    let data = payload(4 * 1024); // exactly 4 full chunks
    let file = sealed(&data, Kind::Store);
    let chunks: Vec<&[u8]> = (0..4).map(|i| &file[chunk_at(i)]).collect();
    let header = &file[..HEADER_LEN];
    let build = |order: &[usize]| {
        let mut f = header.to_vec();
        for &i in order {
            f.extend_from_slice(chunks[i]);
        }
        f
    };
    assert_eq!(open_vec(&build(&[0, 1, 2, 3]), PASS).unwrap().1, data);
    for order in [
        &[1, 0, 2, 3][..],
        &[0, 2, 1, 3],
        &[0, 1, 3, 2],
        &[0, 2, 3],
        &[0, 1, 1, 2, 3],
    ] {
        let err = open_vec(&build(order), PASS).unwrap_err();
        assert!(
            matches!(err, BackupError::Damaged { .. }),
            "{order:?}: {err}"
        );
    }
    let mut appended = file.clone();
    appended.extend_from_slice(b"trailing bytes");
    let err = open_vec(&appended, PASS).unwrap_err();
    assert!(
        matches!(err, BackupError::Damaged { .. }),
        "appended: {err}"
    );
    // The last chunk repeated after itself.
    let mut again = file.clone();
    again.extend_from_slice(chunks[3]);
    assert!(matches!(
        open_vec(&again, PASS).unwrap_err(),
        BackupError::Damaged { .. }
    ));
}

#[test]
fn truncation_anywhere_is_refused() {
    let data = payload(3 * 1024 + 10); // 4 chunks, the last short
    let file = sealed(&data, Kind::Relay);
    let sealed = 1024 + TAG_LEN;
    // Every cut inside the header, and around every chunk boundary (each open past the
    // header runs Argon2id, slow in a debug build).
    let mut cuts: Vec<usize> = (0..=HEADER_LEN).collect();
    for b in (HEADER_LEN..file.len()).step_by(sealed) {
        cuts.extend([b, b + 1, b + 17, b + sealed - 1]);
    }
    cuts.push(file.len() - 1);
    cuts.retain(|c| *c < file.len());
    for cut in cuts {
        let err = open_vec(&file[..cut], PASS).unwrap_err();
        match cut {
            0..=3 => assert!(matches!(err, BackupError::NotABackup), "cut {cut}: {err}"),
            c if c <= HEADER_LEN => {
                assert!(matches!(err, BackupError::Truncated), "cut {cut}: {err}")
            }
            // Cut exactly after a full middle chunk.
            c if (c - HEADER_LEN).is_multiple_of(sealed) => {
                assert!(matches!(err, BackupError::Truncated), "cut {cut}: {err}")
            }
            _ => assert!(
                matches!(err, BackupError::Damaged { .. }),
                "cut {cut}: {err}"
            ),
        }
    }
}

#[test]
fn sealing_refuses_a_short_passphrase_and_a_cost_below_the_floor() {
    let err = seal_with(&b"x"[..], Vec::new(), "short", Kind::Relay, &FAST).unwrap_err();
    assert!(matches!(err, BackupError::WeakPassphrase));
    let weak = SealOptions {
        kdf: KdfParams {
            m_cost_kib: 1024,
            t_cost: 1,
            p_cost: 1,
        },
        chunk_size: 1024,
    };
    let err = seal_with(&b"x"[..], Vec::new(), PASS, Kind::Relay, &weak).unwrap_err();
    assert!(matches!(err, BackupError::Invalid(_)), "{err}");
    let tiny_chunks = SealOptions {
        chunk_size: 16,
        ..FAST
    };
    let err = seal_with(&b"x"[..], Vec::new(), PASS, Kind::Relay, &tiny_chunks).unwrap_err();
    assert!(matches!(err, BackupError::Invalid(_)), "{err}");
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn files_are_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let data = payload(10_000);
    let backup = dir.path().join("shop.tlbk");
    seal_to_file(&data[..], &backup, PASS, Kind::Store, &FAST).unwrap();
    assert_eq!(listing(dir.path()), ["shop.tlbk"]);
    assert_eq!(expect_kind(&backup, Kind::Store).unwrap().kind, Kind::Store);
    let err = expect_kind(&backup, Kind::Relay).unwrap_err();
    assert!(
        err.to_string()
            .contains("holds a desktop app store, not a relay database"),
        "{err}"
    );

    let target = dir.path().join("restored.bin");
    std::fs::write(&target, b"previous content").unwrap();
    let file = std::fs::read(&backup).unwrap();

    // Failures: wrong passphrase, damage in the last chunk (after plaintext was already
    // produced for earlier chunks), truncation. The target and the folder stay as they were.
    let mut damaged = file.clone();
    let last = damaged.len() - 3;
    damaged[last] ^= 1;
    let cut = &file[..file.len() - 200];
    for (bytes, pass) in [
        (&file[..], "not the passphrase"),
        (&damaged[..], PASS),
        (cut, PASS),
    ] {
        assert!(open_to_file(bytes, &target, pass).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"previous content");
        assert_eq!(listing(dir.path()), ["restored.bin", "shop.tlbk"]);
    }

    assert_eq!(open_to_file(&file[..], &target, PASS).unwrap(), Kind::Store);
    assert_eq!(std::fs::read(&target).unwrap(), data);
    assert_eq!(listing(dir.path()), ["restored.bin", "shop.tlbk"]);
}

#[test]
fn a_failed_seal_leaves_no_file_under_the_final_name() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk went away"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(7);
            self.0 -= n;
            Ok(n)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.tlbk");
    let err = seal_to_file(Failing(5000), &target, PASS, Kind::Relay, &FAST).unwrap_err();
    assert!(matches!(err, BackupError::Io(_)), "{err}");
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn default_cost_is_the_documented_one() {
    assert_eq!(
        SealOptions::default(),
        SealOptions {
            kdf: KdfParams {
                m_cost_kib: 65536,
                t_cost: 3,
                p_cost: 1
            },
            chunk_size: 65536
        }
    );
}
