//! OpenAI Responses (as Codex CLI speaks it): request and response codecs and the stream
//! transcoders, to and from the IR.

pub mod request;
pub mod response;
pub mod stream;

use super::ir::Usage;
use serde_json::{json, Value};

pub fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input,
        "input_tokens_details": {"cached_tokens": u.cache_read},
        "output_tokens": u.output,
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.input + u.output,
    })
}

/// The text of a reasoning item's summary parts, joined by newlines.
pub fn summary_text(item: &Value) -> String {
    let parts: Vec<&str> = item
        .get("summary")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("text").and_then(Value::as_str))
        .collect();
    parts.join("\n")
}

pub fn parse_usage(v: &Value) -> Usage {
    let n = |p: &str| v.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    Usage {
        input: n("/input_tokens"),
        output: n("/output_tokens"),
        cache_read: n("/input_tokens_details/cached_tokens"),
        cache_write: 0,
        reasoning: n("/output_tokens_details/reasoning_tokens"),
    }
}
