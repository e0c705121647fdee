//! What the /api routes answer, as the UI reads it: the server's own types (`switchyard_api`)
//! where they have moved there, a mirror for the rest (fields the UI does not show are left
//! out; fields that may be absent default, so an older or newer gateway still renders).

use serde::Deserialize;
use switchyard_api::{AuthStyle, ComboStrategy, Format, LoginKind, Outcome, Strategy};
pub use switchyard_api::{OverviewAnswer, SessionStatus};

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CatalogEntry {
    pub id: String,
    pub name: String,
    pub kind: Format,
    pub base_url: String,
    #[serde(default)]
    pub needs_base_url: bool,
    #[serde(default)]
    pub models: Vec<String>,
    /// `Login` for the subscription providers (signed in below, not given a key).
    #[serde(default)]
    pub auth: Option<AuthStyle>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Provider {
    pub id: String,
    pub kind: Format,
    pub base_url: String,
    #[serde(default)]
    pub models: Vec<String>,
    pub strategy: Strategy,
    #[serde(default)]
    pub from_catalog: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Account {
    pub id: i64,
    pub provider_id: String,
    pub label: String,
    pub priority: i64,
    pub enabled: bool,
    pub key_hint: String,
    pub needs_attention: Option<String>,
    pub max_concurrent: Option<i64>,
    /// A subscription login (None: an API key).
    #[serde(default)]
    pub login: Option<AccountLogin>,
}

/// What is shown of a login account's login (never a token).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AccountLogin {
    pub kind: LoginKind,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
}

/// One quota window of a login account.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct QuotaWindow {
    pub name: String,
    pub used_percent: f64,
    #[serde(default)]
    pub resets_at_ms: Option<i64>,
}

/// A login account's quota as last read.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct StoredQuota {
    pub account_id: i64,
    pub fetched_at_ms: i64,
    pub windows: Vec<QuotaWindow>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Combo {
    pub name: String,
    pub strategy: ComboStrategy,
    pub members: Vec<String>,
    /// Synthesis combos: the model that writes the final answer.
    #[serde(default)]
    pub judge: Option<String>,
    /// Synthesis combos: seconds the members get.
    #[serde(default)]
    pub deadline_secs: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct GatewayKey {
    pub id: i64,
    pub name: String,
    pub key_hint: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub budget_daily_usd: Option<f64>,
    pub budget_monthly_usd: Option<f64>,
    pub rpm: Option<i64>,
    pub tpm: Option<i64>,
    pub models: Option<String>,
    pub expires_at: Option<String>,
    /// None: follows the token-saver setting.
    #[serde(default)]
    pub token_saver: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CreatedKey {
    pub key: String,
    pub record: GatewayKey,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
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
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub usage_durability: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct UsageTotals {
    pub group: String,
    pub requests: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    #[serde(default)]
    pub cache_read_tokens: i64,
    #[serde(default)]
    pub reasoning_tokens: i64,
    pub p50_latency_ms: Option<i64>,
    pub p95_latency_ms: Option<i64>,
    pub cost_usd: f64,
    #[serde(default)]
    pub tokens_saved: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SeriesPoint {
    pub bucket_ms: i64,
    #[serde(flatten)]
    pub totals: UsageTotals,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct UsageRow {
    pub id: i64,
    pub ts_ms: i64,
    pub key_id: Option<i64>,
    pub tool: String,
    pub inbound: String,
    pub requested_model: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    #[serde(default)]
    pub attempts: Vec<String>,
    pub stream: bool,
    pub status: i64,
    pub outcome: Outcome,
    pub latency_ms: i64,
    pub ttft_ms: Option<i64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    #[serde(default)]
    pub cache_read_tokens: i64,
    pub cost_usd: f64,
    #[serde(default)]
    pub tokens_saved: i64,
    /// The provider reported no counts: these are the tokenizer's.
    #[serde(default)]
    pub usage_estimated: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ProbeResult {
    pub ok: bool,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub models: Option<usize>,
    pub error: Option<String>,
}

impl ProbeResult {
    /// One line for the status message.
    pub fn describe(&self) -> Result<String, String> {
        if self.ok {
            let models = self.models.map(|n| format!(", {n} models listed")).unwrap_or_default();
            Ok(format!("The key works ({} ms{models}).", self.latency_ms))
        } else {
            Err(format!("The provider refused or failed: {}", self.error.clone().unwrap_or_default()))
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Cooldown {
    pub account_id: i64,
    pub model: String,
    pub until_ms: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ModelTest {
    pub ok: bool,
    pub status: u16,
    pub latency_ms: u64,
    pub answered_model: Option<String>,
    pub answer: String,
}

/// The desktop app's gateway status (the `gateway_status` command, the `gateway` event).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GatewayStatus {
    Starting,
    Running { port: u16, endpoint: String },
    Stopped { port: u16 },
    Failed { port: u16, message: String },
}

impl GatewayStatus {
    pub fn port(&self) -> u16 {
        match self {
            Self::Running { port, .. } | Self::Stopped { port } | Self::Failed { port, .. } => *port,
            Self::Starting => 20130,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Starting => "Starting…".into(),
            Self::Running { endpoint, .. } => format!("Running on {endpoint}"),
            Self::Stopped { port } => format!("Stopped (port {port})"),
            Self::Failed { message, .. } => message.clone(),
        }
    }
}

/// What a check for updates found (the `update_check` command).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpdateCheck {
    UpToDate { current: String },
    Available { current: String, version: String, notes: Option<String> },
    CouldNotCheck { current: String, reason: String },
}

impl UpdateCheck {
    pub fn describe(&self) -> String {
        match self {
            Self::UpToDate { current } => format!("Switchyard {current} is up to date."),
            Self::Available { current, version, .. } => {
                format!("Switchyard {version} is available (you have {current}).")
            }
            Self::CouldNotCheck { .. } => "Could not check for updates (offline?). Try again later.".into(),
        }
    }
}

/// A coding tool Switchyard can set up (GET /api/tools).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ToolStatus {
    pub id: String,
    pub name: String,
    pub installed: bool,
    pub applied: bool,
    pub drift: Vec<String>,
    pub model: Option<String>,
    pub files: Vec<ToolFile>,
    pub try_it: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ToolFile {
    pub path: String,
    pub exists: bool,
}

/// What applying a tool's setup changes (POST /api/tools/{id}/apply).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ToolPlan {
    pub id: String,
    pub files: Vec<ToolFilePlan>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ToolFilePlan {
    pub path: String,
    pub changed: bool,
    pub diff: String,
}

/// A subscription login the dashboard offers, with its terms risk.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LoginChoice {
    pub provider: String,
    pub name: String,
    pub terms_risk: String,
    pub flow: String,
    #[serde(default)]
    pub options: Vec<LoginOption>,
}

/// A setting to fill in before signing in (`login.PROVIDER.NAME`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LoginOption {
    pub setting: String,
    pub label: String,
    pub help: String,
    pub value: String,
}

/// A sign-in started from the dashboard, as the server follows it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PendingLogin {
    pub id: u64,
    pub provider: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub user_code: Option<String>,
    #[serde(default)]
    pub needs_paste: bool,
    #[serde(default)]
    pub lines: Vec<String>,
    #[serde(default)]
    pub account: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<String>,
}
