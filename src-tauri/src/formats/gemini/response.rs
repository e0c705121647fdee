//! generateContent answers ↔ IR.

use super::{finish_reason_str, parse_finish_reason, parse_usage, usage_json};
use crate::formats::codec::{arguments_value, parse, DecodeError};
use crate::formats::ir::{Part, Response};
use serde_json::{json, Value};

/// The IR parts of one candidate's content; `calls` counts tool calls across chunks for ids.
pub fn candidate_parts(candidate: &Value, calls: &mut usize) -> Vec<Part> {
    let mut parts = Vec::new();
    for p in candidate.pointer("/content/parts").and_then(Value::as_array).into_iter().flatten() {
        if let Some(text) = p.get("text").and_then(Value::as_str) {
            if p.get("thought").and_then(Value::as_bool) == Some(true) {
                parts.push(Part::Thinking { text: text.to_string(), signature: None });
            } else if !text.is_empty() {
                parts.push(Part::Text(text.to_string()));
            }
        } else if let Some(call) = p.get("functionCall") {
            let id =
                call.get("id").and_then(Value::as_str).map(String::from).unwrap_or_else(|| format!("call_{calls}"));
            *calls += 1;
            parts.push(Part::ToolCall {
                id,
                name: call.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                arguments: call.get("args").map(Value::to_string).unwrap_or_else(|| "{}".into()),
            });
        }
    }
    parts
}

pub fn decode(body: &[u8]) -> Result<Response, DecodeError> {
    let v: Value = parse(body)?;
    let candidate = v.pointer("/candidates/0").ok_or_else(|| {
        let reason = v.pointer("/promptFeedback/blockReason").and_then(Value::as_str).unwrap_or("no candidates");
        DecodeError::Invalid(format!("the answer has no candidates ({reason})"))
    })?;
    let mut calls = 0;
    let parts = candidate_parts(candidate, &mut calls);
    let finish = candidate.get("finishReason").and_then(Value::as_str).unwrap_or("STOP");
    Ok(Response {
        id: v.get("responseId").and_then(Value::as_str).unwrap_or_default().to_string(),
        model: v.get("modelVersion").and_then(Value::as_str).unwrap_or_default().to_string(),
        stop: parse_finish_reason(finish, calls > 0),
        parts,
        usage: v.get("usageMetadata").map(parse_usage).unwrap_or_default(),
    })
}

pub fn encode_parts(parts: &[Part]) -> Vec<Value> {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Text(t) => Some(json!({"text": t})),
            Part::Thinking { text, .. } => Some(json!({"text": text, "thought": true})),
            Part::ToolCall { name, arguments, .. } => {
                Some(json!({"functionCall": {"name": name, "args": arguments_value(arguments)}}))
            }
            _ => None,
        })
        .collect()
}

pub fn encode(r: &Response) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": encode_parts(&r.parts)}, "finishReason": finish_reason_str(r.stop), "index": 0}],
        "usageMetadata": usage_json(&r.usage),
        "modelVersion": r.model,
        "responseId": r.id,
    })
}
