//! Messages responses ↔ IR.

use super::{parse_stop_reason, parse_usage, stop_reason_str, usage_json};
use crate::formats::codec::{arguments_value, parse, DecodeError};
use crate::formats::ir::{Part, Response};
use serde_json::{json, Value};

pub fn decode(body: &[u8]) -> Result<Response, DecodeError> {
    let v: Value = parse(body)?;
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| DecodeError::Invalid("the answer has no content".into()))?;
    let s = |b: &Value, k: &str| b.get(k).and_then(Value::as_str).map(String::from);
    let parts = blocks
        .iter()
        .filter_map(|b| match b.get("type").and_then(Value::as_str)? {
            "text" => Some(Part::Text(s(b, "text")?)),
            "thinking" => {
                Some(Part::Thinking { text: s(b, "thinking").unwrap_or_default(), signature: s(b, "signature") })
            }
            "redacted_thinking" => Some(Part::RedactedThinking { data: s(b, "data")? }),
            "tool_use" => Some(Part::ToolCall {
                id: s(b, "id")?,
                name: s(b, "name")?,
                arguments: b.get("input").map(Value::to_string).unwrap_or_else(|| "{}".into()),
            }),
            _ => None,
        })
        .collect();
    Ok(Response {
        id: s(&v, "id").unwrap_or_default(),
        model: s(&v, "model").unwrap_or_default(),
        parts,
        stop: parse_stop_reason(v.get("stop_reason").and_then(Value::as_str).unwrap_or("end_turn")),
        usage: v.get("usage").map(parse_usage).unwrap_or_default(),
    })
}

pub fn encode(r: &Response) -> Value {
    let content: Vec<Value> = r
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::Text(t) => Some(json!({"type": "text", "text": t})),
            Part::Thinking { text, signature } => {
                Some(json!({"type": "thinking", "thinking": text, "signature": signature.clone().unwrap_or_default()}))
            }
            Part::RedactedThinking { data } => Some(json!({"type": "redacted_thinking", "data": data})),
            Part::ToolCall { id, name, arguments } => {
                Some(json!({"type": "tool_use", "id": id, "name": name, "input": arguments_value(arguments)}))
            }
            _ => None,
        })
        .collect();
    let id = if r.id.starts_with("msg_") { r.id.clone() } else { crate::formats::ir::new_id("msg_") };
    json!({
        "id": id, "type": "message", "role": "assistant", "model": r.model, "content": content,
        "stop_reason": stop_reason_str(r.stop), "stop_sequence": null, "usage": usage_json(&r.usage),
    })
}
