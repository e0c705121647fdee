//! Chat Completions responses ↔ IR.

use super::{parse_stop_reason, parse_usage, stop_reason_str, usage_json};
use crate::formats::codec::{now_unix, parse, DecodeError};
use crate::formats::ir::{Part, Response};
use serde_json::{json, Value};

pub fn decode(body: &[u8]) -> Result<Response, DecodeError> {
    let v: Value = parse(body)?;
    let message = v
        .pointer("/choices/0/message")
        .ok_or_else(|| DecodeError::Invalid("the answer has no choices[0].message".into()))?;
    let mut parts = Vec::new();
    if let Some(t) = message.get("reasoning_content").or_else(|| message.get("reasoning")).and_then(Value::as_str) {
        if !t.is_empty() {
            parts.push(Part::Thinking { text: t.to_string(), signature: None });
        }
    }
    if let Some(t) = message.get("content").and_then(Value::as_str) {
        if !t.is_empty() {
            parts.push(Part::Text(t.to_string()));
        }
    }
    for call in message.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
        parts.push(Part::ToolCall {
            id: call.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
            name: call.pointer("/function/name").and_then(Value::as_str).unwrap_or_default().to_string(),
            arguments: call.pointer("/function/arguments").and_then(Value::as_str).unwrap_or_default().to_string(),
        });
    }
    Ok(Response {
        id: v.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
        model: v.get("model").and_then(Value::as_str).unwrap_or_default().to_string(),
        parts,
        stop: parse_stop_reason(v.pointer("/choices/0/finish_reason").and_then(Value::as_str).unwrap_or("stop")),
        usage: v.get("usage").map(parse_usage).unwrap_or_default(),
    })
}

pub fn encode(r: &Response) -> Value {
    let text: String =
        r.parts.iter().filter_map(|p| if let Part::Text(t) = p { Some(t.as_str()) } else { None }).collect();
    let reasoning: String = r
        .parts
        .iter()
        .filter_map(|p| if let Part::Thinking { text, .. } = p { Some(text.as_str()) } else { None })
        .collect();
    let calls: Vec<Value> = r
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall { id, name, arguments } => {
                Some(json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}))
            }
            _ => None,
        })
        .collect();
    let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) }});
    if !reasoning.is_empty() {
        message["reasoning_content"] = json!(reasoning);
    }
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    json!({
        "id": r.id, "object": "chat.completion", "created": now_unix(), "model": r.model,
        "choices": [{"index": 0, "message": message, "finish_reason": stop_reason_str(r.stop)}],
        "usage": usage_json(&r.usage),
    })
}
