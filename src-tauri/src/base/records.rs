//! What a request cost: token counts (`Usage`), a model's price per million tokens
//! (`Price`), and the record each request leaves (`UsageRecord`, with its `Outcome`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Usage {
    /// Every prompt token, cached ones included.
    pub input: u64,
    /// Every generated token, reasoning included.
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

impl Usage {
    /// Takes the larger of each count: providers repeat or complete usage across events.
    pub fn merge(&mut self, other: Usage) {
        self.input = self.input.max(other.input);
        self.output = self.output.max(other.output);
        self.cache_read = self.cache_read.max(other.cache_read);
        self.cache_write = self.cache_write.max(other.cache_write);
        self.reasoning = self.reasoning.max(other.reasoning);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cache_read: Option<f64>,
    pub cache_write: Option<f64>,
}

impl Price {
    /// USD for `u` at this price.
    pub fn cost(&self, u: &Usage) -> f64 {
        let uncached = u.input.saturating_sub(u.cache_read + u.cache_write) as f64;
        let per_token = |per_million: f64| per_million / 1_000_000.0;
        uncached * per_token(self.input)
            + u.cache_read as f64 * per_token(self.cache_read.unwrap_or(self.input))
            + u.cache_write as f64 * per_token(self.cache_write.unwrap_or(self.input))
            + u.output as f64 * per_token(self.output)
    }
}

pub use switchyard_api::Outcome;

/// One request's record; also what the live feed sends (it holds nothing secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRecord {
    pub ts_ms: i64,
    pub key_id: Option<i64>,
    pub tool: String,
    pub inbound: String,
    pub requested_model: String,
    pub provider: Option<String>,
    pub account_id: Option<i64>,
    pub model: Option<String>,
    pub attempts: Vec<String>,
    pub stream: bool,
    pub status: u16,
    pub outcome: Outcome,
    pub latency_ms: i64,
    pub ttft_ms: Option<i64>,
    pub usage: Usage,
    /// The counts are the provider's own (false: none reported).
    pub usage_reported: bool,
    /// None were reported for an answer that was served: the counts are estimated with the
    /// tokenizer (`usage::estimate`).
    pub usage_estimated: bool,
    /// USD at the price in force (0 when the model has no price, and for a subscription
    /// login, whose requests cost nothing more).
    pub cost_usd: f64,
    /// What the request would have cost on the API at that price (its cost, for API keys).
    pub api_equivalent_usd: f64,
    /// Served by a subscription login.
    pub subscription: bool,
    pub priced: bool,
    /// Tokens (o200k_base) the token saver took out of the request's tool results.
    pub tokens_saved: u64,
    /// The records of one synthesized request (its members and its judge) share this id.
    pub group_id: Option<i64>,
    /// In a synthesized request: `member` or `judge`.
    pub part: Option<&'static str>,
    /// Why the account that answered was chosen.
    pub chosen: Option<String>,
}
