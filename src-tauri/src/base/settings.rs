//! Settings: the typed view of the settings table, with validation of each value (a
//! mistake is a message saying what is expected). Stored and changed by the management layer.

use std::collections::BTreeMap;
use std::str::FromStr;

/// The setting that holds the dashboard password (set through `settings set`, never listed).
pub use switchyard_api::DASHBOARD_PASSWORD_SETTING;

/// The port `serve` and the desktop app listen on by default.
pub use switchyard_api::DEFAULT_PORT;

type Result<T> = std::result::Result<T, String>;

/// Every setting a user can change, with its CLI name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKey {
    /// Require a gateway key on loopback too (always required on other addresses).
    RequireKey,
    /// Largest request body accepted, in MiB.
    MaxBodyMb,
    /// Seconds to wait for an upstream's answer to begin.
    FirstByteTimeoutSecs,
    /// Seconds a streaming answer may go silent before it is ended.
    StallTimeoutSecs,
    /// Outbound proxy for every provider (http://, https://, socks5://); empty: the environment's.
    Proxy,
    /// Hosts the proxy is not used for, comma-separated.
    NoProxy,
    /// Days raw usage records are kept (their hourly totals stay).
    RetentionDays,
    /// Compress long tool outputs in requests (each gateway key may override it).
    TokenSaver,
    /// The port `serve` and the desktop app listen on when no --port is given.
    Port,
    /// Seconds between the gateway's reads of subscription quotas.
    QuotaRefreshSecs,
    /// Host names the gateway answers to besides loopback and the address it listens on.
    AllowedHosts,
    /// Web origins whose pages may call the gateway (CORS is answered for exactly these).
    AllowedOrigins,
    /// Seconds a client has to send a request's head.
    HeaderTimeoutSecs,
    /// Seconds an open connection may sit idle between requests.
    IdleTimeoutSecs,
    /// Connections open at once; more are answered 503 and closed.
    MaxConnections,
    /// Requests being served at once; more are answered 503 with retry-after.
    MaxInFlight,
    /// When a usage record is on disk: `batched` (within a second) or `strict` (before the
    /// answer's last byte, synced).
    UsageDurability,
}

impl SettingKey {
    pub const ALL: [SettingKey; 17] = [
        Self::RequireKey,
        Self::MaxBodyMb,
        Self::FirstByteTimeoutSecs,
        Self::StallTimeoutSecs,
        Self::Proxy,
        Self::NoProxy,
        Self::RetentionDays,
        Self::TokenSaver,
        Self::Port,
        Self::QuotaRefreshSecs,
        Self::AllowedHosts,
        Self::AllowedOrigins,
        Self::HeaderTimeoutSecs,
        Self::IdleTimeoutSecs,
        Self::MaxConnections,
        Self::MaxInFlight,
        Self::UsageDurability,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::RequireKey => "require-key",
            Self::MaxBodyMb => "max-body-mb",
            Self::FirstByteTimeoutSecs => "first-byte-timeout-secs",
            Self::StallTimeoutSecs => "stall-timeout-secs",
            Self::Proxy => "proxy",
            Self::NoProxy => "no-proxy",
            Self::RetentionDays => "retention-days",
            Self::TokenSaver => "token-saver",
            Self::Port => "port",
            Self::QuotaRefreshSecs => "quota-refresh-secs",
            Self::AllowedHosts => "allowed-hosts",
            Self::AllowedOrigins => "allowed-origins",
            Self::HeaderTimeoutSecs => "header-timeout-secs",
            Self::IdleTimeoutSecs => "idle-timeout-secs",
            Self::MaxConnections => "max-connections",
            Self::MaxInFlight => "max-in-flight",
            Self::UsageDurability => "usage-durability",
        }
    }
}

impl FromStr for SettingKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
            format!("unknown setting '{s}': known settings are {}, {DASHBOARD_PASSWORD_SETTING}", names.join(", "))
        })
    }
}

/// The settings in force, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub require_key: bool,
    pub max_body_mb: u64,
    pub first_byte_timeout_secs: u64,
    pub stall_timeout_secs: u64,
    pub proxy: String,
    pub no_proxy: String,
    pub retention_days: u64,
    pub token_saver: bool,
    pub port: u16,
    pub quota_refresh_secs: u64,
    /// Host names answered besides loopback and the listening address (lower case; `.name`
    /// also matches its subdomains; `*` any).
    pub allowed_hosts: Vec<String>,
    /// Web origins let in, as `scheme://host[:port]`.
    pub allowed_origins: Vec<String>,
    pub header_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub max_connections: u64,
    pub max_in_flight: u64,
    pub usage_durability: Durability,
    /// Login endpoints pointed elsewhere (`login.PROVIDER.NAME` → URL).
    pub login_endpoints: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            require_key: false,
            max_body_mb: 32,
            first_byte_timeout_secs: 120,
            stall_timeout_secs: 300,
            proxy: String::new(),
            no_proxy: String::new(),
            retention_days: 90,
            token_saver: true,
            port: DEFAULT_PORT,
            quota_refresh_secs: 300,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            header_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 4096,
            max_in_flight: 1024,
            usage_durability: Durability::Batched,
            login_endpoints: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// Reads the stored rows; a value that no longer parses falls back to its default.
    pub fn from_rows(rows: &BTreeMap<String, String>) -> Self {
        let mut s = Self::default();
        for (k, v) in rows {
            // Checked where they are used (`login::endpoints::Endpoints`), which knows them.
            if k.starts_with("login.") {
                s.login_endpoints.insert(k.clone(), v.clone());
                continue;
            }
            if let Ok(key) = k.parse::<SettingKey>() {
                let _ = s.apply(key, v);
            }
        }
        s
    }

    pub fn apply(&mut self, key: SettingKey, value: &str) -> Result<()> {
        let invalid = |what: &str| format!("invalid value '{value}' for {}: {what}", key.name());
        let number = |range: std::ops::RangeInclusive<u64>| {
            let expected = || invalid(&format!("expected {} to {}", range.start(), range.end()));
            value.parse().ok().filter(|n| range.contains(n)).ok_or_else(expected)
        };
        match key {
            SettingKey::RequireKey => self.require_key = parse_switch(value).ok_or_else(|| invalid(SWITCH))?,
            SettingKey::TokenSaver => self.token_saver = parse_switch(value).ok_or_else(|| invalid(SWITCH))?,
            SettingKey::MaxBodyMb => self.max_body_mb = number(1..=1024)?,
            SettingKey::FirstByteTimeoutSecs => self.first_byte_timeout_secs = number(1..=3600)?,
            SettingKey::StallTimeoutSecs => self.stall_timeout_secs = number(1..=3600)?,
            SettingKey::Proxy => {
                if !value.is_empty() {
                    validate_proxy_url(value).map_err(|why| invalid(&why))?;
                }
                self.proxy = value.to_string();
            }
            SettingKey::Port => {
                self.port = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| invalid("expected 1 to 65535"))?
            }
            SettingKey::NoProxy => self.no_proxy = value.to_string(),
            SettingKey::QuotaRefreshSecs => self.quota_refresh_secs = number(5..=86400)?,
            SettingKey::AllowedHosts => {
                self.allowed_hosts = list(value)
                    .map(normalize_host)
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|why| invalid(&why))?
            }
            SettingKey::AllowedOrigins => {
                self.allowed_origins = list(value)
                    .map(normalize_origin)
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|why| invalid(&why))?
            }
            SettingKey::HeaderTimeoutSecs => self.header_timeout_secs = number(1..=300)?,
            SettingKey::IdleTimeoutSecs => self.idle_timeout_secs = number(1..=3600)?,
            SettingKey::MaxConnections => self.max_connections = number(8..=1_000_000)?,
            SettingKey::MaxInFlight => self.max_in_flight = number(1..=1_000_000)?,
            SettingKey::UsageDurability => {
                self.usage_durability = match value {
                    "batched" => Durability::Batched,
                    "strict" => Durability::Strict,
                    _ => return Err(invalid("expected batched or strict")),
                }
            }
            SettingKey::RetentionDays => self.retention_days = number(1..=3650)?,
        }
        Ok(())
    }

    pub fn max_body_bytes(&self) -> usize {
        (self.max_body_mb as usize).saturating_mul(1024 * 1024)
    }
}

pub use switchyard_api::Durability;

/// The items of a comma- or space-separated list, empty ones left out.
fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split([',', ' ']).map(str::trim).filter(|v| !v.is_empty())
}

/// An allowed host: a name (`.name` for it and its subdomains, `*` for any), lower case, no
/// port or scheme.
fn normalize_host(host: &str) -> std::result::Result<String, String> {
    let host = host.to_ascii_lowercase();
    let name = host.strip_prefix('.').unwrap_or(&host);
    let valid = host == "*"
        || (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')));
    if !valid {
        return Err(format!("'{host}' is not a host name (write names like switchyard.example.com or .example.com, without scheme or port)"));
    }
    Ok(host)
}

/// An allowed origin as browsers send it: `scheme://host[:port]`, lower case, no path.
fn normalize_origin(origin: &str) -> std::result::Result<String, String> {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let url = reqwest::Url::parse(&origin).map_err(|e| format!("'{origin}' is not an origin ({e})"))?;
    if url.host_str().is_none() || url.path() != "/" || url.query().is_some() || url.username() != "" {
        return Err(format!("'{origin}' is not an origin: write scheme://host[:port], as a browser's Origin header"));
    }
    Ok(url.origin().ascii_serialization())
}

/// What a yes/no setting accepts.
pub const SWITCH: &str = "expected on or off (true or false)";

/// A yes/no value: on/off, true/false, yes/no, 1/0.
pub fn parse_switch(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// A proxy URL reqwest can use: http, https, socks5 or socks5h, with a host.
pub fn validate_proxy_url(value: &str) -> std::result::Result<(), String> {
    let url = reqwest::Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") || url.host_str().is_none() {
        return Err("expected http://, https://, socks5:// or socks5h:// and a host".into());
    }
    Ok(())
}
