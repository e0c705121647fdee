//! Responses answers ↔ IR.

use super::{parse_usage, usage_json};
use crate::formats::codec::{now_unix, parse, DecodeError};
use crate::formats::ir::{new_id, Part, Response, StopReason};
use serde_json::{json, Value};

pub fn decode(body: &[u8]) -> Result<Response, DecodeError> {
    let v: Value = parse(body)?;
    let output = v
        .get("output")
        .and_then(Value::as_array)
        .ok_or_else(|| DecodeError::Invalid("the answer has no output".into()))?;
    let mut parts = Vec::new();
    for item in output {
        let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        match item.get("type").and_then(Value::as_str).unwrap_or("") {
            "message" => {
                for c in item.get("content").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(t) = c.get("text").or_else(|| c.get("refusal")).and_then(Value::as_str) {
                        parts.push(Part::Text(t.to_string()));
                    }
                }
            }
            "function_call" => {
                parts.push(Part::ToolCall { id: s("call_id"), name: s("name"), arguments: s("arguments") })
            }
            "reasoning" => {
                let text = super::summary_text(item);
                if !text.is_empty() {
                    parts.push(Part::Thinking { text, signature: None });
                }
            }
            _ => {}
        }
    }
    let stop = stop_of(&v, parts.iter().any(|p| matches!(p, Part::ToolCall { .. })));
    Ok(Response {
        id: v.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
        model: v.get("model").and_then(Value::as_str).unwrap_or_default().to_string(),
        parts,
        stop,
        usage: v.get("usage").map(parse_usage).unwrap_or_default(),
    })
}

/// The stop reason of a finished response object.
pub fn stop_of(response: &Value, has_tool_calls: bool) -> StopReason {
    match response.pointer("/incomplete_details/reason").and_then(Value::as_str) {
        Some("max_output_tokens") => StopReason::MaxTokens,
        Some("content_filter") => StopReason::ContentFilter,
        _ if has_tool_calls => StopReason::ToolUse,
        _ => StopReason::EndTurn,
    }
}

/// The output items of a response, as the Responses API lists them.
pub fn output_items(r: &Response) -> Vec<Value> {
    let mut items = Vec::new();
    let text: String =
        r.parts.iter().filter_map(|p| if let Part::Text(t) = p { Some(t.as_str()) } else { None }).collect();
    for p in &r.parts {
        if let Part::Thinking { text, .. } = p {
            items.push(
                json!({"type": "reasoning", "id": new_id("rs_"), "summary": [{"type": "summary_text", "text": text}]}),
            );
        }
    }
    if !text.is_empty() {
        items.push(json!({"type": "message", "id": new_id("msg_"), "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}));
    }
    for p in &r.parts {
        if let Part::ToolCall { id, name, arguments } = p {
            items.push(json!({"type": "function_call", "id": new_id("fc_"), "call_id": id, "name": name, "arguments": arguments, "status": "completed"}));
        }
    }
    items
}

/// A response object around `output` items.
pub fn response_object(
    id: &str,
    model: &str,
    status: &str,
    output: Vec<Value>,
    usage: Option<Value>,
    stop: StopReason,
) -> Value {
    let incomplete = match stop {
        StopReason::MaxTokens if status == "incomplete" => json!({"reason": "max_output_tokens"}),
        StopReason::ContentFilter if status == "incomplete" => json!({"reason": "content_filter"}),
        _ => Value::Null,
    };
    json!({
        "id": id, "object": "response", "created_at": now_unix(), "status": status, "model": model,
        "output": output, "usage": usage, "error": null, "incomplete_details": incomplete,
        "instructions": null, "metadata": {}, "parallel_tool_calls": true, "tool_choice": "auto", "tools": [],
        "temperature": null, "top_p": null,
    })
}

pub fn status_of(stop: StopReason) -> &'static str {
    match stop {
        StopReason::MaxTokens | StopReason::ContentFilter => "incomplete",
        _ => "completed",
    }
}

pub fn encode(r: &Response) -> Value {
    let id = if r.id.starts_with("resp_") { r.id.clone() } else { new_id("resp_") };
    response_object(&id, &r.model, status_of(r.stop), output_items(r), Some(usage_json(&r.usage)), r.stop)
}
