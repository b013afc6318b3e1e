//! `teamline-web`: the Teamline UI in a browser, over the same engine as the desktop app.
//!
//! ```text
//! teamline-web --data-dir DIR [--ui ui/dist] [--listen 127.0.0.1:7410]
//!              [--relay URL --pair CODE] [--device-name NAME] [--downloads DIR]
//! ```
//!
//! Prints the address to open as its last line and runs until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use teamline_shell::Startup;
use teamline_shell::web::{WebOptions, WebShell};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(about = "The Teamline UI in a browser, on 127.0.0.1")]
struct Cli {
    /// The profile's data directory (its encrypted store and settings).
    #[arg(long)]
    data_dir: PathBuf,
    /// The built UI (`npm --prefix ui run build`).
    #[arg(long, default_value = "ui/dist")]
    ui: PathBuf,
    /// A loopback address; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:7410")]
    listen: SocketAddr,
    /// With --pair: links an unlinked profile to this relay on start.
    #[arg(long, requires = "pair")]
    relay: Option<String>,
    #[arg(long, requires = "relay")]
    pair: Option<String>,
    #[arg(long)]
    device_name: Option<String>,
    /// Where exports and saved media go (default: <data dir>/downloads).
    #[arg(long)]
    downloads: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("TEAMLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let shell = WebShell::start(WebOptions {
        listen: cli.listen,
        ui_dir: cli.ui,
        startup: Startup {
            data_dir: cli.data_dir,
            relay: cli.relay,
            pair: cli.pair,
            device_name: cli.device_name,
        },
        save_dir: cli.downloads,
    })
    .await?;
    println!("Teamline is open at {}", shell.url);
    tokio::signal::ctrl_c().await?;
    shell.shutdown().await;
    Ok(())
}
