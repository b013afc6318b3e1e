//! `relay.toml` plus `TEAMLINE_RELAY_<KEY>` environment overrides, validated up front so a
//! bad setting stops start-up with a message naming the key.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use teamline_whatsapp::graph::{DEFAULT_API_VERSION, DEFAULT_BASE_URL, GraphConfig};

/// Environment variable prefix: `TEAMLINE_RELAY_LISTEN`, `TEAMLINE_RELAY_WHATSAPP_APP_SECRET`.
pub const ENV_PREFIX: &str = "TEAMLINE_RELAY_";

pub const DEFAULT_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_SEND_RATE: u32 = 60;

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
}

impl WhatsappConfig {
    pub fn graph_config(&self) -> GraphConfig {
        GraphConfig::new(self.access_token.clone(), self.phone_number_id.clone())
            .with_base_url(self.graph_base_url.clone())
            .with_api_version(self.api_version.clone())
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
        Self::from_parts(read_file(path)?, |k| std::env::var(k).ok())
    }

    /// Only the database setting, for `init` and `pair` on a machine that may not hold the
    /// Meta credentials.
    pub fn load_database(path: Option<&Path>) -> Result<String, ConfigError> {
        let source = Source {
            file: read_file(path)?,
            env: Box::new(|k| std::env::var(k).ok()),
        };
        source.required("database")
    }

    /// Builds from a parsed file and an environment lookup (tests pass their own).
    pub fn from_parts(
        file: toml::Table,
        env: impl Fn(&str) -> Option<String> + 'static,
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
        };
        if !whatsapp.phone_number_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(ConfigError::new(
                "whatsapp.phone_number_id",
                "must be the numeric phone number ID from Meta's App Dashboard (not the phone number)",
            ));
        }
        Ok(Config {
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

    #[test]
    fn a_full_file_loads_with_defaults() {
        let c = Config::from_parts(table(FULL), |_| None).unwrap();
        assert_eq!(c.retention_days, 30);
        assert_eq!(c.public_url, "https://relay.example.com");
        assert_eq!(c.whatsapp.graph_base_url, "https://graph.facebook.com");
        assert_eq!(c.whatsapp.api_version, "v26.0");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("tok\"") && !debug.contains("sec\""),
            "{debug}"
        );
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let c = Config::from_parts(table(FULL), |k| match k {
            "TEAMLINE_RELAY_WHATSAPP_APP_SECRET" => Some("from-env".into()),
            "TEAMLINE_RELAY_RETENTION_DAYS" => Some("7".into()),
            "TEAMLINE_RELAY_WHATSAPP_GRAPH_URL" => Some("http://127.0.0.1:9/v23.0".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.whatsapp.app_secret, "from-env");
        assert_eq!(c.retention_days, 7);
        assert_eq!(c.whatsapp.graph_base_url, "http://127.0.0.1:9");
        assert_eq!(c.whatsapp.api_version, "v23.0");
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
            let err = Config::from_parts(table(&FULL.replace(from, to)), |_| None).unwrap_err();
            assert_eq!(err.key, key, "{err}");
            assert!(err.to_string().contains(key));
        }
    }
}
