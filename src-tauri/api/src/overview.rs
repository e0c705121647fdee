//! The dashboard's first screen and its login: `GET /api/session` (is a password set, is this
//! browser logged in), the password sent to set up or log in, and `GET /api/overview` (where the
//! gateway serves, its configuration and last day at a glance).

use serde::{Deserialize, Serialize};

/// `GET /api/session`: whether a dashboard password is set and this browser is logged in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionStatus {
    pub password_set: bool,
    pub logged_in: bool,
    /// The first password may be set from here (a request from this machine).
    pub setup_allowed: bool,
    #[serde(default)]
    pub min_password_chars: usize,
}

/// The body of `POST /api/session/setup` and `/api/session/login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Password {
    pub password: String,
}

/// The answer of a setup or login that started a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedIn {
    pub logged_in: bool,
}

/// `GET /api/overview`: where the gateway serves, and its configuration and last day at a
/// glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewAnswer {
    pub endpoint: String,
    #[serde(default)]
    pub data_dir: String,
    /// Listening beyond loopback (every request then needs a gateway key).
    #[serde(default)]
    pub exposed: bool,
    pub overview: Overview,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub version: String,
    pub providers: usize,
    pub accounts: usize,
    pub accounts_enabled: usize,
    /// Accounts the gateway set aside (a rejected key) until the user acts.
    pub accounts_needing_attention: usize,
    pub combos: usize,
    pub keys_active: usize,
    pub last_24h: Totals,
}

/// Every request's totals over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub requests: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    /// What the same requests would have cost on the API (subscriptions make the difference).
    #[serde(default)]
    pub api_equivalent_usd: f64,
    /// Tokens the token saver took out of requests.
    #[serde(default)]
    pub tokens_saved: i64,
}
