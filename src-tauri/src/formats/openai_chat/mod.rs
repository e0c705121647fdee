//! OpenAI Chat Completions: request and response codecs (`request`, `response`) and the stream
//! transcoders (`stream`) to and from the IR.

pub mod request;
pub mod response;
pub mod stream;

use super::ir::StopReason;

pub fn stop_reason_str(stop: StopReason) -> &'static str {
    match stop {
        StopReason::EndTurn | StopReason::StopSequence => "stop",
        StopReason::MaxTokens => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::ContentFilter => "content_filter",
    }
}

pub fn parse_stop_reason(s: &str) -> StopReason {
    match s {
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        _ => StopReason::EndTurn,
    }
}

/// The `usage` object of a response or final chunk.
pub fn usage_json(u: &super::ir::Usage) -> serde_json::Value {
    serde_json::json!({
        "prompt_tokens": u.input,
        "completion_tokens": u.output,
        "total_tokens": u.input + u.output,
        "prompt_tokens_details": {"cached_tokens": u.cache_read},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning},
    })
}

pub fn parse_usage(v: &serde_json::Value) -> super::ir::Usage {
    let n = |p: &str| v.pointer(p).and_then(serde_json::Value::as_u64).unwrap_or(0);
    super::ir::Usage {
        input: n("/prompt_tokens"),
        output: n("/completion_tokens"),
        cache_read: n("/prompt_tokens_details/cached_tokens"),
        cache_write: 0,
        reasoning: n("/completion_tokens_details/reasoning_tokens"),
    }
}
