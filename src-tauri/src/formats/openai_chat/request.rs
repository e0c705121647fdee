//! Chat Completions requests ↔ IR.

use crate::formats::codec::{image_from_url, image_to_url, parse, parts_text, DecodeError};
use crate::formats::ir::{Effort, Message, Part, Reasoning, Request, ResponseFormat, Role, Tool, ToolChoice};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct WireRequest {
    model: String,
    messages: Vec<WireMessage>,
    #[serde(default)]
    tools: Vec<WireTool>,
    tool_choice: Option<Value>,
    parallel_tool_calls: Option<bool>,
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    stop: Option<Value>,
    #[serde(default)]
    stream: Option<bool>,
    stream_options: Option<Value>,
    reasoning_effort: Option<String>,
    response_format: Option<Value>,
}

#[derive(Deserialize)]
struct WireMessage {
    role: String,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    tool_calls: Vec<WireToolCall>,
    tool_call_id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<WirePart>),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WirePart {
    Text {
        text: String,
    },
    ImageUrl {
        image_url: ImageUrl,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct ImageUrl {
    url: String,
}

#[derive(Deserialize)]
struct WireToolCall {
    id: String,
    function: WireFunctionCall,
}

#[derive(Deserialize)]
struct WireFunctionCall {
    name: String,
    #[serde(default)]
    arguments: String,
}

#[derive(Deserialize)]
struct WireTool {
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
}

fn content_parts(content: Option<Content>) -> Vec<Part> {
    match content {
        None => vec![],
        Some(Content::Text(t)) => vec![Part::Text(t)],
        Some(Content::Parts(parts)) => parts
            .into_iter()
            .filter_map(|p| match p {
                WirePart::Text { text } => Some(Part::Text(text)),
                WirePart::ImageUrl { image_url } => Some(Part::Image(image_from_url(&image_url.url))),
                WirePart::Other => None,
            })
            .collect(),
    }
}

/// Appends parts to the last message when it has the same role (tool results that follow one
/// another become one user turn, as Anthropic and Gemini require).
pub fn push_parts(messages: &mut Vec<Message>, role: Role, parts: Vec<Part>) {
    if parts.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.parts.extend(parts),
        _ => messages.push(Message { role, parts }),
    }
}

pub fn parse_tool_choice(v: &Value) -> Option<ToolChoice> {
    match v {
        Value::String(s) => match s.as_str() {
            "auto" => Some(ToolChoice::Auto),
            "none" => Some(ToolChoice::None),
            "required" => Some(ToolChoice::Required),
            _ => None,
        },
        Value::Object(_) => v
            .pointer("/function/name")
            .or_else(|| v.get("name"))
            .and_then(Value::as_str)
            .map(|n| ToolChoice::Named(n.to_string())),
        _ => None,
    }
}

pub fn parse_response_format(v: &Value) -> Option<ResponseFormat> {
    match v.get("type").and_then(Value::as_str) {
        Some("json_object") => Some(ResponseFormat::JsonObject),
        Some("json_schema") => {
            let s = v.get("json_schema").unwrap_or(v);
            Some(ResponseFormat::JsonSchema {
                name: s.get("name").and_then(Value::as_str).unwrap_or("response").to_string(),
                schema: s.get("schema").cloned().unwrap_or(json!({})),
                strict: s.get("strict").and_then(Value::as_bool),
            })
        }
        _ => None,
    }
}

pub fn decode(body: &[u8]) -> Result<Request, DecodeError> {
    let w: WireRequest = parse(body)?;
    let mut system = Vec::new();
    let mut messages = Vec::new();
    for m in w.messages {
        match m.role.as_str() {
            "system" | "developer" => {
                let text = parts_text(&content_parts(m.content));
                if !text.is_empty() {
                    system.push(text);
                }
            }
            "user" => push_parts(&mut messages, Role::User, content_parts(m.content)),
            "assistant" => {
                let mut parts = content_parts(m.content);
                parts.extend(m.tool_calls.into_iter().map(|c| Part::ToolCall {
                    id: c.id,
                    name: c.function.name,
                    arguments: c.function.arguments,
                }));
                push_parts(&mut messages, Role::Assistant, parts);
            }
            "tool" | "function" => {
                let call_id =
                    m.tool_call_id.ok_or_else(|| DecodeError::Invalid("a tool message needs tool_call_id".into()))?;
                let part =
                    Part::ToolResult { call_id, name: m.name, content: content_parts(m.content), is_error: false };
                push_parts(&mut messages, Role::User, vec![part]);
            }
            other => return Err(DecodeError::Invalid(format!("unknown message role '{other}'"))),
        }
    }
    let stop = match w.stop {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(a)) => a.into_iter().filter_map(|v| v.as_str().map(String::from)).collect(),
        _ => vec![],
    };
    Ok(Request {
        model: w.model,
        system,
        messages,
        tools: w
            .tools
            .into_iter()
            .map(|t| Tool {
                name: t.function.name,
                description: t.function.description,
                parameters: t.function.parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            })
            .collect(),
        tool_choice: w.tool_choice.as_ref().and_then(parse_tool_choice),
        parallel_tool_calls: w.parallel_tool_calls,
        max_tokens: w.max_completion_tokens.or(w.max_tokens),
        temperature: w.temperature,
        top_p: w.top_p,
        stop,
        stream: w.stream.unwrap_or(false),
        stream_usage: w
            .stream_options
            .as_ref()
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        reasoning: w
            .reasoning_effort
            .as_deref()
            .and_then(Effort::parse)
            .map(|e| Reasoning { effort: Some(e), budget_tokens: None }),
        response_format: w.response_format.as_ref().and_then(parse_response_format),
    })
}

fn user_content(parts: &[Part]) -> Value {
    if let [Part::Text(t)] = parts {
        return json!(t);
    }
    Value::Array(
        parts
            .iter()
            .filter_map(|p| match p {
                Part::Text(t) => Some(json!({"type": "text", "text": t})),
                Part::Image(img) => Some(json!({"type": "image_url", "image_url": {"url": image_to_url(img)}})),
                _ => None,
            })
            .collect(),
    )
}

pub fn encode(r: &Request) -> Value {
    let mut messages = Vec::new();
    if let Some(system) = r.system_text() {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in &r.messages {
        match m.role {
            Role::User => {
                for p in &m.parts {
                    if let Part::ToolResult { call_id, content, is_error, .. } = p {
                        let text = parts_text(content);
                        let text =
                            if *is_error && !text.starts_with("Error") { format!("Error: {text}") } else { text };
                        messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": text}));
                    }
                }
                let rest: Vec<Part> =
                    m.parts.iter().filter(|p| matches!(p, Part::Text(_) | Part::Image(_))).cloned().collect();
                if !rest.is_empty() {
                    messages.push(json!({"role": "user", "content": user_content(&rest)}));
                }
            }
            Role::Assistant => {
                let text = parts_text(&m.parts);
                let calls: Vec<Value> = m
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolCall { id, name, arguments } => Some(
                            json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}),
                        ),
                        _ => None,
                    })
                    .collect();
                let mut msg =
                    json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }});
                if !calls.is_empty() {
                    msg["tool_calls"] = Value::Array(calls);
                }
                messages.push(msg);
            }
        }
    }
    let mut out = json!({"model": r.model, "messages": messages, "stream": r.stream});
    if r.stream {
        out["stream_options"] = json!({"include_usage": true});
    }
    if !r.tools.is_empty() {
        out["tools"] = r
            .tools
            .iter()
            .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
            .collect();
    }
    if let Some(choice) = &r.tool_choice {
        out["tool_choice"] = match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Named(n) => json!({"type": "function", "function": {"name": n}}),
        };
    }
    if let Some(p) = r.parallel_tool_calls {
        out["parallel_tool_calls"] = json!(p);
    }
    if let Some(n) = r.max_tokens {
        out["max_tokens"] = json!(n);
    }
    if let Some(t) = r.temperature {
        out["temperature"] = json!(t);
    }
    if let Some(t) = r.top_p {
        out["top_p"] = json!(t);
    }
    if !r.stop.is_empty() {
        out["stop"] = json!(r.stop);
    }
    if let Some(reasoning) = &r.reasoning {
        out["reasoning_effort"] = json!(reasoning.effort().as_str());
    }
    match &r.response_format {
        Some(ResponseFormat::JsonObject) => out["response_format"] = json!({"type": "json_object"}),
        Some(ResponseFormat::JsonSchema { name, schema, strict }) => {
            out["response_format"] =
                json!({"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": strict}})
        }
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ir::Image;

    #[test]
    fn decodes_a_full_conversation() {
        let body = json!({
            "model": "p/m", "stream": true, "stream_options": {"include_usage": true}, "reasoning_effort": "high",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "42"},
                {"role": "user", "content": "thanks"}
            ],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}, "strict": true}}
        });
        let r = decode(body.to_string().as_bytes()).unwrap();
        assert_eq!(r.system, vec!["be brief"]);
        assert_eq!(r.messages.len(), 3, "tool result and next user text merge into one user turn");
        assert_eq!(
            r.messages[0].parts[1],
            Part::Image(Image::Base64 { media_type: "image/png".into(), data: "AAA".into() })
        );
        assert!(matches!(&r.messages[2].parts[0], Part::ToolResult { call_id, .. } if call_id == "c1"));
        assert_eq!(r.tool_choice, Some(ToolChoice::Named("f".into())));
        assert!(r.stream && r.stream_usage);
        assert_eq!(r.reasoning.unwrap().effort(), Effort::High);
        let again = decode(encode(&r).to_string().as_bytes()).unwrap();
        assert_eq!(again.messages, r.messages);
        assert_eq!(again.tools, r.tools);
    }

    #[test]
    fn wrong_shapes_are_invalid_not_panics() {
        assert!(decode(b"{\"model\":\"m\"}").unwrap_err().to_string().contains("messages"));
        assert!(decode(br#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#).is_err());
        assert!(decode(br#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#).is_err());
        assert!(decode(b"[").is_err());
    }
}
