//! Files the app saves for the user (audit exports, device backups): always a new file in
//! the folder asked for, named as suggested or `name (1)`, `name (2)`... when taken.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

/// The file name for a device backup made at `now`.
pub fn device_backup_name(now: Timestamp) -> String {
    format!("teamline-device-{}.tlbk", now.strftime("%Y%m%d-%H%M%S"))
}

/// A path in `dir` for `name` that no file uses yet (creating `dir` if needed). Only the
/// last component of `name` is used: a name from the relay never leads out of `dir`.
pub fn free_path(dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = Path::new(name).file_name().map_or_else(
        || "teamline-export".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    (0..1000)
        .map(|n| match n {
            0 => dir.join(&name),
            n => dir.join(format!("{stem} ({n}){ext}")),
        })
        .find(|p| !p.exists())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("too many files named {name} in {}", dir.display()),
            )
        })
}

/// Writes `bytes` as a new file for `name` in `dir` (see [`free_path`]); returns its path.
pub fn save_new(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let path = free_path(dir, name)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taken_names_get_a_number_and_nothing_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let first = save_new(dir.path(), "audit.csv", b"one").unwrap();
        let second = save_new(dir.path(), "audit.csv", b"two").unwrap();
        let third = save_new(dir.path(), "audit.csv", b"three").unwrap();
        assert_eq!(first, dir.path().join("audit.csv"));
        assert_eq!(second, dir.path().join("audit (1).csv"));
        assert_eq!(third, dir.path().join("audit (2).csv"));
        assert_eq!(std::fs::read(&first).unwrap(), b"one");
        assert_eq!(std::fs::read(&third).unwrap(), b"three");
    }

    #[test]
    fn a_suggested_name_cannot_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("downloads");
        let saved = save_new(&inner, "../../etc/evil.csv", b"x").unwrap();
        assert_eq!(saved, inner.join("evil.csv"));
        assert_eq!(
            free_path(&inner, "..").unwrap(),
            inner.join("teamline-export")
        );
        assert_eq!(
            free_path(&inner, ".profile").unwrap(),
            inner.join(".profile")
        );
    }

    #[test]
    fn device_backups_are_named_by_time() {
        let at: Timestamp = "2026-11-21T10:15:00Z".parse().unwrap();
        assert!(device_backup_name(at).starts_with("teamline-device-2026"));
        assert!(device_backup_name(at).ends_with(".tlbk"));
    }
}
