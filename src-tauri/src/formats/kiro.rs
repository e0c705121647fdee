//! Kiro's chat API (CodeWhisperer's `generateAssistantResponse`): an IR request as its
//! conversation state (the history of user and assistant turns, the current user message with
//! its tools and tool results), and its answer, an AWS event stream whose frames
//! (`assistantResponseEvent`, `toolUseEvent`, …) become IR stream events, an opening
//! `<thinking>` block as reasoning (`kiro_thinking`). The frames reach the
//! decoder as `SseEvent`s: the event type as the name, the JSON payload as the data.

use super::codec::{DecodeError, SseEvent};
use super::ir::{Message, Part, Request, Role, StopReason, StreamEvent};
use super::kiro_shape::{self, texts};
use super::kiro_thinking::{self, ThinkingSplitter};
use serde_json::{json, Value};
use std::collections::HashMap;

fn tool_results(parts: &[Part]) -> Vec<Value> {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolResult { call_id, content, is_error, .. } => Some(json!({
                "toolUseId": call_id,
                "content": [{"text": texts(content)}],
                "status": if *is_error { "error" } else { "success" },
            })),
            _ => None,
        })
        .collect()
}

fn user_message(m: &Message, model_id: &str, extra_text: Option<&str>) -> Value {
    let mut content = texts(&m.parts);
    if let Some(extra) = extra_text.filter(|e| !e.is_empty()) {
        content = if content.is_empty() { extra.to_string() } else { format!("{extra}\n\n{content}") };
    }
    let results = tool_results(&m.parts);
    let images = kiro_shape::images(&m.parts);
    if content.is_empty() {
        // Kiro refuses an empty message; a turn of tool results or images says so.
        content = match (results.is_empty(), images.is_empty()) {
            (false, _) => "Tool results are attached.".into(),
            (true, false) => "See the attached image.".into(),
            (true, true) => "Continue".into(),
        };
    }
    let mut message = json!({"content": content, "modelId": model_id, "origin": "AI_EDITOR"});
    if !images.is_empty() {
        message["images"] = Value::Array(images);
    }
    if !results.is_empty() {
        message["userInputMessageContext"] = json!({"toolResults": results});
    }
    message
}

fn assistant_message(m: &Message) -> Value {
    let tool_uses: Vec<Value> = m
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall { id, name, arguments } => Some(json!({
                "toolUseId": id,
                "name": name,
                "input": serde_json::from_str::<Value>(arguments).unwrap_or_else(|_| json!({})),
            })),
            _ => None,
        })
        .collect();
    let mut content = kiro_thinking::written_back(&m.parts) + &texts(&m.parts);
    if content.is_empty() {
        // Kiro refuses an empty assistant turn too.
        content = if tool_uses.is_empty() { "(empty)".into() } else { " ".into() };
    }
    let mut message = json!({"content": content});
    if !tool_uses.is_empty() {
        message["toolUses"] = Value::Array(tool_uses);
    }
    message
}

/// The `generateAssistantResponse` body for `request` on `model_id`, its conversation and
/// tools shaped as Kiro takes them (`kiro_shape`). The system prompt goes before the first
/// user message's text (Kiro has no system field), after the tags that turn reasoning on when
/// the request asks for it.
pub fn encode_request(request: &Request, model_id: &str, profile_arn: Option<&str>, conversation_id: &str) -> Value {
    let system = match (request.reasoning.as_ref().map(kiro_thinking::mode_tags), request.system_text()) {
        (Some(tags), Some(system)) => Some(format!("{tags}\n\n{system}")),
        (tags, system) => tags.or(system),
    };
    let turns = kiro_shape::conversation(&request.messages);
    let mut messages: Vec<&Message> = turns.iter().collect();
    // The current message is the last user turn; an answer to continue gets an empty one.
    let current = match messages.last() {
        Some(m) if m.role == Role::User => messages.pop(),
        _ => None,
    };
    let mut history = Vec::with_capacity(messages.len());
    let mut system_used = false;
    for m in &messages {
        match m.role {
            Role::User => {
                let extra = (!system_used).then_some(system.as_deref()).flatten();
                system_used = true;
                history.push(json!({"userInputMessage": user_message(m, model_id, extra)}));
            }
            Role::Assistant => history.push(json!({"assistantResponseMessage": assistant_message(m)})),
        }
    }
    let empty = Message { role: Role::User, parts: vec![] };
    let extra = (!system_used).then_some(system.as_deref()).flatten();
    let mut current = user_message(current.unwrap_or(&empty), model_id, extra);
    let tools = kiro_shape::tools(&request.tools, &turns);
    if !tools.is_empty() {
        current["userInputMessageContext"]["tools"] = Value::Array(tools);
    }
    let mut body = json!({
        "conversationState": {
            "chatTriggerType": "MANUAL",
            "conversationId": conversation_id,
            "currentMessage": {"userInputMessage": current},
            "history": history,
        }
    });
    if let Some(arn) = profile_arn {
        body["profileArn"] = json!(arn);
    }
    body
}

/// Kiro's answer frames as IR events.
#[derive(Debug, Default)]
pub struct Decoder {
    started: bool,
    /// Tool use id → the index of its call in this answer.
    tools: HashMap<String, usize>,
    /// The answer's opening `<thinking>` block, told as reasoning.
    thinking: ThinkingSplitter,
    finished: bool,
}

impl Decoder {
    pub fn event(&mut self, e: &SseEvent) -> Result<Vec<StreamEvent>, DecodeError> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start { id: super::ir::new_id("msg"), model: String::new() });
        }
        let failure = matches!(e.event.as_str(), "exception" | "error");
        let data: Value = match serde_json::from_str(&e.data) {
            Ok(v) => v,
            Err(_) if e.data.trim().is_empty() => Value::Null,
            // An exception frame's payload may be its message as plain text.
            Err(_) if failure => json!({"message": e.data.trim()}),
            Err(err) => return Err(DecodeError::from_serde(err)),
        };
        match e.event.as_str() {
            "assistantResponseEvent" => {
                if let Some(text) = data.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                    out.extend(self.thinking.push(text));
                }
            }
            "toolUseEvent" => {
                let id = data.get("toolUseId").and_then(Value::as_str).unwrap_or_default().to_string();
                let next = self.tools.len();
                let index = match self.tools.get(&id) {
                    Some(i) => *i,
                    None => {
                        out.extend(self.thinking.finish());
                        self.tools.insert(id.clone(), next);
                        let name = data.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                        out.push(StreamEvent::ToolCallStart { index: next, id, name });
                        next
                    }
                };
                let input = match data.get("input") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                if !input.is_empty() {
                    out.push(StreamEvent::ToolCallDelta { index, arguments: input });
                }
            }
            "exception" | "error" | "internalServerException" | "throttlingException" | "validationException" => {
                let message = data
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("Kiro sent {}", e.event), str::to_string);
                out.push(StreamEvent::Error { message });
            }
            "metadataEvent" => {
                if let Some(t) = data.get("tokenUsage") {
                    let n = |k: &str| t.get(k).and_then(Value::as_u64).unwrap_or(0);
                    let (cache_read, cache_write) = (n("cacheReadInputTokens"), n("cacheWriteInputTokens"));
                    out.push(StreamEvent::Usage(super::ir::Usage {
                        input: n("uncachedInputTokens") + cache_read + cache_write,
                        output: n("outputTokens"),
                        cache_read,
                        cache_write,
                        reasoning: 0,
                    }));
                }
            }
            // Metering (credits) and context usage carry no tokens the client counts.
            _ => {}
        }
        Ok(out)
    }

    /// The last events once the stream has ended.
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        if self.finished {
            return vec![];
        }
        self.finished = true;
        let stop = if self.tools.is_empty() { StopReason::EndTurn } else { StopReason::ToolUse };
        let mut out = self.thinking.finish();
        out.push(StreamEvent::Finish(stop));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ir::Tool;

    #[test]
    fn a_conversation_becomes_history_and_a_current_message() {
        let request = Request {
            system: vec!["be brief".into()],
            messages: vec![
                Message { role: Role::User, parts: vec![Part::Text("weather?".into())] },
                Message {
                    role: Role::Assistant,
                    parts: vec![Part::ToolCall {
                        id: "t1".into(),
                        name: "get".into(),
                        arguments: "{\"city\":\"Paris\"}".into(),
                    }],
                },
                Message {
                    role: Role::User,
                    parts: vec![Part::ToolResult {
                        call_id: "t1".into(),
                        name: None,
                        content: vec![Part::Text("sunny".into())],
                        is_error: false,
                    }],
                },
            ],
            tools: vec![Tool { name: "get".into(), description: None, parameters: json!({"type": "object"}) }],
            ..Default::default()
        };
        let body = encode_request(&request, "claude-sonnet-4.5", Some("arn:x"), "c1");
        let state = &body["conversationState"];
        assert_eq!(state["history"][0]["userInputMessage"]["content"], "be brief\n\nweather?");
        assert_eq!(state["history"][1]["assistantResponseMessage"]["toolUses"][0]["input"]["city"], "Paris");
        let current = &state["currentMessage"]["userInputMessage"];
        assert_eq!(current["userInputMessageContext"]["toolResults"][0]["content"][0]["text"], "sunny");
        assert_eq!(current["userInputMessageContext"]["tools"][0]["toolSpecification"]["name"], "get");
        assert_eq!(
            (current["modelId"].as_str(), body["profileArn"].as_str()),
            (Some("claude-sonnet-4.5"), Some("arn:x"))
        );
    }

    #[test]
    fn frames_become_text_and_tool_calls() {
        let mut d = Decoder::default();
        let ev = |event: &str, data: &str| SseEvent { event: event.into(), data: data.into() };
        let mut events = d.event(&ev("assistantResponseEvent", r#"{"content":"Let me check."}"#)).unwrap();
        events.extend(d.event(&ev("toolUseEvent", r#"{"toolUseId":"t1","name":"get","input":"{\"ci"}"#)).unwrap());
        events.extend(d.event(&ev("toolUseEvent", r#"{"toolUseId":"t1","name":"get","input":"ty\":1}"}"#)).unwrap());
        events.extend(d.event(&ev("toolUseEvent", r#"{"toolUseId":"t1","name":"get","stop":true}"#)).unwrap());
        events.extend(d.event(&ev("meteringEvent", r#"{"unit":"credit","usage":0.1}"#)).unwrap());
        let usage = r#"{"tokenUsage":{"uncachedInputTokens":10,"outputTokens":7,"cacheReadInputTokens":90,"cacheWriteInputTokens":0}}"#;
        events.extend(d.event(&ev("metadataEvent", usage)).unwrap());
        let thrown = d.event(&ev("exception", "ThrottlingException")).unwrap();
        assert_eq!(thrown, vec![StreamEvent::Error { message: "ThrottlingException".into() }]);
        events.extend(d.finish());
        let mut b = crate::formats::ir::ResponseBuilder::default();
        for e in events {
            b.push(e);
        }
        let r = b.response;
        assert_eq!(r.parts[0], Part::Text("Let me check.".into()));
        assert_eq!(
            r.parts[1],
            Part::ToolCall { id: "t1".into(), name: "get".into(), arguments: "{\"city\":1}".into() }
        );
        assert_eq!(r.stop, StopReason::ToolUse);
        assert_eq!((r.usage.input, r.usage.output, r.usage.cache_read), (100, 7, 90));
    }
}
