//! Chat Completions streams: chunks → IR events (`Decoder`), IR events → chunks (`Encoder`).

use super::{parse_stop_reason, parse_usage, stop_reason_str, usage_json};
use crate::formats::codec::{now_unix, write_sse, DecodeError, SseEvent};
use crate::formats::ir::{StopReason, StreamEvent, Usage};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Decoder {
    started: bool,
    /// Upstream tool-call index → whether its start was emitted.
    tools_started: Vec<usize>,
}

impl Decoder {
    pub fn event(&mut self, e: &SseEvent) -> Result<Vec<StreamEvent>, DecodeError> {
        let data = e.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(vec![]);
        }
        let v: Value = serde_json::from_str(data).map_err(|e| DecodeError::Json(e.to_string()))?;
        let mut out = Vec::new();
        if let Some(err) = v.get("error") {
            let message = err.get("message").and_then(Value::as_str).unwrap_or("upstream error").to_string();
            return Ok(vec![StreamEvent::Error { message }]);
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: v.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
                model: v.get("model").and_then(Value::as_str).unwrap_or_default().to_string(),
            });
        }
        if let Some(choice) = v.pointer("/choices/0") {
            let delta = choice.get("delta").unwrap_or(&Value::Null);
            if let Some(t) = delta.get("reasoning_content").or_else(|| delta.get("reasoning")).and_then(Value::as_str) {
                if !t.is_empty() {
                    out.push(StreamEvent::ThinkingDelta(t.to_string()));
                }
            }
            if let Some(t) = delta.get("content").and_then(Value::as_str) {
                if !t.is_empty() {
                    out.push(StreamEvent::TextDelta(t.to_string()));
                }
            }
            for call in delta.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
                let index = call.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
                if !self.tools_started.contains(&index) {
                    self.tools_started.push(index);
                    out.push(StreamEvent::ToolCallStart {
                        index,
                        id: call.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
                        name: call.pointer("/function/name").and_then(Value::as_str).unwrap_or_default().to_string(),
                    });
                }
                if let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str) {
                    if !args.is_empty() {
                        out.push(StreamEvent::ToolCallDelta { index, arguments: args.to_string() });
                    }
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                out.push(StreamEvent::Finish(parse_stop_reason(reason)));
            }
        }
        if let Some(usage) = v.get("usage").filter(|u| u.is_object()) {
            out.push(StreamEvent::Usage(parse_usage(usage)));
        }
        Ok(out)
    }
}

pub struct Encoder {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    usage: Option<Usage>,
    finished: bool,
}

impl Encoder {
    /// `include_usage`: the client asked for `stream_options.include_usage`.
    pub fn new(model: &str, include_usage: bool) -> Self {
        Self {
            id: String::new(),
            model: model.to_string(),
            created: now_unix(),
            include_usage,
            usage: None,
            finished: false,
        }
    }

    fn chunk(&self, out: &mut Vec<u8>, delta: Value, finish: Option<StopReason>) {
        let mut c = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish.map(stop_reason_str)}],
        });
        if self.include_usage {
            c["usage"] = Value::Null;
        }
        write_sse(out, None, &c);
    }

    pub fn event(&mut self, e: StreamEvent, out: &mut Vec<u8>) {
        match e {
            StreamEvent::Start { id, .. } => {
                self.id = if id.is_empty() { crate::formats::ir::new_id("chatcmpl-") } else { id };
                self.chunk(out, json!({"role": "assistant", "content": ""}), None);
            }
            StreamEvent::TextDelta(t) => self.chunk(out, json!({"content": t}), None),
            StreamEvent::ThinkingDelta(t) => self.chunk(out, json!({"reasoning_content": t}), None),
            StreamEvent::ThinkingSignature(_) | StreamEvent::RedactedThinking(_) => {}
            StreamEvent::ToolCallStart { index, id, name } => self.chunk(
                out,
                json!({"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
                None,
            ),
            StreamEvent::ToolCallDelta { index, arguments } => {
                self.chunk(out, json!({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]}), None)
            }
            StreamEvent::Usage(u) => self.usage.get_or_insert_with(Usage::default).merge(u),
            StreamEvent::Finish(stop) => {
                if !self.finished {
                    self.finished = true;
                    self.chunk(out, json!({}), Some(stop));
                }
            }
            StreamEvent::Error { message } => {
                write_sse(out, None, &json!({"error": {"message": message, "type": "upstream_error", "param": null, "code": null}}))
            }
        }
    }

    /// Ends the stream: a final usage chunk when the client asked for one, then `[DONE]`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.finished {
            self.finished = true;
            self.chunk(out, json!({}), Some(StopReason::EndTurn));
        }
        if self.include_usage {
            let u = self.usage.unwrap_or_default();
            let c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model, "choices": [], "usage": usage_json(&u)});
            write_sse(out, None, &c);
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
    }
}
