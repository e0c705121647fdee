//! streamGenerateContent: chunks → IR (`Decoder`), IR → chunks (`Encoder`). Gemini sends a
//! function call whole, so the encoder gathers a call's argument deltas and emits it complete.
//! The encoder writes SSE (`?alt=sse`, what the SDKs use) or Gemini's streamed JSON array.

use super::response::candidate_parts;
use super::{finish_reason_str, parse_finish_reason, parse_usage, usage_json};
use crate::formats::codec::{arguments_value, write_sse, DecodeError, SseEvent};
use crate::formats::ir::{Part, StopReason, StreamEvent, Usage};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Decoder {
    started: bool,
    calls: usize,
}

impl Decoder {
    pub fn event(&mut self, e: &SseEvent) -> Result<Vec<StreamEvent>, DecodeError> {
        if e.data.trim().is_empty() {
            return Ok(vec![]);
        }
        let v: Value = serde_json::from_str(&e.data).map_err(|e| DecodeError::Json(e.to_string()))?;
        let mut out = Vec::new();
        if let Some(err) = v.get("error") {
            return Ok(vec![StreamEvent::Error {
                message: err.get("message").and_then(Value::as_str).unwrap_or("upstream error").to_string(),
            }]);
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: v.get("responseId").and_then(Value::as_str).unwrap_or_default().to_string(),
                model: v.get("modelVersion").and_then(Value::as_str).unwrap_or_default().to_string(),
            });
        }
        if let Some(candidate) = v.pointer("/candidates/0") {
            let mut next_call = self.calls;
            for part in candidate_parts(candidate, &mut self.calls) {
                match part {
                    Part::Text(t) => out.push(StreamEvent::TextDelta(t)),
                    Part::Thinking { text, .. } => out.push(StreamEvent::ThinkingDelta(text)),
                    Part::ToolCall { id, name, arguments } => {
                        let index = next_call;
                        next_call += 1;
                        out.push(StreamEvent::ToolCallStart { index, id, name });
                        out.push(StreamEvent::ToolCallDelta { index, arguments });
                    }
                    _ => {}
                }
            }
            if let Some(u) = v.get("usageMetadata") {
                out.push(StreamEvent::Usage(parse_usage(u)));
            }
            if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
                out.push(StreamEvent::Finish(parse_finish_reason(reason, self.calls > 0)));
            }
        } else if let Some(u) = v.get("usageMetadata") {
            out.push(StreamEvent::Usage(parse_usage(u)));
        }
        Ok(out)
    }
}

pub struct Encoder {
    model: String,
    id: String,
    sse: bool,
    chunks: usize,
    /// Tool calls being gathered: (IR index, name, arguments).
    calls: Vec<(usize, String, String)>,
    usage: Usage,
    stop: StopReason,
    failed: bool,
}

impl Encoder {
    /// `sse`: the client asked `?alt=sse`; otherwise the answer is a streamed JSON array.
    pub fn new(model: &str, sse: bool) -> Self {
        Self {
            model: model.to_string(),
            id: String::new(),
            sse,
            chunks: 0,
            calls: vec![],
            usage: Usage::default(),
            stop: StopReason::EndTurn,
            failed: false,
        }
    }

    fn chunk(&mut self, out: &mut Vec<u8>, mut value: Value) {
        value["modelVersion"] = json!(self.model);
        if !self.id.is_empty() {
            value["responseId"] = json!(self.id);
        }
        if self.sse {
            write_sse(out, None, &value);
        } else {
            out.extend_from_slice(if self.chunks == 0 { b"[" } else { b",\r\n" });
            let _ = serde_json::to_writer(&mut *out, &value);
        }
        self.chunks += 1;
    }

    fn parts_chunk(&mut self, out: &mut Vec<u8>, parts: Vec<Value>) {
        self.chunk(out, json!({"candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}]}));
    }

    pub fn event(&mut self, e: StreamEvent, out: &mut Vec<u8>) {
        match e {
            StreamEvent::Start { id, .. } => self.id = id,
            StreamEvent::TextDelta(t) => self.parts_chunk(out, vec![json!({"text": t})]),
            StreamEvent::ThinkingDelta(t) => self.parts_chunk(out, vec![json!({"text": t, "thought": true})]),
            StreamEvent::ThinkingSignature(_) | StreamEvent::RedactedThinking(_) => {}
            StreamEvent::ToolCallStart { index, name, .. } => self.calls.push((index, name, String::new())),
            StreamEvent::ToolCallDelta { index, arguments } => {
                if let Some(call) = self.calls.iter_mut().find(|c| c.0 == index) {
                    call.2.push_str(&arguments);
                }
            }
            StreamEvent::Usage(u) => self.usage.merge(u),
            StreamEvent::Finish(stop) => self.stop = stop,
            StreamEvent::Error { message } => {
                self.failed = true;
                self.chunk(out, super::error_json(500, &message));
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.failed {
            let parts: Vec<Value> = std::mem::take(&mut self.calls)
                .into_iter()
                .map(|(_, name, args)| json!({"functionCall": {"name": name, "args": arguments_value(&args)}}))
                .collect();
            let mut candidate = json!({"content": {"role": "model", "parts": parts}, "finishReason": finish_reason_str(self.stop), "index": 0});
            if candidate["content"]["parts"].as_array().is_some_and(Vec::is_empty) {
                candidate["content"]["parts"] = json!([{"text": ""}]);
            }
            let usage = usage_json(&self.usage);
            self.chunk(out, json!({"candidates": [candidate], "usageMetadata": usage}));
        }
        if !self.sse {
            out.extend_from_slice(if self.chunks == 0 { b"[]" } else { b"]" });
        }
    }
}
