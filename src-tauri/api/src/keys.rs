//! Gateway keys (the keys clients present to Switchyard) as /api shows and changes them: a key
//! is shown whole once, at creation; after that only its hint, its limits and whether it is
//! revoked.

use serde::{Deserialize, Serialize};

/// A gateway key as listed: never the key, only a hint of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayKey {
    pub id: i64,
    pub name: String,
    pub key_hint: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    #[serde(flatten)]
    pub limits: KeyLimits,
    /// The token saver for this key's requests; None follows the global `token-saver` setting.
    #[serde(default)]
    pub token_saver: Option<bool>,
}

/// Budgets and limits of a gateway key; `None` is no limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyLimits {
    pub budget_daily_usd: Option<f64>,
    pub budget_monthly_usd: Option<f64>,
    pub rpm: Option<i64>,
    pub tpm: Option<i64>,
    /// Comma-separated globs of the model names the key may use.
    pub models: Option<String>,
    /// RFC 3339.
    pub expires_at: Option<String>,
}

/// `POST /api/keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub name: String,
}

/// A key just made: the whole key is in this answer and nowhere else, ever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub record: GatewayKey,
    pub key: String,
}

/// What `key set` and `PATCH /api/keys/{id}` change; `None` leaves a limit as it is.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyChange {
    /// USD; 0 removes the budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_daily_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_monthly_usd: Option<f64>,
    /// 0 removes the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<i64>,
    /// Comma-separated globs; empty removes the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<String>,
    /// A date (`2027-01-01`, at 00:00 UTC) or an RFC 3339 time; `never` removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `on`, `off`, or `default` (follow the global `token-saver` setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_saver: Option<String>,
}
