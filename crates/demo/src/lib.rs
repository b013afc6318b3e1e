//! The demo shop behind "Try the demo": a relay (SQLite in the shop's directory) and
//! `whatsapp-sim --script demo` running inside the app on 127.0.0.1, so a newcomer sees a
//! team inbox at work with no account. The shop keeps its state between runs (the relay
//! database and the owner's profile), so the day continues; the script's customers write
//! again each time the shop opens.
//!
//! The credentials below are the emulator's, never a real Meta account's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use teamline_client::profile::ProfileDir;
use teamline_client::{Client, ClientOptions, DeviceInfo};
use teamline_relay::cli::Served;
use teamline_relay::config::{Config, create_audit_key_file};
use whatsapp_sim::{ScriptConfig, Sim, SimConfig, SimHandle};

const APP_SECRET: &str = "demo-app-secret";
const ACCESS_TOKEN: &str = "demo-access-token";
const PHONE_NUMBER_ID: &str = "106540352242922";
/// whatsapp-sim's default WhatsApp Business Account id (lists the message templates).
const BUSINESS_ACCOUNT_ID: &str = "102290129340398";
const VERIFY_TOKEN: &str = "demo-verify-token";
pub const TEAM_NAME: &str = "Corner Shop";

/// A running demo shop.
pub struct DemoShop {
    served: Served,
    sim: SimHandle,
    relay_url: String,
    /// The owner's one-time pairing code when this start created the shop.
    owner_code: Option<String>,
}

impl DemoShop {
    /// Opens the shop kept in `dir` (a new one when `dir` holds none). The relay keeps the
    /// port it had before when it is free, so a linked profile's address stays right.
    pub async fn start(dir: &Path) -> Result<DemoShop> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the demo directory {}", dir.display()))?;
        let port_file = dir.join("port");
        let remembered: Option<u16> = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let listener = match remembered {
            Some(port) => match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => l,
                Err(_) => tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?,
            },
            None => tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?,
        };
        let addr = listener.local_addr()?;
        std::fs::write(&port_file, addr.port().to_string())?;
        let relay_url = format!("http://{addr}");

        let sim = Sim::start(SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            webhook_url: Some(format!("{relay_url}/webhooks/whatsapp")),
            app_secret: APP_SECRET.into(),
            access_token: ACCESS_TOKEN.into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            verify_token: Some(VERIFY_TOKEN.into()),
            script: Some(ScriptConfig {
                name: "demo".into(),
                speed: 1.0,
            }),
            ..SimConfig::default()
        })
        .await
        .context("cannot start the WhatsApp emulator")?;

        let config_path = dir.join("relay.toml");
        std::fs::write(&config_path, relay_config(addr, dir, sim.base_url()))?;
        let key = dir.join(teamline_relay::config::AUDIT_KEY_FILE);
        if !key.exists() {
            create_audit_key_file(&key).context("cannot create the demo's audit key")?;
        }
        let config = Config::load(Some(&config_path)).context("the demo relay's configuration")?;
        let owner_code = teamline_relay::cli::create_team(
            &config.database,
            config.audit.clone(),
            TEAM_NAME,
            &teamline_relay::Clock::system(),
        )
        .await?
        .map(|(_, code, _)| code);
        let served = teamline_relay::cli::start(&config, listener).await?;
        tracing::info!(%relay_url, new = owner_code.is_some(), "demo shop open");
        Ok(DemoShop {
            served,
            sim,
            relay_url,
            owner_code,
        })
    }

    pub fn relay_url(&self) -> &str {
        &self.relay_url
    }

    /// Opens the owner's profile (`options.data_dir`): linked with the shop's owner code
    /// the first time, pointed at the shop's current address afterwards.
    pub async fn open_owner(&self, options: ClientOptions, device: &DeviceInfo) -> Result<Client> {
        let profile = ProfileDir::new(&options.data_dir);
        if let Ok(mut p) = profile.load()
            && p.is_linked()
            && p.relay_url.as_deref() != Some(self.relay_url.as_str())
        {
            p.relay_url = Some(self.relay_url.clone());
            profile.save(&p)?;
        }
        let client = Client::open(options).await?;
        if !client.is_linked() {
            let code = self.owner_code.as_deref().context(
                "the demo shop exists but its owner profile is gone; start a new demo shop",
            )?;
            client.link(&self.relay_url, code, device).await?;
        }
        Ok(client)
    }

    /// Stops the emulator and the relay (in-flight requests finish).
    pub async fn shutdown(self) -> Result<()> {
        self.sim.shutdown().await;
        self.served.shutdown().await
    }
}

/// Where the shop lives inside an app data directory, and the owner's profile in it.
pub fn shop_dirs(data_dir: &Path) -> (PathBuf, PathBuf) {
    let root = data_dir.join("demo");
    (root.join("shop"), root.join("owner"))
}

fn relay_config(addr: SocketAddr, dir: &Path, sim_url: &str) -> String {
    let db = dir.join("relay.db");
    format!(
        "# Written by Teamline's demo.\n\
         listen = \"{addr}\"\n\
         database = {db:?}\n\
         public_url = \"http://{addr}\"\n\
         timezone = \"UTC\"\n\n\
         [whatsapp]\n\
         phone_number_id = \"{PHONE_NUMBER_ID}\"\n\
         business_account_id = \"{BUSINESS_ACCOUNT_ID}\"\n\
         access_token = \"{ACCESS_TOKEN}\"\n\
         app_secret = \"{APP_SECRET}\"\n\
         verify_token = \"{VERIFY_TOKEN}\"\n\
         graph_url = \"{sim_url}\"\n",
        db = db.display().to_string(),
    )
}
