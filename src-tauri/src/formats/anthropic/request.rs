//! Messages requests ↔ IR.

use crate::formats::codec::{arguments_value, parse, parts_text, DecodeError};
use crate::formats::ir::{Image, Part, Reasoning, Request, ResponseFormat, Role, Tool, ToolChoice};
use crate::formats::openai_chat::request::push_parts;
use serde::Deserialize;
use serde_json::{json, Value};

/// Used when a client of another format set no limit: Anthropic requires one.
pub const DEFAULT_MAX_TOKENS: u32 = 8192;

#[derive(Deserialize)]
struct WireRequest {
    model: String,
    messages: Vec<WireMessage>,
    system: Option<Content>,
    #[serde(default)]
    tools: Vec<Value>,
    tool_choice: Option<Value>,
    max_tokens: Option<u32>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    #[serde(default)]
    stop_sequences: Vec<String>,
    stream: Option<bool>,
    thinking: Option<Value>,
    output_format: Option<Value>,
}

#[derive(Deserialize)]
struct WireMessage {
    role: String,
    content: Content,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Blocks(Vec<Value>),
}

fn image(source: &Value) -> Option<Image> {
    match source.get("type").and_then(Value::as_str)? {
        "base64" => Some(Image::Base64 {
            media_type: source.get("media_type").and_then(Value::as_str).unwrap_or("image/png").to_string(),
            data: source.get("data").and_then(Value::as_str)?.to_string(),
        }),
        "url" => Some(Image::Url(source.get("url").and_then(Value::as_str)?.to_string())),
        _ => None,
    }
}

fn block_part(b: &Value) -> Result<Option<Part>, DecodeError> {
    let s = |k: &str| b.get(k).and_then(Value::as_str).map(String::from);
    let part = match b.get("type").and_then(Value::as_str).unwrap_or("") {
        "text" => s("text").map(Part::Text),
        "image" => b.get("source").and_then(image).map(Part::Image),
        "thinking" => Some(Part::Thinking { text: s("thinking").unwrap_or_default(), signature: s("signature") }),
        "redacted_thinking" => s("data").map(|data| Part::RedactedThinking { data }),
        "tool_use" => Some(Part::ToolCall {
            id: s("id").ok_or_else(|| DecodeError::Invalid("a tool_use block needs an id".into()))?,
            name: s("name").unwrap_or_default(),
            arguments: b.get("input").map(Value::to_string).unwrap_or_else(|| "{}".into()),
        }),
        "tool_result" => {
            let content = match b.get("content") {
                Some(Value::String(t)) => vec![Part::Text(t.clone())],
                Some(Value::Array(blocks)) => blocks.iter().filter_map(|b| block_part(b).ok().flatten()).collect(),
                _ => vec![],
            };
            Some(Part::ToolResult {
                call_id: s("tool_use_id")
                    .ok_or_else(|| DecodeError::Invalid("a tool_result block needs tool_use_id".into()))?,
                name: None,
                content,
                is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
            })
        }
        _ => None,
    };
    Ok(part)
}

fn content_parts(c: Content) -> Result<Vec<Part>, DecodeError> {
    match c {
        Content::Text(t) => Ok(vec![Part::Text(t)]),
        Content::Blocks(blocks) => {
            Ok(blocks.iter().map(block_part).collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect())
        }
    }
}

pub fn decode(body: &[u8]) -> Result<Request, DecodeError> {
    let w: WireRequest = parse(body)?;
    let mut system = match w.system {
        None => vec![],
        Some(c) => {
            let text = parts_text(&content_parts(c)?);
            if text.is_empty() {
                vec![]
            } else {
                vec![text]
            }
        }
    };
    let mut messages = Vec::new();
    for m in w.messages {
        let role = match m.role.as_str() {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            // Claude Code (2.1+) sends system messages among the turns (the environment, its
            // reminders). The IR has one system prompt: their text joins it, in order.
            "system" => {
                let text = parts_text(&content_parts(m.content)?);
                if !text.is_empty() {
                    system.push(text);
                }
                continue;
            }
            other => return Err(DecodeError::Invalid(format!("unknown message role '{other}'"))),
        };
        push_parts(&mut messages, role, content_parts(m.content)?);
    }
    let tools = w
        .tools
        .iter()
        .filter(|t| t.get("input_schema").is_some() || t.get("type").is_none_or(|ty| ty == "custom"))
        .map(|t| Tool {
            name: t.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            description: t.get("description").and_then(Value::as_str).map(String::from),
            parameters: t.get("input_schema").cloned().unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        })
        .collect();
    let (tool_choice, parallel_tool_calls) = match &w.tool_choice {
        Some(tc) => {
            let choice = match tc.get("type").and_then(Value::as_str) {
                Some("auto") => Some(ToolChoice::Auto),
                Some("any") => Some(ToolChoice::Required),
                Some("none") => Some(ToolChoice::None),
                Some("tool") => tc.get("name").and_then(Value::as_str).map(|n| ToolChoice::Named(n.into())),
                _ => None,
            };
            (choice, tc.get("disable_parallel_tool_use").and_then(Value::as_bool).map(|d| !d))
        }
        None => (None, None),
    };
    let reasoning = w.thinking.as_ref().and_then(|t| match t.get("type").and_then(Value::as_str) {
        Some("enabled") => Some(Reasoning {
            effort: None,
            budget_tokens: Some(t.get("budget_tokens").and_then(Value::as_u64).unwrap_or(8192) as u32),
        }),
        Some("adaptive") => Some(Reasoning::default()),
        _ => None,
    });
    let response_format = w.output_format.as_ref().and_then(|f| match f.get("type").and_then(Value::as_str) {
        Some("json_schema") => Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            schema: f.get("schema").cloned().unwrap_or(json!({})),
            strict: Some(true),
        }),
        _ => None,
    });
    Ok(Request {
        model: w.model,
        system,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls,
        max_tokens: w.max_tokens,
        temperature: w.temperature,
        top_p: w.top_p,
        stop: w.stop_sequences,
        stream: w.stream.unwrap_or(false),
        stream_usage: true,
        reasoning,
        response_format,
    })
}

fn encode_part(p: &Part) -> Option<Value> {
    Some(match p {
        Part::Text(t) if t.is_empty() => return None,
        Part::Text(t) => json!({"type": "text", "text": t}),
        Part::Image(Image::Base64 { media_type, data }) => {
            json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}})
        }
        Part::Image(Image::Url(url)) => json!({"type": "image", "source": {"type": "url", "url": url}}),
        // Anthropic verifies thinking by its signature: unsigned thinking (from another
        // provider) cannot be sent back and is dropped.
        Part::Thinking { text, signature: Some(sig) } => {
            json!({"type": "thinking", "thinking": text, "signature": sig})
        }
        Part::Thinking { signature: None, .. } => return None,
        Part::RedactedThinking { data } => json!({"type": "redacted_thinking", "data": data}),
        Part::ToolCall { id, name, arguments } => {
            json!({"type": "tool_use", "id": id, "name": name, "input": arguments_value(arguments)})
        }
        Part::ToolResult { call_id, content, is_error, .. } => {
            let blocks: Vec<Value> = content.iter().filter_map(encode_part).collect();
            json!({"type": "tool_result", "tool_use_id": call_id, "content": blocks, "is_error": is_error})
        }
    })
}

pub fn encode(r: &Request) -> Value {
    let messages: Vec<Value> = r
        .messages
        .iter()
        .filter_map(|m| {
            let content: Vec<Value> = m.parts.iter().filter_map(encode_part).collect();
            (!content.is_empty())
                .then(|| json!({"role": if m.role == Role::User { "user" } else { "assistant" }, "content": content}))
        })
        .collect();
    let mut max_tokens = r.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    let mut out = json!({"model": r.model, "messages": messages, "stream": r.stream});
    let mut system = r.system.clone();
    if let Some(format) = &r.response_format {
        system.push(match format {
            ResponseFormat::JsonObject => "Answer with a single JSON object and nothing else.".to_string(),
            ResponseFormat::JsonSchema { schema, .. } => {
                format!("Answer with a single JSON object that matches this JSON Schema, and nothing else:\n{schema}")
            }
        });
    }
    if !system.is_empty() {
        out["system"] = json!(system.join("\n\n"));
    }
    if !r.tools.is_empty() {
        out["tools"] = r
            .tools
            .iter()
            .map(|t| {
                let mut tool = json!({"name": t.name, "input_schema": t.parameters});
                if let Some(d) = &t.description {
                    tool["description"] = json!(d);
                }
                tool
            })
            .collect();
        let mut choice = match &r.tool_choice {
            Some(ToolChoice::Required) => json!({"type": "any"}),
            Some(ToolChoice::None) => json!({"type": "none"}),
            Some(ToolChoice::Named(n)) => json!({"type": "tool", "name": n}),
            Some(ToolChoice::Auto) | None => json!({"type": "auto"}),
        };
        if r.parallel_tool_calls == Some(false) {
            choice["disable_parallel_tool_use"] = json!(true);
        }
        out["tool_choice"] = choice;
    }
    if let Some(reasoning) = &r.reasoning {
        let budget = reasoning.budget().max(1024);
        if max_tokens <= budget {
            max_tokens = budget + DEFAULT_MAX_TOKENS / 2;
        }
        out["thinking"] = json!({"type": "enabled", "budget_tokens": budget});
    } else if let Some(t) = r.temperature {
        // Anthropic accepts no temperature other than 1 with thinking on.
        out["temperature"] = json!(t.min(1.0));
    }
    out["max_tokens"] = json!(max_tokens);
    if let Some(p) = r.top_p.filter(|_| r.reasoning.is_none()) {
        out["top_p"] = json!(p);
    }
    if !r.stop.is_empty() {
        out["stop_sequences"] = json!(r.stop);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ir::Message;

    #[test]
    fn decodes_blocks_tools_and_thinking() {
        let body = json!({
            "model": "m", "max_tokens": 100, "system": [{"type": "text", "text": "sys"}],
            "thinking": {"type": "enabled", "budget_tokens": 2000},
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "let me see", "signature": "EqQBCgIYAhIM=="},
                    {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok", "is_error": true}]}
            ],
            "tools": [{"name": "f", "input_schema": {"type": "object"}}, {"type": "web_search_20250305", "name": "web_search"}],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true}
        });
        let r = decode(body.to_string().as_bytes()).unwrap();
        assert_eq!(r.system, vec!["sys"]);
        assert_eq!(r.tools.len(), 1, "server tools are not translatable");
        assert_eq!(r.tool_choice, Some(ToolChoice::Required));
        assert_eq!(r.parallel_tool_calls, Some(false));
        assert_eq!(r.reasoning.unwrap().budget(), 2000);
        let encoded = encode(&r);
        assert_eq!(
            encoded["messages"][1]["content"][0]["signature"], "EqQBCgIYAhIM==",
            "signatures survive byte-exact"
        );
        assert_eq!(encoded["messages"][1]["content"][1]["input"], json!({"a": 1}));
        assert_eq!(encoded["messages"][2]["content"][0]["is_error"], true);
        assert_eq!(encoded["thinking"]["budget_tokens"], 2000);
        assert!(encoded["max_tokens"].as_u64().unwrap() > 2000);
    }

    #[test]
    fn system_messages_among_the_turns_join_the_system_prompt() {
        let body = br#"{"model":"m","max_tokens":10,"system":[{"type":"text","text":"You are an agent."}],
            "messages":[{"role":"user","content":"hi"},{"role":"system","content":[{"type":"text","text":"Environment: linux"}]}]}"#;
        let r = decode(body).unwrap();
        assert_eq!(r.system, vec!["You are an agent.".to_string(), "Environment: linux".to_string()]);
        assert_eq!(r.messages.len(), 1);
        assert!(decode(br#"{"model":"m","max_tokens":1,"messages":[{"role":"robot","content":"x"}]}"#).is_err());
    }

    #[test]
    fn unsigned_thinking_is_dropped_not_faked() {
        let r = Request {
            model: "m".into(),
            messages: vec![Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Thinking { text: "from elsewhere".into(), signature: None },
                    Part::Text("answer".into()),
                ],
            }],
            ..Default::default()
        };
        let encoded = encode(&r);
        assert_eq!(encoded["messages"][0]["content"], json!([{"type": "text", "text": "answer"}]));
    }
}
