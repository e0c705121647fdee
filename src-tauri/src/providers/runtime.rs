//! A provider and its accounts as the request path holds them: parsed once when the
//! configuration snapshot is built, secrets opened (`Secret` never prints itself).

use crate::base::kinds::{AuthStyle, Format, LoginKind, Strategy};
use crate::base::ProxyChoice;
use std::sync::Arc;

/// A secret that never prints itself.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, Clone)]
pub struct AccountRuntime {
    pub id: i64,
    pub label: String,
    pub priority: i64,
    pub secret: Option<Secret>,
    /// Requests it may serve at once.
    pub max_concurrent: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct ProviderRuntime {
    pub id: String,
    pub kind: Format,
    pub base_url: String,
    pub auth: AuthStyle,
    pub models: Vec<String>,
    /// Its models are not the user's choice (none given, or the catalog's): the list the
    /// provider answers itself is shown instead (`gateway::model_lists`).
    pub lists_own_models: bool,
    /// The endpoint requests go to, parsed once (Gemini's names the model: built per request).
    pub endpoint: Option<reqwest::Url>,
    pub strategy: Strategy,
    pub sticky_uses: i64,
    /// The proxy this provider's requests go through (its own, else the global one).
    pub proxy: ProxyChoice,
    /// Overrides of the global timeouts, in seconds.
    pub first_byte_timeout: Option<u64>,
    pub stall_timeout: Option<u64>,
    /// The subscription login its accounts hold (None: API keys), decided once here rather
    /// than on every request.
    pub login: Option<LoginKind>,
    /// Enabled accounts, in priority order.
    pub accounts: Vec<Arc<AccountRuntime>>,
}
