//! `relay.toml` plus `TEAMLINE_RELAY_<KEY>` environment overrides, validated up front so a
//! bad setting stops start-up with a message naming the key.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use teamline_core::audit_chain::{Key, MIN_KEY_LEN};
use teamline_whatsapp::graph::{DEFAULT_API_VERSION, DEFAULT_BASE_URL, GraphConfig};

use crate::storage::team::AuditSettings;

/// Environment variable prefix: `TEAMLINE_RELAY_LISTEN`, `TEAMLINE_RELAY_WHATSAPP_APP_SECRET`.
pub const ENV_PREFIX: &str = "TEAMLINE_RELAY_";

pub const DEFAULT_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_SEND_RATE: u32 = 60;
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 90;
/// The audit key file `init` creates next to the config when `audit_key_file` is not set.
pub const AUDIT_KEY_FILE: &str = "audit.key";
/// The audit key in hex, from the environment only (never from `relay.toml`, which people
/// paste into support requests).
pub const AUDIT_KEY_ENV: &str = "TEAMLINE_RELAY_AUDIT_KEY";

/// A configuration problem, naming the key (`whatsapp.app_secret`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration key `{key}`: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_owned(),
            problem: problem.into(),
        }
    }
}

#[derive(Clone)]
pub struct WhatsappConfig {
    pub phone_number_id: String,
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
    /// Graph API root without the version, e.g. `https://graph.facebook.com`.
    pub graph_base_url: String,
    pub api_version: String,
    /// `whatsapp.business_account_id` (optional): the WABA id, to list message templates.
    pub business_account_id: Option<String>,
}

impl WhatsappConfig {
    pub fn graph_config(&self) -> GraphConfig {
        let c = GraphConfig::new(self.access_token.clone(), self.phone_number_id.clone())
            .with_base_url(self.graph_base_url.clone())
            .with_api_version(self.api_version.clone());
        match &self.business_account_id {
            Some(w) => c.with_business_account_id(w.clone()),
            None => c,
        }
    }
}

impl fmt::Debug for WhatsappConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsappConfig")
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &"<redacted>")
            .field("app_secret", &"<redacted>")
            .field("verify_token", &"<redacted>")
            .field("graph_base_url", &self.graph_base_url)
            .field("api_version", &self.api_version)
            .field("business_account_id", &self.business_account_id)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// A SQLite file path (a `postgres://` URL is refused until that backend exists).
    pub database: String,
    pub public_url: String,
    pub timezone_name: String,
    pub timezone: jiff::tz::TimeZone,
    pub retention_days: u32,
    pub whatsapp: WhatsappConfig,
    /// `send_rate`: the send worker's global pace in messages per second (default 60,
    /// under Meta's standard 80/s).
    pub send_rate: u32,
    /// The audit chain's key (`audit_key_file`, or hex in `TEAMLINE_RELAY_AUDIT_KEY`) and
    /// retention (`audit_retention_days`, default 90).
    pub audit: AuditSettings,
}

/// Where the audit key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditKeySource {
    /// Hex in [`AUDIT_KEY_ENV`].
    Env,
    /// A file (`audit_key_file`, or [`AUDIT_KEY_FILE`] next to the config).
    File(PathBuf),
}

/// Looks an environment variable up (the process environment, or a test's map).
type EnvLookup = Box<dyn Fn(&str) -> Option<String>>;

/// The merged key/value view: file first, environment on top.
struct Source {
    file: toml::Table,
    env: EnvLookup,
}

impl Source {
    fn env_name(key: &str) -> String {
        format!("{ENV_PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
    }

    /// The value of `key` (`a.b` for nested), as a string; numbers are accepted as text.
    fn get(&self, key: &str) -> Result<Option<String>, ConfigError> {
        if let Some(v) = (self.env)(&Self::env_name(key)) {
            return Ok(Some(v));
        }
        let mut parts = key.split('.');
        let first = parts.next().unwrap_or_default();
        let mut value = match self.file.get(first) {
            Some(v) => v,
            None => return Ok(None),
        };
        for part in parts {
            value = match value.as_table().and_then(|t| t.get(part)) {
                Some(v) => v,
                None => return Ok(None),
            };
        }
        match value {
            toml::Value::String(s) => Ok(Some(s.clone())),
            toml::Value::Integer(i) => Ok(Some(i.to_string())),
            _ => Err(ConfigError::new(key, "must be a string")),
        }
    }

    fn required(&self, key: &str) -> Result<String, ConfigError> {
        match self.get(key)? {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
            Some(_) => Err(ConfigError::new(key, "must not be empty")),
            None => Err(ConfigError::new(
                key,
                format!(
                    "is missing (set it in the config file or in {})",
                    Self::env_name(key)
                ),
            )),
        }
    }
}

impl Config {
    /// Loads `path` (if given) and the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Self::from_parts_in(
            read_file(path)?,
            |k| std::env::var(k).ok(),
            config_dir(path),
        )
    }

    /// Only the database setting, for `init` and `pair` on a machine that may not hold the
    /// Meta credentials.
    pub fn load_database(path: Option<&Path>) -> Result<String, ConfigError> {
        Self::env_source(path)?.required("database")
    }

    /// The database and the audit chain's settings (for `pair` and `audit verify`, which
    /// do not need the Meta credentials).
    pub fn load_storage(path: Option<&Path>) -> Result<(String, AuditSettings), ConfigError> {
        let s = Self::env_source(path)?;
        let database = s.required("database")?;
        Ok((database, audit_settings(&s, config_dir(path))?))
    }

    /// Where the audit key is read from (`init` creates that file when it is missing).
    pub fn audit_key_source(path: Option<&Path>) -> Result<AuditKeySource, ConfigError> {
        audit_key_source(&Self::env_source(path)?, config_dir(path))
    }

    fn env_source(path: Option<&Path>) -> Result<Source, ConfigError> {
        Ok(Source {
            file: read_file(path)?,
            env: Box::new(|k| std::env::var(k).ok()),
        })
    }

    /// Builds from a parsed file and an environment lookup (tests pass their own); a
    /// relative `audit_key_file` is read from the working directory.
    pub fn from_parts(
        file: toml::Table,
        env: impl Fn(&str) -> Option<String> + 'static,
    ) -> Result<Config, ConfigError> {
        Self::from_parts_in(file, env, None)
    }

    /// Like [`Config::from_parts`], for a config file in `dir` (relative key paths and the
    /// default key file are next to it).
    fn from_parts_in(
        file: toml::Table,
        env: impl Fn(&str) -> Option<String> + 'static,
        dir: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        let s = Source {
            file,
            env: Box::new(env),
        };
        let listen = s.required("listen")?;
        let listen: SocketAddr = listen.parse().map_err(|_| {
            ConfigError::new(
                "listen",
                format!("{listen:?} is not an address with a port, like 0.0.0.0:8080"),
            )
        })?;
        let database = s.required("database")?;
        let public_url = s.required("public_url")?;
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            return Err(ConfigError::new(
                "public_url",
                "must start with https:// (or http:// for local testing)",
            ));
        }
        let timezone_name = s.required("timezone")?;
        let timezone = jiff::tz::TimeZone::get(&timezone_name).map_err(|_| {
            ConfigError::new(
                "timezone",
                format!("{timezone_name:?} is not an IANA time zone, like Europe/Madrid"),
            )
        })?;
        let retention_days = match s.get("retention_days")? {
            None => DEFAULT_RETENTION_DAYS,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) if (1..=3650).contains(&n) => n,
                _ => {
                    return Err(ConfigError::new(
                        "retention_days",
                        "must be a whole number of days between 1 and 3650",
                    ));
                }
            },
        };
        let send_rate = match s.get("send_rate")? {
            None => DEFAULT_SEND_RATE,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => {
                    return Err(ConfigError::new(
                        "send_rate",
                        "must be a whole number of messages per second between 1 and 1000",
                    ));
                }
            },
        };
        let (graph_base_url, api_version) = match s.get("whatsapp.graph_url")? {
            None => (DEFAULT_BASE_URL.to_owned(), DEFAULT_API_VERSION.to_owned()),
            Some(url) => split_graph_url(&url).ok_or_else(|| {
                ConfigError::new(
                    "whatsapp.graph_url",
                    "must be an http(s) URL, like https://graph.facebook.com/v26.0",
                )
            })?,
        };
        let whatsapp = WhatsappConfig {
            phone_number_id: s.required("whatsapp.phone_number_id")?,
            access_token: s.required("whatsapp.access_token")?,
            app_secret: s.required("whatsapp.app_secret")?,
            verify_token: s.required("whatsapp.verify_token")?,
            graph_base_url,
            api_version,
            business_account_id: s
                .get("whatsapp.business_account_id")?
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
        };
        if let Some(w) = &whatsapp.business_account_id
            && !w.chars().all(|c| c.is_ascii_digit())
        {
            return Err(ConfigError::new(
                "whatsapp.business_account_id",
                "must be the numeric WhatsApp Business Account ID from Meta's App Dashboard",
            ));
        }
        if !whatsapp.phone_number_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(ConfigError::new(
                "whatsapp.phone_number_id",
                "must be the numeric phone number ID from Meta's App Dashboard (not the phone number)",
            ));
        }
        let audit = audit_settings(&s, dir)?;
        Ok(Config {
            audit,
            listen,
            database,
            public_url: public_url.trim_end_matches('/').to_owned(),
            timezone_name,
            timezone,
            retention_days,
            whatsapp,
            send_rate,
        })
    }
}

/// The folder of the config file (relative key paths start there).
fn config_dir(path: Option<&Path>) -> Option<&Path> {
    path.map(|p| match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    })
}

fn audit_key_source(s: &Source, dir: Option<&Path>) -> Result<AuditKeySource, ConfigError> {
    if (s.env)(AUDIT_KEY_ENV).is_some() {
        return Ok(AuditKeySource::Env);
    }
    if let Some(file) = s.get("audit_key_file")? {
        let file = PathBuf::from(file.trim());
        return Ok(AuditKeySource::File(match dir {
            Some(d) if file.is_relative() => d.join(file),
            _ => file,
        }));
    }
    match dir {
        Some(d) => Ok(AuditKeySource::File(d.join(AUDIT_KEY_FILE))),
        None => Err(missing_key("is missing")),
    }
}

fn missing_key(problem: &str) -> ConfigError {
    ConfigError::new(
        "audit_key_file",
        format!(
            "{problem}: set `audit_key_file` to a file holding at least {MIN_KEY_LEN} random bytes (hex or raw; `teamline-relay init` creates {AUDIT_KEY_FILE} next to the config), or put the key in hex in {AUDIT_KEY_ENV}"
        ),
    )
}

/// The audit key and retention; a missing, unreadable or short key stops start-up. The
/// key itself never appears in an error.
fn audit_settings(s: &Source, dir: Option<&Path>) -> Result<AuditSettings, ConfigError> {
    let key = match audit_key_source(s, dir)? {
        AuditKeySource::Env => {
            let text = (s.env)(AUDIT_KEY_ENV).unwrap_or_default();
            let bytes = hex::decode(text.trim()).map_err(|_| {
                ConfigError::new(AUDIT_KEY_ENV, "must be the key in hex (64 or more digits)")
            })?;
            Key::new(bytes).map_err(|e| ConfigError::new(AUDIT_KEY_ENV, e.to_string()))?
        }
        AuditKeySource::File(path) => {
            let bytes = std::fs::read(&path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    missing_key(&format!("the key file {} does not exist", path.display()))
                } else {
                    ConfigError::new(
                        "audit_key_file",
                        format!("cannot read {}: {e}", path.display()),
                    )
                }
            })?;
            warn_if_readable_by_others(&path);
            key_from_file(bytes).map_err(|problem| {
                ConfigError::new("audit_key_file", format!("{}: {problem}", path.display()))
            })?
        }
    };
    let days = match s.get("audit_retention_days")? {
        None => DEFAULT_AUDIT_RETENTION_DAYS,
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if (1..=36_500).contains(&n) => n,
            _ => {
                return Err(ConfigError::new(
                    "audit_retention_days",
                    "must be a whole number of days between 1 and 36500",
                ));
            }
        },
    };
    Ok(AuditSettings::new(
        key,
        SignedDuration::from_hours(24 * i64::from(days)),
    ))
}

/// A key file holds the key in hex (whitespace around it ignored) or as raw bytes.
fn key_from_file(bytes: Vec<u8>) -> Result<Key, String> {
    let text = bytes.trim_ascii();
    let raw = if !text.is_empty() && text.iter().all(u8::is_ascii_hexdigit) {
        hex::decode(text).map_err(|_| "the hex key has an odd number of digits".to_owned())?
    } else {
        bytes
    };
    Key::new(raw).map_err(|e| e.to_string())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path)
        && m.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(file = %path.display(), "the audit key file is readable by other users; `chmod 600` it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

/// Creates a key file of 32 random bytes in hex, readable by its owner only. Refuses to
/// overwrite an existing file.
pub fn create_audit_key_file(path: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())?;
    f.sync_all()
}

fn read_file(path: Option<&Path>) -> Result<toml::Table, ConfigError> {
    let Some(path) = path else {
        return Ok(toml::Table::new());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new("--config", format!("cannot read {}: {e}", path.display()))
    })?;
    text.parse::<toml::Table>().map_err(|e| {
        ConfigError::new(
            "--config",
            format!("{} is not valid TOML: {}", path.display(), e.message()),
        )
    })
}

/// `https://graph.facebook.com/v26.0` → (`https://graph.facebook.com`, `v26.0`); a URL
/// without a version segment gets the default version.
fn split_graph_url(url: &str) -> Option<(String, String)> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    if rest.is_empty() {
        return None;
    }
    if let Some((base, last)) = url.rsplit_once('/') {
        let is_version = last.len() > 1
            && last.starts_with('v')
            && last[1..]
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if is_version && base.len() > "https://".len() {
            return Some((base.to_owned(), last.to_owned()));
        }
    }
    Some((url.to_owned(), DEFAULT_API_VERSION.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
listen = "127.0.0.1:8080"
database = "relay.db"
public_url = "https://relay.example.com/"
timezone = "Europe/Madrid"

[whatsapp]
phone_number_id = "106540352242922"
access_token = "tok"
app_secret = "sec"
verify_token = "ver"
"#;

    fn table(s: &str) -> toml::Table {
        s.parse().unwrap()
    }

    const KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    /// An environment holding only the audit key.
    fn key_env(k: &str) -> Option<String> {
        (k == AUDIT_KEY_ENV).then(|| KEY_HEX.to_owned())
    }

    #[test]
    fn a_full_file_loads_with_defaults() {
        let c = Config::from_parts(table(FULL), key_env).unwrap();
        assert_eq!(c.retention_days, 30);
        assert_eq!(c.audit.retention, SignedDuration::from_hours(24 * 90));
        assert_eq!(c.public_url, "https://relay.example.com");
        assert_eq!(c.whatsapp.graph_base_url, "https://graph.facebook.com");
        assert_eq!(c.whatsapp.api_version, "v26.0");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("tok\"") && !debug.contains("sec\"") && !debug.contains("2233"),
            "{debug}"
        );
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let c = Config::from_parts(table(FULL), |k| match k {
            "TEAMLINE_RELAY_WHATSAPP_APP_SECRET" => Some("from-env".into()),
            "TEAMLINE_RELAY_RETENTION_DAYS" => Some("7".into()),
            "TEAMLINE_RELAY_WHATSAPP_GRAPH_URL" => Some("http://127.0.0.1:9/v23.0".into()),
            "TEAMLINE_RELAY_AUDIT_RETENTION_DAYS" => Some("30".into()),
            k => key_env(k),
        })
        .unwrap();
        assert_eq!(c.whatsapp.app_secret, "from-env");
        assert_eq!(c.retention_days, 7);
        assert_eq!(c.whatsapp.graph_base_url, "http://127.0.0.1:9");
        assert_eq!(c.whatsapp.api_version, "v23.0");
        assert_eq!(c.audit.retention, SignedDuration::from_hours(24 * 30));
    }

    #[test]
    fn missing_and_invalid_keys_are_named() {
        let cases: [(&str, &str, &str); 6] = [
            ("app_secret = \"sec\"\n", "", "whatsapp.app_secret"),
            (
                "timezone = \"Europe/Madrid\"",
                "timezone = \"Mars/Olympus\"",
                "timezone",
            ),
            (
                "listen = \"127.0.0.1:8080\"",
                "listen = \"localhost\"",
                "listen",
            ),
            (
                "public_url = \"https://relay.example.com/\"",
                "public_url = \"relay.example.com\"",
                "public_url",
            ),
            (
                "timezone = \"Europe/Madrid\"",
                "timezone = \"Europe/Madrid\"\nretention_days = \"soon\"",
                "retention_days",
            ),
            (
                "phone_number_id = \"106540352242922\"",
                "phone_number_id = \"+1 555 0100\"",
                "whatsapp.phone_number_id",
            ),
        ];
        for (from, to, key) in cases {
            let err = Config::from_parts(table(&FULL.replace(from, to)), key_env).unwrap_err();
            assert_eq!(err.key, key, "{err}");
            assert!(err.to_string().contains(key));
        }
    }

    #[test]
    fn the_audit_key_comes_from_a_file_next_to_the_config_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("relay.toml");
        std::fs::write(&cfg, FULL).unwrap();
        let load = |env: fn(&str) -> Option<String>| {
            Config::from_parts_in(table(FULL), env, config_dir(Some(&cfg)))
        };
        // Missing: the error names the setting and the way out, never a key.
        let err = load(|_| None).unwrap_err();
        assert_eq!(err.key, "audit_key_file");
        assert!(err.to_string().contains("audit.key") && err.to_string().contains("init"));
        assert_eq!(
            Config::audit_key_source(Some(&cfg)).unwrap(),
            AuditKeySource::File(dir.path().join(AUDIT_KEY_FILE))
        );
        // `init`'s file: hex, owner-only, never overwritten.
        let key_file = dir.path().join(AUDIT_KEY_FILE);
        create_audit_key_file(&key_file).unwrap();
        assert!(create_audit_key_file(&key_file).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let from_file = load(|_| None).unwrap();
        let from_env = load(key_env).unwrap();
        assert!(!format!("{from_file:?}").contains(KEY_HEX));
        // The environment wins; both produce working keys.
        let e = teamline_core::audit_chain::Entry {
            index: 1,
            seq: 1,
            kind: "k",
            actor: None,
            device: None,
            address: None,
            target: "",
            before: "",
            after: "",
            created_at_ms: 0,
        };
        let mac = |c: &Config| teamline_core::audit_chain::entry_mac(&c.audit.key, &[0; 32], &e);
        assert_ne!(mac(&from_file), mac(&from_env));
        let expected = Key::new(hex::decode(KEY_HEX).unwrap()).unwrap();
        assert_eq!(
            mac(&from_env),
            teamline_core::audit_chain::entry_mac(&expected, &[0; 32], &e)
        );
    }

    #[test]
    fn key_files_hold_hex_or_raw_bytes_and_short_keys_are_refused() {
        let hex_key = key_from_file(format!("  {KEY_HEX}\n").into_bytes()).unwrap();
        let raw = key_from_file(hex::decode(KEY_HEX).unwrap()).unwrap();
        let e = teamline_core::audit_chain::Entry {
            index: 1,
            seq: 1,
            kind: "k",
            actor: None,
            device: None,
            address: None,
            target: "",
            before: "",
            after: "",
            created_at_ms: 0,
        };
        assert_eq!(
            teamline_core::audit_chain::entry_mac(&hex_key, &[0; 32], &e),
            teamline_core::audit_chain::entry_mac(&raw, &[0; 32], &e)
        );
        assert!(
            key_from_file(b"abcd".to_vec())
                .unwrap_err()
                .contains("at least 32")
        );
        assert!(key_from_file(vec![0xff; 31]).is_err());
        assert!(key_from_file(b"abc".to_vec()).is_err(), "odd hex");
        let short_env = Config::from_parts(table(FULL), |k| {
            (k == AUDIT_KEY_ENV).then(|| "00ff".to_owned())
        })
        .unwrap_err();
        assert_eq!(short_env.key, AUDIT_KEY_ENV);
        assert!(!short_env.to_string().contains("00ff"));
        let retention =
            Config::from_parts(table(&format!("audit_retention_days = 0\n{FULL}")), key_env)
                .unwrap_err();
        assert_eq!(retention.key, "audit_retention_days");
    }
}
