//! `teamline-backup`: the encrypted file a relay database or a desktop store is backed up
//! into. Passphrase-based, streaming (constant memory whatever the size), and every byte
//! authenticated, so a wrong passphrase, a file that is not a backup, a newer format, and a
//! damaged or cut-short copy are each told apart in plain words.
//!
//! # Format (version 1)
//!
//! A 99-byte header, then the payload in chunks. Integers are big-endian.
//!
//! | offset | size | field                                                             |
//! |-------:|-----:|-------------------------------------------------------------------|
//! |      0 |    4 | magic `TLBK`                                                      |
//! |      4 |    2 | format version (1)                                                |
//! |      6 |    1 | kind: 1 relay database, 2 desktop store                           |
//! |      7 |    1 | cipher: 1 = XChaCha20-Poly1305 in STREAM (BE32 counter + flag)    |
//! |      8 |   12 | Argon2id memory (KiB), passes, lanes                              |
//! |     20 |    4 | plaintext bytes per chunk                                         |
//! |     24 |   16 | Argon2id salt                                                     |
//! |     40 |   19 | STREAM nonce prefix (random)                                      |
//! |     59 |   32 | passphrase check (second half of the Argon2id output)             |
//! |     91 |    8 | header checksum: SHA-256 of bytes 0..91, first 8 bytes            |
//!
//! Argon2id turns the passphrase into 64 bytes: the first 32 are the XChaCha20-Poly1305 key,
//! the last 32 the passphrase check, so a wrong passphrase is reported as such before any
//! decryption (it offers an attacker nothing the first chunk would not). The checksum only
//! catches accidental damage to the header early; the header's integrity rests on the
//! AEAD, which takes the whole header as associated data for every chunk.
//!
//! Each chunk is `chunk size` plaintext bytes (the last one may be shorter, even empty)
//! plus a 16-byte tag, sealed with nonce = prefix ‖ chunk index (u32) ‖ last flag (STREAM,
//! Hoang–Reyhanitabar–Rogaway–Vizár). Reordered, dropped, duplicated or appended chunks
//! fail the tag; a file cut at a chunk boundary fails because its new final chunk was not
//! sealed as the last one.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The first four bytes of every backup file.
pub const MAGIC: &[u8; 4] = b"TLBK";
/// The format this build writes and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes before the first chunk.
pub const HEADER_LEN: usize = 99;
/// Plaintext bytes per chunk written by default (64 KiB).
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// Shortest passphrase accepted when sealing (the same floor as the store's passphrase).
pub const MIN_PASSPHRASE_CHARS: usize = 8;

const CIPHER_XCHACHA20POLY1305_STREAM_BE32: u8 = 1;
const TAG_LEN: usize = 16;
const SALT_LEN: usize = 16;
const PREFIX_LEN: usize = 19;
const CHECK_LEN: usize = 32;
const CHECKSUM_LEN: usize = 8;
const CHECKSUM_AT: usize = HEADER_LEN - CHECKSUM_LEN;
/// The most Argon2id cost a header may ask for (2 GiB, 64 passes, 16 lanes).
const MAX_M_COST_KIB: u32 = 2 * 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;
/// Chunk sizes a header may declare (bounds the memory a hostile file can ask for).
const CHUNK_RANGE: std::ops::RangeInclusive<u32> = 1024..=(16 * 1024 * 1024);

type Stream = StreamBE32<XChaCha20Poly1305>;

/// What a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A relay's SQLite database (`teamline-relay backup`).
    Relay,
    /// A desktop app's local store (exported from the app).
    Store,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Relay => 1,
            Kind::Store => 2,
        }
    }

    fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Relay),
            2 => Some(Kind::Store),
            _ => None,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Relay => "relay database",
            Kind::Store => "desktop app store",
        })
    }
}

/// Why a backup could not be written or read. Messages are meant for the person holding
/// the file; none of them carries the passphrase or any content.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this file is not a Teamline backup")]
    NotABackup,
    #[error(
        "this backup was made by a newer version of Teamline (backup format {found}; this version reads up to format {supported}); update Teamline to restore it"
    )]
    UnsupportedVersion { found: u16, supported: u16 },
    #[error("wrong passphrase: it does not open this backup")]
    WrongPassphrase,
    #[error(
        "the backup file is damaged or was altered: it fails its integrity check at byte {offset}"
    )]
    Damaged { offset: u64 },
    #[error(
        "the backup file is incomplete: it ends before its last part (was the copy cut short?)"
    )]
    Truncated,
    #[error("this backup holds a {found}, not a {expected}")]
    WrongKind { expected: Kind, found: Kind },
    #[error("the backup passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")]
    WeakPassphrase,
    #[error("invalid backup settings: {0}")]
    Invalid(String),
    #[error("could not read or write the backup: {0}")]
    Io(#[from] io::Error),
}

impl BackupError {
    /// A stable code for callers that branch on the reason (and for the app's UI).
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::NotABackup => "backup_not_a_backup",
            BackupError::UnsupportedVersion { .. } => "backup_unsupported_version",
            BackupError::WrongPassphrase => "backup_wrong_passphrase",
            BackupError::Damaged { .. } => "backup_damaged",
            BackupError::Truncated => "backup_truncated",
            BackupError::WrongKind { .. } => "backup_wrong_kind",
            BackupError::WeakPassphrase => "backup_weak_passphrase",
            BackupError::Invalid(_) => "backup_invalid",
            BackupError::Io(_) => "backup_io",
        }
    }
}

pub type Result<T, E = BackupError> = std::result::Result<T, E>;

/// Argon2id cost, recorded in the header so a backup opens whatever the current default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// The floor accepted when sealing: 8 MiB, one pass (tests and very small machines).
    pub const MINIMUM: KdfParams = KdfParams {
        m_cost_kib: 8 * 1024,
        t_cost: 1,
        p_cost: 1,
    };

    /// Whether a header's cost is one this build agrees to spend (a hostile file must not
    /// make the reader allocate gigabytes or loop for hours).
    fn readable(&self) -> bool {
        (8..=MAX_M_COST_KIB).contains(&self.m_cost_kib)
            && (1..=MAX_T_COST).contains(&self.t_cost)
            && (1..=MAX_P_COST).contains(&self.p_cost)
    }

    fn check_for_sealing(&self) -> Result<()> {
        if self.m_cost_kib < Self::MINIMUM.m_cost_kib
            || self.t_cost < Self::MINIMUM.t_cost
            || !self.readable()
        {
            return Err(BackupError::Invalid(format!(
                "Argon2id cost out of range: {} KiB, {} passes, {} lanes (at least 8 MiB and one pass)",
                self.m_cost_kib, self.t_cost, self.p_cost
            )));
        }
        Ok(())
    }
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane (about half a second on a laptop; a backup is made rarely,
    /// and the file may leave the building).
    fn default() -> Self {
        KdfParams {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

/// How [`seal_with`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealOptions {
    pub kdf: KdfParams,
    /// Plaintext bytes per chunk (1 KiB to 16 MiB).
    pub chunk_size: u32,
}

impl Default for SealOptions {
    fn default() -> Self {
        SealOptions {
            kdf: KdfParams::default(),
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

/// The public part of a backup: readable without the passphrase.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u16,
    pub kind: Kind,
    pub kdf: KdfParams,
    pub chunk_size: u32,
    salt: [u8; SALT_LEN],
    nonce_prefix: [u8; PREFIX_LEN],
    check: [u8; CHECK_LEN],
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Header")
            .field("version", &self.version)
            .field("kind", &self.kind)
            .field("kdf", &self.kdf)
            .field("chunk_size", &self.chunk_size)
            .finish_non_exhaustive()
    }
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(MAGIC);
        h[4..6].copy_from_slice(&self.version.to_be_bytes());
        h[6] = self.kind.byte();
        h[7] = CIPHER_XCHACHA20POLY1305_STREAM_BE32;
        h[8..12].copy_from_slice(&self.kdf.m_cost_kib.to_be_bytes());
        h[12..16].copy_from_slice(&self.kdf.t_cost.to_be_bytes());
        h[16..20].copy_from_slice(&self.kdf.p_cost.to_be_bytes());
        h[20..24].copy_from_slice(&self.chunk_size.to_be_bytes());
        h[24..40].copy_from_slice(&self.salt);
        h[40..59].copy_from_slice(&self.nonce_prefix);
        h[59..91].copy_from_slice(&self.check);
        let sum = checksum(&h[..CHECKSUM_AT]);
        h[CHECKSUM_AT..].copy_from_slice(&sum);
        h
    }

    fn decode(h: &[u8; HEADER_LEN]) -> Result<Header> {
        // Magic and version were checked by `read_header_bytes`.
        if checksum(&h[..CHECKSUM_AT])[..] != h[CHECKSUM_AT..] {
            return Err(BackupError::Damaged { offset: 0 });
        }
        let u32_at = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let kind = Kind::from_byte(h[6]).ok_or(BackupError::Damaged { offset: 6 })?;
        if h[7] != CIPHER_XCHACHA20POLY1305_STREAM_BE32 {
            return Err(BackupError::Damaged { offset: 7 });
        }
        let kdf = KdfParams {
            m_cost_kib: u32_at(8),
            t_cost: u32_at(12),
            p_cost: u32_at(16),
        };
        if !kdf.readable() {
            // Name the field that is out of range.
            let offset = if !(8..=MAX_M_COST_KIB).contains(&kdf.m_cost_kib) {
                8
            } else if !(1..=MAX_T_COST).contains(&kdf.t_cost) {
                12
            } else {
                16
            };
            return Err(BackupError::Damaged { offset });
        }
        let chunk_size = u32_at(20);
        if !CHUNK_RANGE.contains(&chunk_size) {
            return Err(BackupError::Damaged { offset: 20 });
        }
        let mut header = Header {
            version: u16::from_be_bytes([h[4], h[5]]),
            kind,
            kdf,
            chunk_size,
            salt: [0; SALT_LEN],
            nonce_prefix: [0; PREFIX_LEN],
            check: [0; CHECK_LEN],
        };
        header.salt.copy_from_slice(&h[24..40]);
        header.nonce_prefix.copy_from_slice(&h[40..59]);
        header.check.copy_from_slice(&h[59..91]);
        Ok(header)
    }
}

fn checksum(bytes: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::digest(bytes);
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

/// The payload key and the passphrase check, from one Argon2id run.
fn derive(
    passphrase: &str,
    salt: &[u8; SALT_LEN],
    kdf: KdfParams,
) -> Result<(Zeroizing<[u8; 32]>, [u8; CHECK_LEN])> {
    let params = argon2::Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(64))
        .map_err(|e| BackupError::Invalid(format!("Argon2id parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 64]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|e| BackupError::Invalid(format!("Argon2id: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&out[..32]);
    let mut check = [0u8; CHECK_LEN];
    check.copy_from_slice(&out[32..]);
    Ok((key, check))
}

fn stream(key: &[u8; 32], prefix: &[u8; PREFIX_LEN]) -> Stream {
    let aead = XChaCha20Poly1305::new(&chacha20poly1305::Key::from(*key));
    Stream::from_aead(aead, &(*prefix).into())
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| BackupError::Io(io::Error::other(format!("no OS randomness: {e}"))))?;
    Ok(b)
}

/// Reads until `buf` holds `want` bytes or the reader ends; returns whether it ended.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
    buf.clear();
    let mut taken = reader.by_ref().take(want as u64);
    loop {
        match taken.read_to_end(buf) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// What [`seal`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    pub kind: Kind,
    /// Payload bytes read.
    pub plaintext_bytes: u64,
    /// Bytes written (header, chunks and tags).
    pub file_bytes: u64,
}

/// Encrypts everything `reader` yields into `writer` with the default cost.
pub fn seal<R: Read, W: Write>(
    reader: R,
    writer: W,
    passphrase: &str,
    kind: Kind,
) -> Result<Sealed> {
    seal_with(reader, writer, passphrase, kind, &SealOptions::default())
}

/// As [`seal`] with an explicit cost and chunk size.
pub fn seal_with<R: Read, W: Write>(
    mut reader: R,
    mut writer: W,
    passphrase: &str,
    kind: Kind,
    options: &SealOptions,
) -> Result<Sealed> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(BackupError::WeakPassphrase);
    }
    options.kdf.check_for_sealing()?;
    if !CHUNK_RANGE.contains(&options.chunk_size) {
        return Err(BackupError::Invalid(format!(
            "chunk size {} is outside 1 KiB..16 MiB",
            options.chunk_size
        )));
    }
    let mut header = Header {
        version: FORMAT_VERSION,
        kind,
        kdf: options.kdf,
        chunk_size: options.chunk_size,
        salt: random()?,
        nonce_prefix: random()?,
        check: [0; CHECK_LEN],
    };
    let (key, check) = derive(passphrase, &header.salt, header.kdf)?;
    header.check = check;
    let aad = header.encode();
    let stream = stream(&key, &header.nonce_prefix);
    writer.write_all(&aad)?;

    let chunk = options.chunk_size as usize;
    let mut cur = Zeroizing::new(Vec::with_capacity(chunk + TAG_LEN));
    let mut next = Zeroizing::new(Vec::with_capacity(chunk + TAG_LEN));
    fill(&mut reader, &mut cur, chunk)?;
    let mut position: u32 = 0;
    let mut plaintext_bytes = 0u64;
    let mut file_bytes = HEADER_LEN as u64;
    loop {
        // A chunk is the last one when nothing follows it (so a payload that is an exact
        // multiple of the chunk size ends with a full chunk sealed as last).
        let last = cur.len() < chunk || {
            fill(&mut reader, &mut next, chunk)?;
            next.is_empty()
        };
        plaintext_bytes += cur.len() as u64;
        stream
            .encrypt_in_place(position, last, &aad, &mut *cur)
            .map_err(|_| BackupError::Invalid("encryption failed".into()))?;
        writer.write_all(&cur)?;
        file_bytes += cur.len() as u64;
        if last {
            break;
        }
        position = position
            .checked_add(1)
            .filter(|p| *p < u32::MAX)
            .ok_or_else(|| {
                BackupError::Invalid("the payload is too large for one backup file".into())
            })?;
        std::mem::swap(&mut cur, &mut next);
    }
    writer.flush()?;
    Ok(Sealed {
        kind,
        plaintext_bytes,
        file_bytes,
    })
}

/// Reads and checks the header (no passphrase needed): what the file holds and its cost.
pub fn read_header<R: Read>(mut reader: R) -> Result<Header> {
    let bytes = read_header_bytes(&mut reader)?;
    Header::decode(&bytes)
}

fn read_header_bytes(reader: &mut impl Read) -> Result<[u8; HEADER_LEN]> {
    let mut buf = Vec::with_capacity(HEADER_LEN);
    fill(reader, &mut buf, HEADER_LEN)?;
    if buf.len() < MAGIC.len() || &buf[..MAGIC.len()] != MAGIC {
        return Err(BackupError::NotABackup);
    }
    if buf.len() < 6 {
        return Err(BackupError::Truncated);
    }
    let version = u16::from_be_bytes([buf[4], buf[5]]);
    if version > FORMAT_VERSION {
        return Err(BackupError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(BackupError::Damaged { offset: 4 });
    }
    if buf.len() < HEADER_LEN {
        return Err(BackupError::Truncated);
    }
    let mut out = [0u8; HEADER_LEN];
    out.copy_from_slice(&buf);
    Ok(out)
}

/// Decrypts a backup from `reader` into `writer` and returns what it holds.
///
/// Each chunk is authenticated before its plaintext is written, but a cut-short or altered
/// file is only known to be so when its end is reached: on `Err`, `writer` may already
/// hold a prefix of the payload and must be discarded. [`open_to_temp`] and
/// [`open_to_file`] do that for files.
pub fn open<R: Read, W: Write>(mut reader: R, mut writer: W, passphrase: &str) -> Result<Kind> {
    let aad = read_header_bytes(&mut reader)?;
    let header = Header::decode(&aad)?;
    let (key, check) = derive(passphrase, &header.salt, header.kdf)?;
    if !bool::from(check.ct_eq(&header.check)) {
        return Err(BackupError::WrongPassphrase);
    }
    let stream = stream(&key, &header.nonce_prefix);
    let sealed_len = header.chunk_size as usize + TAG_LEN;
    let mut cur = Zeroizing::new(Vec::with_capacity(sealed_len));
    let mut next = Zeroizing::new(Vec::with_capacity(sealed_len));
    fill(&mut reader, &mut cur, sealed_len)?;
    if cur.is_empty() {
        return Err(BackupError::Truncated);
    }
    let mut position: u32 = 0;
    let mut offset = HEADER_LEN as u64;
    loop {
        let last = cur.len() < sealed_len || {
            fill(&mut reader, &mut next, sealed_len)?;
            next.is_empty()
        };
        if stream
            .decrypt_in_place(position, last, &aad, &mut *cur)
            .is_err()
        {
            // A full chunk that opens as a middle one but sits at the end: the file was
            // cut exactly at a chunk boundary. (A failed tag leaves the buffer as it was.)
            if last
                && cur.len() == sealed_len
                && stream
                    .decrypt_in_place(position, false, &aad, &mut *cur)
                    .is_ok()
            {
                return Err(BackupError::Truncated);
            }
            return Err(BackupError::Damaged { offset });
        }
        writer.write_all(&cur)?;
        if last {
            break;
        }
        offset += sealed_len as u64;
        position = position
            .checked_add(1)
            .filter(|p| *p < u32::MAX)
            .ok_or(BackupError::Damaged { offset })?;
        std::mem::swap(&mut cur, &mut next);
    }
    writer.flush()?;
    Ok(header.kind)
}

/// Decrypts into a new temporary file in `dir` (private to this user, removed when
/// dropped): the caller checks the payload, then persists it or lets it go. On `Err`
/// nothing is left behind.
pub fn open_to_temp<R: Read>(
    reader: R,
    dir: &Path,
    passphrase: &str,
) -> Result<(Kind, tempfile::NamedTempFile)> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".teamline-restore-")
        .tempfile_in(dir)?;
    let kind = {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        let kind = open(reader, &mut w, passphrase)?;
        w.flush()?;
        kind
    };
    tmp.as_file().sync_all()?;
    Ok((kind, tmp))
}

/// Decrypts into `target` only if the whole file is intact: the plaintext goes to a
/// temporary file next to it, renamed over `target` at the end (an existing `target` is
/// untouched on failure).
pub fn open_to_file<R: Read>(reader: R, target: &Path, passphrase: &str) -> Result<Kind> {
    let (kind, tmp) = open_to_temp(reader, &parent_of(target), passphrase)?;
    tmp.persist(target).map_err(|e| BackupError::Io(e.error))?;
    sync_dir(&parent_of(target));
    Ok(kind)
}

/// Seals into `target` through a temporary file next to it, renamed at the end: a failed
/// or interrupted backup never leaves a half-written file under the final name.
pub fn seal_to_file<R: Read>(
    reader: R,
    target: &Path,
    passphrase: &str,
    kind: Kind,
    options: &SealOptions,
) -> Result<Sealed> {
    let dir = parent_of(target);
    let mut tmp = tempfile::Builder::new()
        .prefix(".teamline-backup-")
        .tempfile_in(&dir)?;
    let sealed = {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        let sealed = seal_with(reader, &mut w, passphrase, kind, options)?;
        w.flush()?;
        sealed
    };
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| BackupError::Io(e.error))?;
    sync_dir(&dir);
    Ok(sealed)
}

/// Opens `path` and checks it holds `expected` before any key derivation.
pub fn expect_kind(path: &Path, expected: Kind) -> Result<Header> {
    let header = read_header(io::BufReader::new(File::open(path)?))?;
    if header.kind != expected {
        return Err(BackupError::WrongKind {
            expected,
            found: header.kind,
        });
    }
    Ok(header)
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Makes a rename durable (best effort: not every platform can open a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests;
