//! The very first stores a process opens, opened by several threads at the same moment.
//! This test has a binary of its own: SQLCipher must not have been set up yet when it starts.

mod common;

use std::sync::{Arc, Barrier};

use common::raw;
use teamline_store::Store;

/// SQLite marks itself initialised before SQLCipher's own set-up has run, so a thread that
/// keys a connection while another is still inside that set-up used to fail with
/// "An error occurred with PRAGMA key or rekey" (seen once in CI).
#[test]
fn threads_opening_the_first_stores_together_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let threads = 16;
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let path = dir.path().join(format!("store-{i}.db"));
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                Store::open(&path, raw()).map(drop)
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        if let Err(e) = handle.join().unwrap() {
            panic!("store {i} did not open: {e}");
        }
    }
}
