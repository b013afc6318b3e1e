//! Compiles `cargo xtask bench`'s client module and runs it with small numbers, so the
//! benchmark cannot rot while xtask is wired separately. 2,500 messages put the device far
//! enough behind for the paged catch-up (`sync::catch_up`) rather than the stream.

#[path = "../../xtask/src/bench_client.rs"]
mod bench_client;

#[test]
fn cold_sync_bench_runs_and_reports() {
    let _entry: fn() -> anyhow::Result<serde_json::Value> = bench_client::run;
    let figures = bench_client::run_with(2_500, 7).unwrap();
    let c = &figures["cold_sync"];
    assert_eq!(c["messages"], 2_500);
    assert!(c["events_applied"].as_u64().unwrap() >= 2_500);
    assert_eq!(c["searchable_at_end"], true);
    assert!(c["messages_per_sec"].as_f64().unwrap() > 0.0);
}

/// The real figures (100,000 messages): `cargo test --release -p teamline-client --test
/// bench_compiles -- --ignored --nocapture` (what `cargo xtask bench` reports).
#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn cold_sync_bench_full_size() {
    let figures = bench_client::run().unwrap();
    println!("{}", serde_json::to_string_pretty(&figures).unwrap());
    assert_eq!(figures["cold_sync"]["messages"], 100_000);
}
