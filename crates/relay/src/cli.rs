//! The `teamline-relay` command line: `serve`, `init`, `pair`, `check`, `backup`, `restore`,
//! `audit verify`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use jiff::SignedDuration;
use teamline_whatsapp::error::{ErrorClass, GraphError};
use teamline_whatsapp::graph::GraphClient;

use crate::app::AppSettings;
use crate::clock::Clock;
use crate::config::{AuditKeySource, Config};
use crate::pairing;
use crate::storage::team::AuditSettings;
use crate::storage::{self, Storage, sqlite};

#[derive(Debug, Parser)]
#[command(
    name = "teamline-relay",
    version,
    about = "Teamline's hub for one WhatsApp Business number"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the relay.
    Serve {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Create the team and print the owner's one-time pairing code (valid 24 hours).
    Init {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The team's name.
        #[arg(long, default_value = "Team")]
        team_name: String,
    },
    /// Print a fresh pairing code (valid 90 seconds) for a device of this level.
    Pair {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_parser = ["admin", "supervisor", "standard", "restricted"])]
        level: String,
        /// Link the device to this member (created with the level's preset if new).
        #[arg(long, value_name = "NAME")]
        member: Option<String>,
    },
    /// Check the configuration and the WhatsApp credentials, in plain words.
    Check {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Write an encrypted backup of the database; the relay may keep running. The
    /// passphrase comes from TEAMLINE_BACKUP_PASSPHRASE or is asked for.
    Backup {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        cost: crate::backup::CostArgs,
    },
    /// Rebuild the database from a backup (the relay must be stopped).
    Restore {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Replace an existing database (it is kept next to it, renamed).
        #[arg(long)]
        force: bool,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's chain; name the first broken entry (exit status 1) if any.
    Verify {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config } => serve(Config::load(config.as_deref())?).await,
        Command::Init { config, team_name } => {
            create_audit_key(config.as_deref())?;
            let (db, audit) = Config::load_storage(config.as_deref())?;
            init(&db, audit, &team_name, &Clock::system()).await
        }
        Command::Pair {
            config,
            level,
            member,
        } => {
            let (db, audit) = Config::load_storage(config.as_deref())?;
            pair(&db, audit, &level, member, &Clock::system()).await
        }
        Command::Check { config } => check(config).await,
        Command::Audit {
            command: AuditCommand::Verify { config },
        } => {
            let (db, audit) = Config::load_storage(config.as_deref())?;
            verify_audit(&db, audit).await
        }
        Command::Backup { config, out, cost } => {
            crate::backup::run_backup(config.as_deref(), &out, &cost).await
        }
        Command::Restore {
            config,
            from,
            force,
        } => crate::backup::run_restore(config.as_deref(), &from, force).await,
    }
}

/// Opens the database with the audit chain's key (every command that may append to the
/// audit log must sign with the configured key).
fn open(database: &str, audit: AuditSettings) -> anyhow::Result<Arc<dyn Storage>> {
    let options = sqlite::Options {
        audit: Some(audit),
        ..sqlite::Options::default()
    };
    storage::open(database, options)
        .with_context(|| "could not open the database (configuration key `database`)")
}

/// Creates the audit key file when the configuration points at one that does not exist.
fn create_audit_key(config: Option<&std::path::Path>) -> anyhow::Result<()> {
    if let AuditKeySource::File(path) = Config::audit_key_source(config)?
        && !path.exists()
    {
        crate::config::create_audit_key_file(&path).with_context(|| {
            format!(
                "cannot create the audit key file {} (configuration key `audit_key_file`)",
                path.display()
            )
        })?;
        println!(
            "Created the audit key file {} (owner-only). Back it up apart from the database: without it the audit log cannot be verified.",
            path.display()
        );
    }
    Ok(())
}

/// `audit verify`: one line in plain words; an error (exit status 1) when broken.
pub async fn verify_audit(database: &str, audit: AuditSettings) -> anyhow::Result<()> {
    let storage = open(database, audit)?;
    let v = storage.read(crate::audit::verify).await?;
    println!("{}", v.words());
    if !v.report.ok() {
        bail!("the audit log does not verify");
    }
    Ok(())
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let stop = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (configuration key `listen`)",
                config.listen
            )
        })?;
    let served = start(&config, listener).await?;
    // Ready line for scripts and tests that start the binary.
    println!("listening on {}", served.relay.addr());
    stop.await;
    tracing::info!("shutting down: finishing in-flight requests");
    served.shutdown().await
}

/// A relay serving its configuration: HTTP and background tasks plus the WhatsApp services
/// (send queue, media, templates). `serve` runs one until a stop signal; the desktop app's
/// demo runs one in-process.
pub struct Served {
    pub relay: crate::Relay,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Served {
    /// Stops the services' workers, then the relay (in-flight requests finish).
    pub async fn shutdown(self) -> anyhow::Result<()> {
        for w in &self.workers {
            w.abort();
        }
        self.relay.shutdown().await
    }
}

/// Opens the database and serves `config` on `listener` (its `listen` key is not read).
pub async fn start(config: &Config, listener: tokio::net::TcpListener) -> anyhow::Result<Served> {
    let storage = open(&config.database, config.audit.clone())?;
    // Entries from before the chain existed are sealed before anything new is appended.
    storage.write(crate::audit::seal_legacy).await?;
    let settings = AppSettings {
        app_secret: config.whatsapp.app_secret.clone(),
        verify_token: config.whatsapp.verify_token.clone(),
        timezone: config.timezone.clone(),
        retention: SignedDuration::from_hours(24 * i64::from(config.retention_days)),
    };
    let relay = crate::Relay::start(listener, storage, Clock::system(), settings).await?;
    let graph = GraphClient::new(config.whatsapp.graph_config())
        .context("cannot build the Graph API client (configuration table `whatsapp`)")?;
    let (_services, workers) = crate::relay_services::attach(
        relay.state(),
        graph,
        crate::outbound::OutboundConfig {
            rate_per_sec: f64::from(config.send_rate),
            ..Default::default()
        },
        crate::media::MediaConfig::next_to(std::path::Path::new(&config.database)),
    )?;
    tracing::info!(
        public_url = %config.public_url,
        webhook = %format!("{}/webhooks/whatsapp", config.public_url),
        "relay ready"
    );
    Ok(Served { relay, workers })
}

/// Registers for SIGTERM right away (Ctrl-C when first polled), so a stop request that
/// arrives while the relay is still starting is not lost: SIGTERM's default action would
/// end the process without the graceful shutdown.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        if let Some(term) = term.as_mut() {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn init(
    database: &str,
    audit: AuditSettings,
    team_name: &str,
    clock: &Clock,
) -> anyhow::Result<()> {
    let Some((team, code, expires)) = create_team(database, audit, team_name, clock).await? else {
        bail!(
            "this database already has a team; use `teamline-relay pair --level admin` for another admin device"
        );
    };
    println!("Created team {:?} ({}).", team.name, team.id);
    println!("Link the owner's device with this one-time code before {expires} (24 hours):");
    println!("{code}");
    Ok(())
}

/// Creates the team with a one-time owner pairing code (valid 24 h): `(team, code,
/// expiry)`, or `None` when the database already has a team.
pub async fn create_team(
    database: &str,
    audit: AuditSettings,
    team_name: &str,
    clock: &Clock,
) -> anyhow::Result<Option<(crate::storage::TeamRow, String, jiff::Timestamp)>> {
    let storage = open(database, audit)?;
    let now = clock.now();
    let name = team_name.to_owned();
    let (code, hash) = pairing::new_code();
    let created = storage
        .write(move |tx| {
            let Some(team) = pairing::init_team(tx, &name, now)? else {
                return Ok(None);
            };
            let expires = pairing::store_code(
                tx,
                hash,
                teamline_core::DeviceLevel::Preset(teamline_core::Preset::Admin),
                None,
                None,
                true,
                now,
            )?;
            Ok(Some((team, expires)))
        })
        .await?;
    Ok(created.map(|(team, expires)| (team, code, expires)))
}

pub async fn pair(
    database: &str,
    audit: AuditSettings,
    level: &str,
    member: Option<String>,
    clock: &Clock,
) -> anyhow::Result<()> {
    let device_level =
        pairing::level_from_preset(level).with_context(|| format!("unknown level {level:?}"))?;
    let storage = open(database, audit)?;
    if storage.read(|tx| tx.team()).await?.is_none() {
        bail!("no team yet: run `teamline-relay init` first");
    }
    let now = clock.now();
    let (code, hash) = pairing::new_code();
    let who = member.clone();
    let expires = storage
        .write(move |tx| pairing::store_code(tx, hash, device_level, None, who, false, now))
        .await?;
    match member {
        Some(m) => println!(
            "Pairing code for a {level} device of {m:?}, valid until {expires} (90 seconds):"
        ),
        None => println!("Pairing code for a {level} device, valid until {expires} (90 seconds):"),
    }
    println!("{code}");
    Ok(())
}

/// The plain-words verdict on a Graph API failure during `check`.
pub fn explain_graph_error(e: &GraphError, base_url: &str) -> String {
    match e {
        GraphError::Api(api) if api.class() == ErrorClass::Reauthorise => format!(
            "access token rejected: Meta refused the access token (code {}). Create a new permanent token in Meta Business Settings and set `whatsapp.access_token`.",
            api.code
        ),
        GraphError::Http { status: 401 } => "access token rejected: the Graph API answered 401. Set a valid `whatsapp.access_token`.".to_owned(),
        GraphError::Api(api) if api.code == 100 || api.http_status == Some(404) => format!(
            "phone number ID not found: the Graph API does not know `whatsapp.phone_number_id` for this token (code {}).",
            api.code
        ),
        GraphError::Transport { .. } => format!(
            "cannot reach the Graph API at {base_url} (`whatsapp.graph_url`): {e}"
        ),
        other => format!("the Graph API refused the check: {other}"),
    }
}

async fn check(path: Option<PathBuf>) -> anyhow::Result<()> {
    let config = match Config::load(path.as_deref()) {
        Ok(c) => c,
        Err(e) => bail!("configuration problem: {e}"),
    };
    println!(
        "Configuration: OK (database {}, listening on {}, time zone {}, retention {} days).",
        config.database, config.listen, config.timezone_name, config.retention_days
    );
    if config.database.starts_with("postgres://") || config.database.starts_with("postgresql://") {
        bail!(
            "configuration key `database`: PostgreSQL support is not built yet; use a SQLite file path"
        );
    }
    let client = GraphClient::new(config.whatsapp.graph_config())
        .map_err(|e| anyhow::anyhow!("configuration key `whatsapp.graph_url`: {e}"))?;
    let base = format!(
        "{}/{}",
        config.whatsapp.graph_base_url, config.whatsapp.api_version
    );
    match client.phone_number().await {
        Ok(info) => {
            println!(
                "WhatsApp: OK, phone number {} ({}), quality {}.",
                info.display_phone_number.as_deref().unwrap_or("?"),
                info.verified_name.as_deref().unwrap_or("no verified name"),
                info.quality_rating.as_deref().unwrap_or("unknown"),
            );
            Ok(())
        }
        Err(e) => bail!("WhatsApp: {}", explain_graph_error(&e, &base)),
    }
}
