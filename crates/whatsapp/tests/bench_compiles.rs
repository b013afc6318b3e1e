//! Compiles xtask's benchmark module against this crate's API and runs it briefly, so a
//! change here that breaks `cargo xtask bench` fails this crate's tests.

#[path = "../../xtask/src/bench_whatsapp.rs"]
mod bench_whatsapp;

#[test]
fn benchmark_runs_and_reports_positive_figures() {
    // The entry point xtask calls keeps its agreed signature.
    let _entry: fn() -> anyhow::Result<serde_json::Value> = bench_whatsapp::run;
    let figures = bench_whatsapp::run_for(std::time::Duration::from_millis(30)).unwrap();
    for key in [
        "webhook_parse_verify_mb_per_s",
        "webhook_verify_only_mb_per_s",
        "webhook_parse_only_mb_per_s",
    ] {
        let v = figures[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {figures}"));
        assert!(v > 0.0, "{key} = {v}");
    }
    assert!(
        figures["payload_bytes"].as_u64().unwrap() > 5_000,
        "{figures}"
    );
    assert!(figures["payloads"].as_u64().unwrap() >= 10);
    assert!(figures["iterations"].as_u64().unwrap() >= 1);
}
