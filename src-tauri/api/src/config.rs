//! Providers, their accounts and combos as /api shows and changes them: the catalog of known
//! providers, a provider and what adding or changing one takes, an account (never its secret,
//! only a hint) and its test, the cooldowns routing holds, combos and aliases.

use crate::kinds::{AuthStyle, ComboStrategy, Format, LoginInfo, Strategy};
use serde::{Deserialize, Serialize};

/// A provider Switchyard knows (`GET /api/catalog`): added by its id, with only a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// The provider id (in `catalog.toml`, the table's name).
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub kind: Format,
    pub base_url: String,
    /// `Login` for the subscription providers (signed in, not given a key).
    pub auth: AuthStyle,
    /// The address is the user's own (a self-hosted or regional endpoint).
    #[serde(default)]
    pub needs_base_url: bool,
    #[serde(default)]
    pub models: Vec<String>,
}

/// A configured provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    pub id: String,
    pub kind: Format,
    pub base_url: String,
    pub auth: AuthStyle,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default)]
    pub from_catalog: bool,
    #[serde(default)]
    pub created_at: String,
    /// How requests spread over the provider's accounts.
    pub strategy: Strategy,
    /// Sticky round-robin: uses of one account before moving on.
    #[serde(default)]
    pub sticky_uses: i64,
    /// Outbound proxy for this provider (`none` turns a global proxy off for it).
    #[serde(default)]
    pub proxy: Option<String>,
    #[serde(default)]
    pub first_byte_timeout_secs: Option<i64>,
    #[serde(default)]
    pub stall_timeout_secs: Option<i64>,
}

/// `POST /api/providers`: a catalog id with a key, or a custom provider (kind and base URL).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProvider {
    pub id: String,
    /// A `Format` name (text, so that an unknown one is a 400 naming the known ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// An `AuthStyle` name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

/// The answer to adding a provider: it, and the account made for the key given with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderAdded {
    pub provider: Provider,
    pub account_id: Option<i64>,
}

/// `PATCH /api/providers/{id}`: what is given changes, the rest stays.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderChange {
    /// A `Strategy` name (text, so that an unknown one is a 400 naming the known ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_uses: Option<i64>,
    /// A proxy URL, `none`, or empty to follow the global setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte_timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_timeout_secs: Option<u64>,
}

/// One credential of a provider: an API key (shown as a hint) or a subscription login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    pub provider_id: String,
    pub label: String,
    pub priority: i64,
    pub enabled: bool,
    pub key_hint: String,
    #[serde(default)]
    pub created_at: String,
    /// Why the gateway stopped using this account (a rejected key), until the user acts.
    #[serde(default)]
    pub needs_attention: Option<String>,
    /// Requests this account may serve at once (None: no cap).
    #[serde(default)]
    pub max_concurrent: Option<i64>,
    /// A subscription login (None: an API key); never a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<LoginInfo>,
}

/// `POST /api/accounts`: another key for a provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub priority: i64,
}

/// `PATCH /api/accounts/{id}`: what is given changes, the rest stays.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// 0 removes the cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<i64>,
}

/// What a test of an account found (`POST /api/accounts/{id}/test`: a model-list call, no
/// tokens spent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub ok: bool,
    /// The provider's HTTP status (None: it could not be reached).
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// Models the provider listed (when it answered with a list).
    pub models: Option<usize>,
    /// What went wrong, in the provider's words where it gave some.
    pub error: Option<String>,
}

impl ProbeResult {
    /// One line saying what the test found.
    pub fn describe(&self) -> Result<String, String> {
        if self.ok {
            let models = self.models.map(|n| format!(", {n} models listed")).unwrap_or_default();
            Ok(format!("The key works ({} ms{models}).", self.latency_ms))
        } else {
            Err(format!("The provider refused or failed: {}", self.error.clone().unwrap_or_default()))
        }
    }
}

/// An account (for one model, or every model: empty) that routing skips until a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cooldown {
    pub account_id: i64,
    pub model: String,
    pub until_ms: i64,
    #[serde(default)]
    pub failures: i64,
    pub reason: String,
}

/// A combo: one model name that stands for several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Combo {
    pub name: String,
    pub strategy: ComboStrategy,
    pub members: Vec<String>,
    /// Synthesis combos: the model that writes the final answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<String>,
    /// Synthesis combos: seconds the members get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_secs: Option<i64>,
    #[serde(default)]
    pub created_at: String,
}

/// `PUT /api/combos/{name}`: the combo's whole definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComboSpec {
    /// A `ComboStrategy` name (text, so that an unknown one is a 400 naming the known ones).
    #[serde(default = "fallback")]
    pub strategy: String,
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_secs: Option<u64>,
}

fn fallback() -> String {
    ComboStrategy::Fallback.as_str().into()
}

/// A second name for a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub target: String,
    #[serde(default)]
    pub created_at: String,
}
