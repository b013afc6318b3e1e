//! Compiles xtask's relay benchmark against this crate's API and runs it with tiny sizes,
//! so a change here that breaks `cargo xtask bench` fails this crate's tests.

#[path = "../../xtask/src/bench_relay.rs"]
mod bench_relay;

use std::time::Duration;

#[test]
fn relay_benchmark_runs_and_reports_its_figures() {
    let _entry: fn() -> anyhow::Result<serde_json::Value> = bench_relay::run;
    let figures = bench_relay::run_with(bench_relay::Params {
        ingest_count: 300,
        ingest_max: Duration::from_secs(20),
        ingest_clients: 8,
        ingest_deep_clients: 16,
        ingest_rounds: 1,
        sse_clients: 3,
        latency_rate_per_s: 200,
        latency_duration: Duration::from_millis(500),
    })
    .unwrap();
    for key in [
        "ingest_relay_webhooks_per_s",
        "ingest_bare_hmac_webhooks_per_s",
        "ingest_ratio",
        "latency_p50_ms",
        "latency_p99_ms",
    ] {
        let v = figures[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {figures}"));
        assert!(v > 0.0, "{key} = {v}");
    }
    assert_eq!(figures["ingest_relay_webhooks"], 300);
    assert_eq!(figures["ingest_deep"]["relay_webhooks"], 300);
    assert!(
        figures["ingest_deep"]["ratio"]
            .as_f64()
            .is_some_and(|r| r > 0.0)
    );
    assert_eq!(figures["latency_webhooks"], 100);
    assert_eq!(
        figures["latency_samples"], 300,
        "every webhook reached every client"
    );
    assert!(figures["latency_p50_ms"].as_f64() <= figures["latency_p99_ms"].as_f64());
}

/// The full-size run, for a release build by hand when `cargo xtask bench` is not wired:
/// `cargo test --release -p teamline-relay --test bench_compiles -- --ignored --nocapture`.
#[test]
#[ignore = "full-size benchmark; run in release by hand"]
fn full_relay_benchmark() {
    let figures = bench_relay::run().unwrap();
    println!("{}", serde_json::to_string_pretty(&figures).unwrap());
    assert!(figures["latency_samples"].as_u64().unwrap() > 0);
}
