//! Runs xtask's store benchmark on its own and prints its JSON:
//! `cargo run --release -p teamline-store --example bench_store`
//! (`TEAMLINE_BENCH_FTS_ROWS` sets the search corpus size, default 1,000,000).

#[path = "../../xtask/src/bench_store.rs"]
mod bench_store;

fn main() -> anyhow::Result<()> {
    let figures = bench_store::run()?;
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(())
}
