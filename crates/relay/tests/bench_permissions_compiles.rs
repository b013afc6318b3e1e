//! Compiles xtask's permission benchmark against this crate's API and runs it tiny, so a
//! change here that breaks `cargo xtask bench` fails this crate's tests.

#[path = "../../xtask/src/bench_permissions.rs"]
mod bench_permissions;

#[test]
fn permission_benchmark_runs_and_reports_its_figures() {
    let _entry: fn() -> anyhow::Result<serde_json::Value> = bench_permissions::run;
    let figures = bench_permissions::run_with(bench_permissions::Params {
        devices: 3,
        changes: 4,
        cheap_pins: true,
    })
    .unwrap();
    assert_eq!(figures["permission_samples"], 12, "{figures}");
    assert_eq!(figures["permission_leaks"], 0, "{figures}");
    let p99 = figures["permission_p99_ms"].as_f64().unwrap();
    let p50 = figures["permission_p50_ms"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= p99, "{figures}");
}

/// The full benchmark (20 devices, production PIN cost) against its target; run with
/// `cargo test --release -p teamline-relay --test bench_permissions_compiles -- --ignored`.
#[test]
#[ignore = "full-size benchmark; run in release"]
fn permission_changes_reach_20_devices_within_a_second_at_p99() {
    let figures = bench_permissions::run().unwrap();
    eprintln!("{figures}");
    assert!(
        figures["permission_p99_ms"].as_f64().unwrap() <= 1000.0,
        "{figures}"
    );
}
