//! Compiles xtask's store benchmark against this crate's API and runs it with tiny sizes,
//! so a change here that breaks `cargo xtask bench` fails this crate's tests.

#[path = "../../xtask/src/bench_store.rs"]
mod bench_store;

#[test]
fn benchmark_runs_and_reports_its_figures() {
    // The entry point xtask calls keeps its agreed signature.
    let _entry: fn() -> anyhow::Result<serde_json::Value> = bench_store::run;
    let params = bench_store::Params {
        insert_rows: 300,
        batch: 100,
        rounds: 1,
        fts_rows: 2_000,
        runs_per_query: 1,
    };
    let figures = bench_store::run_with(&params).unwrap();
    let insert = &figures["insert"];
    for key in [
        "encrypted_messages_per_s",
        "plaintext_messages_per_s",
        "encrypted_to_plaintext_ratio",
        "store_api_encrypted_messages_per_s",
    ] {
        let v = insert[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {figures}"));
        assert!(v > 0.0, "{key} = {v}");
    }
    let search = &figures["search"];
    assert_eq!(search["corpus_messages"], 2_000);
    assert!(search["fts_p95_ms"].as_f64().unwrap() > 0.0, "{figures}");
    assert!(
        search["fts"]["queries"].as_u64().unwrap() >= 30,
        "{figures}"
    );
    assert!(search["short_like_fallback"]["p95_ms"].as_f64().unwrap() > 0.0);
    assert!(
        search["fts_by_kind"]["chinese"]["queries"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn corpus_size_comes_from_the_environment_default() {
    // Not set in the test environment unless someone exports it on purpose.
    if std::env::var_os("TEAMLINE_BENCH_FTS_ROWS").is_none() {
        assert_eq!(bench_store::Params::from_env().unwrap().fts_rows, 1_000_000);
    }
}
