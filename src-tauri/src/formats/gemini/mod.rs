//! Google Gemini (generateContent): request and response codecs, stream transcoders, and the
//! cleaning of tool schemas down to the subset Gemini accepts. Gemini names the model in the
//! URL and has no tool-call ids: the decoder derives stable ids, and the encoder finds a tool
//! result's function name from the call it answers.

pub mod request;
pub mod response;
pub mod schema;
pub mod stream;

use super::ir::{StopReason, Usage};
use serde_json::{json, Value};

pub fn finish_reason_str(stop: StopReason) -> &'static str {
    match stop {
        StopReason::MaxTokens => "MAX_TOKENS",
        StopReason::ContentFilter => "SAFETY",
        _ => "STOP",
    }
}

pub fn parse_finish_reason(s: &str, has_tool_calls: bool) -> StopReason {
    match s {
        "MAX_TOKENS" => StopReason::MaxTokens,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            StopReason::ContentFilter
        }
        _ if has_tool_calls => StopReason::ToolUse,
        _ => StopReason::EndTurn,
    }
}

pub fn usage_json(u: &Usage) -> Value {
    let mut v = json!({
        "promptTokenCount": u.input,
        "candidatesTokenCount": u.output.saturating_sub(u.reasoning),
        "totalTokenCount": u.input + u.output,
    });
    if u.reasoning > 0 {
        v["thoughtsTokenCount"] = json!(u.reasoning);
    }
    if u.cache_read > 0 {
        v["cachedContentTokenCount"] = json!(u.cache_read);
    }
    v
}

pub fn parse_usage(v: &Value) -> Usage {
    let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let reasoning = n("thoughtsTokenCount");
    Usage {
        input: n("promptTokenCount"),
        output: n("candidatesTokenCount") + reasoning,
        cache_read: n("cachedContentTokenCount"),
        cache_write: 0,
        reasoning,
    }
}

/// Gemini's error `status` for an HTTP status.
pub fn error_status(status: u16) -> &'static str {
    match status {
        400 | 413 | 422 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

pub fn error_json(status: u16, message: &str) -> Value {
    json!({"error": {"code": status, "message": message, "status": error_status(status)}})
}
