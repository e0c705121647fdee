//! What the usage pages read: totals per group over a period, the same per hour or day (a
//! series), the request log, and a model tried from the dashboard.

use crate::kinds::Outcome;
use serde::{Deserialize, Serialize};

/// Totals of one group (a provider, model, key, tool...) over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub avg_latency_ms: f64,
    /// Upper bounds of the latency buckets the percentiles fall in (None: over 128 s).
    pub p50_latency_ms: Option<i64>,
    pub p95_latency_ms: Option<i64>,
    pub cost_usd: f64,
    /// What these requests would have cost on the API.
    #[serde(default)]
    pub api_equivalent_usd: f64,
    /// Tokens the token saver took out of these requests.
    #[serde(default)]
    pub tokens_saved: i64,
}

/// One point of a time series: a bucket's start and its totals for one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub bucket_ms: i64,
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// One request as the log lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRow {
    pub id: i64,
    pub ts_ms: i64,
    pub key_id: Option<i64>,
    pub tool: String,
    pub inbound: String,
    pub requested_model: String,
    pub provider: Option<String>,
    #[serde(default)]
    pub account_id: Option<i64>,
    pub model: Option<String>,
    /// What each attempt before the answer met.
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
    #[serde(default)]
    pub cache_write_tokens: i64,
    #[serde(default)]
    pub reasoning_tokens: i64,
    /// The counts are the provider's own.
    #[serde(default)]
    pub usage_reported: bool,
    /// The provider reported no counts: these are the tokenizer's.
    #[serde(default)]
    pub usage_estimated: bool,
    /// Why the account that answered was chosen.
    #[serde(default)]
    pub chosen: Option<String>,
    pub cost_usd: f64,
    #[serde(default)]
    pub priced: bool,
    #[serde(default)]
    pub tokens_saved: i64,
    /// The records of one synthesized request share this id.
    #[serde(default)]
    pub group_id: Option<i64>,
    /// In a synthesized request: `member` or `judge`.
    #[serde(default)]
    pub part: Option<String>,
    /// What it would have cost on the API (its cost, for API keys).
    #[serde(default)]
    pub api_equivalent_usd: f64,
}

/// `POST /api/models/test`: the model name to try.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelName {
    pub model: String,
}

/// What one short request to a model name through the gateway's own path gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelTest {
    pub ok: bool,
    pub status: u16,
    pub latency_ms: u64,
    /// The model the provider says answered (its own name for it), when one did.
    pub answered_model: Option<String>,
    /// The start of the answer, or the error message.
    pub answer: String,
}
