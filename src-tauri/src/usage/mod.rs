//! Usage: one record per request (failed ones, streams and client disconnects included),
//! assembled while the request runs (`Draft`, `UsageTap`) and written off the request path in
//! batches (`UsageRecorder`), flushed on shutdown.

mod estimate;
pub mod limits;
mod pricing;
mod recorder;
mod tap;

pub use crate::base::records::{Outcome, UsageRecord};
pub use estimate::estimate;
pub use pricing::{price_for, shipped, Price};
pub use recorder::{UsageRecorder, UsageWriter};
pub use tap::{SseUsageScanner, UsageTap};

use crate::formats::ir::Usage;

/// The coding tool or SDK behind a request, from its user agent.
pub fn tool_from_user_agent(ua: &str) -> String {
    let lower = ua.to_ascii_lowercase();
    let known = [
        ("claude-cli", "claude-code"),
        ("claude-code", "claude-code"),
        ("codex", "codex"),
        ("geminicli", "gemini-cli"),
        ("gemini-cli", "gemini-cli"),
        ("opencode", "opencode"),
        ("qwen-code", "qwen-code"),
        ("cline", "cline"),
        ("roo", "roo-code"),
        ("kilo", "kilo-code"),
        ("cursor", "cursor"),
        ("continue", "continue"),
        ("aider", "aider"),
        ("factory", "factory-droid"),
        ("anthropic/python", "anthropic-python"),
        ("anthropic/js", "anthropic-js"),
        ("openai/python", "openai-python"),
        ("openai/js", "openai-js"),
        ("google-genai", "google-genai"),
        ("curl/", "curl"),
    ];
    for (needle, name) in known {
        if lower.contains(needle) {
            return name.to_string();
        }
    }
    lower.split(['/', ' ']).next().unwrap_or_default().chars().take(40).collect()
}

/// The part of a record known before the answer streams.
#[derive(Debug, Clone, Default)]
pub struct Draft {
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
    pub tokens_saved: u64,
    pub group_id: Option<i64>,
    pub part: Option<&'static str>,
    /// Why the account that answered was chosen.
    pub chosen: Option<String>,
    /// Served by a subscription login (its cost is the API equivalent only).
    pub subscription: bool,
    /// The request as sent upstream, for an estimate when the provider reports no usage.
    pub request_body: bytes::Bytes,
}

impl UsageRecord {
    /// The record with counts estimated (`estimate`) in place of those not reported, and
    /// their cost at `price`.
    pub fn with_estimate(mut self, usage: Usage, price: Option<Price>) -> Self {
        self.api_equivalent_usd = price.map_or(0.0, |p| p.cost(&usage));
        self.cost_usd = if self.subscription { 0.0 } else { self.api_equivalent_usd };
        self.usage = usage;
        self.usage_estimated = true;
        self
    }
}

impl Draft {
    pub fn finish(
        self,
        status: u16,
        outcome: Outcome,
        latency_ms: i64,
        ttft_ms: Option<i64>,
        usage: Option<Usage>,
        price: Option<Price>,
    ) -> UsageRecord {
        let api_equivalent_usd = match (&usage, &price) {
            (Some(u), Some(p)) => p.cost(u),
            _ => 0.0,
        };
        UsageRecord {
            cost_usd: if self.subscription { 0.0 } else { api_equivalent_usd },
            api_equivalent_usd,
            subscription: self.subscription,
            priced: price.is_some(),
            ts_ms: self.ts_ms,
            key_id: self.key_id,
            tool: self.tool,
            inbound: self.inbound,
            requested_model: self.requested_model,
            provider: self.provider,
            account_id: self.account_id,
            model: self.model,
            attempts: self.attempts,
            stream: self.stream,
            tokens_saved: self.tokens_saved,
            group_id: self.group_id,
            part: self.part,
            chosen: self.chosen,
            status,
            outcome,
            latency_ms,
            ttft_ms,
            usage_reported: usage.is_some(),
            usage_estimated: false,
            usage: usage.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_named_from_user_agents() {
        assert_eq!(tool_from_user_agent("claude-cli/2.0.14 (external, cli)"), "claude-code");
        assert_eq!(tool_from_user_agent("codex_cli_rs/0.50.0 (Debian 12; x86_64)"), "codex");
        assert_eq!(tool_from_user_agent("OpenAI/Python 2.8.0"), "openai-python");
        assert_eq!(tool_from_user_agent("google-genai-sdk/1.40.0 gl-python/3.11.7"), "google-genai");
        assert_eq!(tool_from_user_agent("MyTool/1.0"), "mytool");
    }
}
