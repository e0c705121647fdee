//! Anthropic Messages: request and response codecs and the stream transcoders, to and from the
//! IR. Anthropic counts `input_tokens` without cache reads and writes; the IR counts them in.

pub mod request;
pub mod response;
pub mod stream;

use super::ir::{StopReason, Usage};
use serde_json::{json, Value};

pub const API_VERSION: &str = "2023-06-01";

pub fn stop_reason_str(stop: StopReason) -> &'static str {
    match stop {
        StopReason::EndTurn | StopReason::ContentFilter => "end_turn",
        StopReason::MaxTokens => "max_tokens",
        StopReason::ToolUse => "tool_use",
        StopReason::StopSequence => "stop_sequence",
    }
}

pub fn parse_stop_reason(s: &str) -> StopReason {
    match s {
        "max_tokens" | "model_context_window_exceeded" => StopReason::MaxTokens,
        "tool_use" => StopReason::ToolUse,
        "stop_sequence" => StopReason::StopSequence,
        "refusal" => StopReason::ContentFilter,
        _ => StopReason::EndTurn,
    }
}

pub fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input.saturating_sub(u.cache_read + u.cache_write),
        "output_tokens": u.output,
        "cache_creation_input_tokens": u.cache_write,
        "cache_read_input_tokens": u.cache_read,
    })
}

pub fn parse_usage(v: &Value) -> Usage {
    let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (cache_read, cache_write) = (n("cache_read_input_tokens"), n("cache_creation_input_tokens"));
    Usage {
        input: n("input_tokens") + cache_read + cache_write,
        output: n("output_tokens"),
        cache_read,
        cache_write,
        reasoning: 0,
    }
}

/// Anthropic's error `type` for an HTTP status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 | 413 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

pub fn error_json(status: u16, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type(status), "message": message}})
}
