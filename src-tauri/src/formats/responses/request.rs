//! Responses requests ↔ IR. `input` items: messages, function calls and their outputs,
//! reasoning; `instructions` is the system prompt.

use crate::formats::codec::{image_from_url, image_to_url, parse, parts_text, DecodeError};
use crate::formats::ir::{Effort, Part, Reasoning, Request, ResponseFormat, Role, Tool, ToolChoice};
use crate::formats::openai_chat::request::{parse_tool_choice, push_parts};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct WireRequest {
    model: String,
    input: Option<Value>,
    instructions: Option<String>,
    #[serde(default)]
    tools: Vec<Value>,
    tool_choice: Option<Value>,
    parallel_tool_calls: Option<bool>,
    max_output_tokens: Option<u32>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    stream: Option<bool>,
    reasoning: Option<Value>,
    text: Option<Value>,
}

fn message_parts(content: &Value) -> Vec<Part> {
    match content {
        Value::String(t) => vec![Part::Text(t.clone())],
        Value::Array(items) => items
            .iter()
            .filter_map(|c| match c.get("type").and_then(Value::as_str)? {
                "input_text" | "output_text" | "text" => Some(Part::Text(c.get("text")?.as_str()?.to_string())),
                "input_image" => Some(Part::Image(image_from_url(c.get("image_url")?.as_str()?))),
                "refusal" => Some(Part::Text(c.get("refusal")?.as_str()?.to_string())),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

pub fn decode(body: &[u8]) -> Result<Request, DecodeError> {
    let w: WireRequest = parse(body)?;
    let mut system: Vec<String> = w.instructions.into_iter().filter(|s| !s.is_empty()).collect();
    let mut messages = Vec::new();
    let items = match w.input {
        Some(Value::String(t)) => vec![json!({"type": "message", "role": "user", "content": t})],
        Some(Value::Array(items)) => items,
        None => vec![],
        Some(_) => return Err(DecodeError::Invalid("'input' must be a string or an array of items".into())),
    };
    for item in &items {
        let s = |k: &str| item.get(k).and_then(Value::as_str).map(String::from);
        match item.get("type").and_then(Value::as_str).unwrap_or("message") {
            "message" => {
                let parts = message_parts(item.get("content").unwrap_or(&Value::Null));
                match item.get("role").and_then(Value::as_str).unwrap_or("user") {
                    "system" | "developer" => {
                        let text = parts_text(&parts);
                        if !text.is_empty() {
                            system.push(text);
                        }
                    }
                    "assistant" => push_parts(&mut messages, Role::Assistant, parts),
                    _ => push_parts(&mut messages, Role::User, parts),
                }
            }
            "function_call" => push_parts(
                &mut messages,
                Role::Assistant,
                vec![Part::ToolCall {
                    id: s("call_id")
                        .ok_or_else(|| DecodeError::Invalid("a function_call item needs call_id".into()))?,
                    name: s("name").unwrap_or_default(),
                    arguments: s("arguments").unwrap_or_default(),
                }],
            ),
            "function_call_output" => {
                let content = match item.get("output") {
                    Some(Value::String(t)) => vec![Part::Text(t.clone())],
                    Some(v @ Value::Array(_)) => message_parts(v),
                    _ => vec![],
                };
                push_parts(
                    &mut messages,
                    Role::User,
                    vec![Part::ToolResult {
                        call_id: s("call_id")
                            .ok_or_else(|| DecodeError::Invalid("a function_call_output item needs call_id".into()))?,
                        name: None,
                        content,
                        is_error: false,
                    }],
                );
            }
            "reasoning" => {
                let text = super::summary_text(item);
                push_parts(&mut messages, Role::Assistant, vec![Part::Thinking { text, signature: None }]);
            }
            _ => {}
        }
    }
    let tools = w
        .tools
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .map(|t| Tool {
            name: t.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            description: t.get("description").and_then(Value::as_str).map(String::from),
            parameters: t.get("parameters").cloned().unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        })
        .collect();
    let reasoning = w
        .reasoning
        .as_ref()
        .and_then(|r| r.get("effort"))
        .and_then(Value::as_str)
        .and_then(Effort::parse)
        .map(|e| Reasoning { effort: Some(e), budget_tokens: None });
    let response_format =
        w.text.as_ref().and_then(|t| t.get("format")).and_then(|f| match f.get("type").and_then(Value::as_str) {
            Some("json_object") => Some(ResponseFormat::JsonObject),
            Some("json_schema") => Some(ResponseFormat::JsonSchema {
                name: f.get("name").and_then(Value::as_str).unwrap_or("response").to_string(),
                schema: f.get("schema").cloned().unwrap_or(json!({})),
                strict: f.get("strict").and_then(Value::as_bool),
            }),
            _ => None,
        });
    Ok(Request {
        model: w.model,
        system,
        messages,
        tools,
        tool_choice: w.tool_choice.as_ref().and_then(parse_tool_choice),
        parallel_tool_calls: w.parallel_tool_calls,
        max_tokens: w.max_output_tokens,
        temperature: w.temperature,
        top_p: w.top_p,
        stop: vec![],
        stream: w.stream.unwrap_or(false),
        stream_usage: true,
        reasoning,
        response_format,
    })
}

pub fn encode(r: &Request) -> Value {
    let mut input = Vec::new();
    for m in &r.messages {
        let mut content = Vec::new();
        let flush = |content: &mut Vec<Value>, input: &mut Vec<Value>| {
            if !content.is_empty() {
                let role = if m.role == Role::User { "user" } else { "assistant" };
                input.push(json!({"type": "message", "role": role, "content": std::mem::take(content)}));
            }
        };
        for p in &m.parts {
            match p {
                Part::Text(t) if m.role == Role::User => content.push(json!({"type": "input_text", "text": t})),
                Part::Text(t) => content.push(json!({"type": "output_text", "text": t})),
                Part::Image(img) => content.push(json!({"type": "input_image", "image_url": image_to_url(img)})),
                Part::ToolCall { id, name, arguments } => {
                    flush(&mut content, &mut input);
                    input.push(json!({"type": "function_call", "call_id": id, "name": name, "arguments": arguments}));
                }
                Part::ToolResult { call_id, content: result, .. } => {
                    flush(&mut content, &mut input);
                    input.push(
                        json!({"type": "function_call_output", "call_id": call_id, "output": parts_text(result)}),
                    );
                }
                Part::Thinking { .. } | Part::RedactedThinking { .. } => {}
            }
        }
        flush(&mut content, &mut input);
    }
    let mut out = json!({"model": r.model, "input": input, "stream": r.stream, "store": false});
    if let Some(system) = r.system_text() {
        out["instructions"] = json!(system);
    }
    if !r.tools.is_empty() {
        out["tools"] = r
            .tools
            .iter()
            .map(|t| json!({"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters}))
            .collect();
    }
    if let Some(choice) = &r.tool_choice {
        out["tool_choice"] = match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Named(n) => json!({"type": "function", "name": n}),
        };
    }
    if let Some(p) = r.parallel_tool_calls {
        out["parallel_tool_calls"] = json!(p);
    }
    if let Some(n) = r.max_tokens {
        out["max_output_tokens"] = json!(n);
    }
    if let Some(t) = r.temperature {
        out["temperature"] = json!(t);
    }
    if let Some(t) = r.top_p {
        out["top_p"] = json!(t);
    }
    if let Some(reasoning) = &r.reasoning {
        out["reasoning"] = json!({"effort": reasoning.effort().as_str(), "summary": "auto"});
    }
    match &r.response_format {
        Some(ResponseFormat::JsonObject) => out["text"] = json!({"format": {"type": "json_object"}}),
        Some(ResponseFormat::JsonSchema { name, schema, strict }) => {
            out["text"] = json!({"format": {"type": "json_schema", "name": name, "schema": schema, "strict": strict}})
        }
        None => {}
    }
    out
}
