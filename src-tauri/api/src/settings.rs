//! The gateway's settings as /api shows them (every value in force, defaults filled in) and
//! the body that changes one (`PUT /api/settings/{name}`, the same text `settings set` takes).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The setting that holds the dashboard password (set like the others, never listed; only its
/// hash is kept).
pub const DASHBOARD_PASSWORD_SETTING: &str = "dashboard-password";

/// The port the gateway listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 20130;

/// The settings in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub require_key: bool,
    pub max_body_mb: u64,
    pub first_byte_timeout_secs: u64,
    pub stall_timeout_secs: u64,
    pub proxy: String,
    pub no_proxy: String,
    pub retention_days: u64,
    #[serde(default)]
    pub token_saver: bool,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub quota_refresh_secs: u64,
    /// Host names answered besides loopback and the listening address.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Web origins let in, as `scheme://host[:port]`.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub header_timeout_secs: u64,
    #[serde(default)]
    pub idle_timeout_secs: u64,
    #[serde(default)]
    pub max_connections: u64,
    #[serde(default)]
    pub max_in_flight: u64,
    #[serde(default)]
    pub usage_durability: Durability,
    /// Login endpoints pointed elsewhere (`login.PROVIDER.NAME` → URL).
    #[serde(default)]
    pub login_endpoints: BTreeMap<String, String>,
}

fn default_port() -> u16 {
    DEFAULT_PORT
}

/// When a request's usage record reaches the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// Written by the batch writer right after the answer (a crash loses what it held).
    #[default]
    Batched,
    /// Committed and synced before the answer's last byte leaves (power-loss safe).
    Strict,
}

impl Durability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Batched => "batched",
            Self::Strict => "strict",
        }
    }
}

/// `PUT /api/settings/{name}`: the new value, as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingValue {
    pub value: String,
}
