//! Messages streams: events → IR (`Decoder`), IR → events (`Encoder`). The encoder keeps
//! Anthropic's content-block discipline: a block is started, receives deltas, and is stopped
//! before the next begins.

use super::{error_json, parse_stop_reason, parse_usage, stop_reason_str, usage_json};
use crate::formats::codec::{write_sse, DecodeError, SseEvent};
use crate::formats::ir::{new_id, StopReason, StreamEvent, Usage};
use serde::Deserialize;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::HashMap;

#[derive(Default)]
pub struct Decoder {
    /// Anthropic block index → IR tool-call index.
    tool_blocks: HashMap<u64, usize>,
}

/// An event, read with borrowed strings; the rarer parts stay JSON values.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    index: Option<u64>,
    #[serde(borrow)]
    delta: Option<Delta<'a>>,
    content_block: Option<Value>,
    message: Option<Value>,
    usage: Option<Value>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow)]
    stop_reason: Option<Cow<'a, str>>,
}

fn owned(s: Option<Cow<'_, str>>) -> String {
    s.map(Cow::into_owned).unwrap_or_default()
}

impl Decoder {
    pub fn event(&mut self, e: &SseEvent) -> Result<Vec<StreamEvent>, DecodeError> {
        if e.data.trim().is_empty() {
            return Ok(vec![]);
        }
        let v: Event = serde_json::from_str(&e.data).map_err(|e| DecodeError::Json(e.to_string()))?;
        let kind = v.kind.as_deref().unwrap_or(e.event.as_str());
        let text_at = |value: &Option<Value>, p: &str| {
            value.as_ref().and_then(|v| v.pointer(p)).and_then(Value::as_str).unwrap_or_default().to_string()
        };
        let mut out = Vec::new();
        match kind {
            "message_start" => {
                out.push(StreamEvent::Start { id: text_at(&v.message, "/id"), model: text_at(&v.message, "/model") });
                if let Some(u) = v.message.as_ref().and_then(|m| m.get("usage")) {
                    out.push(StreamEvent::Usage(parse_usage(u)));
                }
            }
            "content_block_start" => {
                let index = v.index.unwrap_or(0);
                match v.content_block.as_ref().and_then(|b| b.get("type")).and_then(Value::as_str) {
                    Some("tool_use") => {
                        let tool_index = self.tool_blocks.len();
                        self.tool_blocks.insert(index, tool_index);
                        out.push(StreamEvent::ToolCallStart {
                            index: tool_index,
                            id: text_at(&v.content_block, "/id"),
                            name: text_at(&v.content_block, "/name"),
                        });
                    }
                    Some("redacted_thinking") => {
                        out.push(StreamEvent::RedactedThinking(text_at(&v.content_block, "/data")))
                    }
                    Some("text") => {
                        let t = text_at(&v.content_block, "/text");
                        if !t.is_empty() {
                            out.push(StreamEvent::TextDelta(t));
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let index = v.index.unwrap_or(0);
                if let Some(d) = v.delta {
                    match d.kind.as_deref() {
                        Some("text_delta") => out.push(StreamEvent::TextDelta(owned(d.text))),
                        Some("thinking_delta") => out.push(StreamEvent::ThinkingDelta(owned(d.thinking))),
                        Some("signature_delta") => out.push(StreamEvent::ThinkingSignature(owned(d.signature))),
                        Some("input_json_delta") => {
                            let arguments = owned(d.partial_json);
                            if let (Some(&tool), false) = (self.tool_blocks.get(&index), arguments.is_empty()) {
                                out.push(StreamEvent::ToolCallDelta { index: tool, arguments });
                            }
                        }
                        _ => {}
                    }
                }
            }
            "message_delta" => {
                if let Some(u) = &v.usage {
                    out.push(StreamEvent::Usage(parse_usage(u)));
                }
                if let Some(reason) = v.delta.and_then(|d| d.stop_reason) {
                    out.push(StreamEvent::Finish(parse_stop_reason(&reason)));
                }
            }
            "error" => out.push(StreamEvent::Error { message: text_at(&v.error, "/message") }),
            _ => {}
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    Tool(usize),
}

pub struct Encoder {
    model: String,
    started: bool,
    next_index: usize,
    open: Option<(Block, usize)>,
    /// IR tool index → Anthropic block index.
    tool_blocks: HashMap<usize, usize>,
    usage: Usage,
    stop: Option<StopReason>,
    /// An error event ended the stream: nothing may follow it.
    failed: bool,
}

impl Encoder {
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_string(),
            started: false,
            next_index: 0,
            open: None,
            tool_blocks: HashMap::new(),
            usage: Usage::default(),
            stop: None,
            failed: false,
        }
    }

    fn start(&mut self, out: &mut Vec<u8>, id: &str) {
        if self.started {
            return;
        }
        self.started = true;
        let id = if id.starts_with("msg_") { id.to_string() } else { new_id("msg_") };
        let message = json!({"id": id, "type": "message", "role": "assistant", "model": self.model, "content": [],
            "stop_reason": null, "stop_sequence": null, "usage": usage_json(&self.usage)});
        write_sse(out, Some("message_start"), &json!({"type": "message_start", "message": message}));
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if let Some((_, index)) = self.open.take() {
            write_sse(out, Some("content_block_stop"), &json!({"type": "content_block_stop", "index": index}));
        }
    }

    /// Makes `block` the open block, starting it with `start` when it is not already open.
    fn ensure(&mut self, out: &mut Vec<u8>, block: Block, start: Value) -> usize {
        if let Some((open, index)) = self.open {
            if open == block {
                return index;
            }
        }
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        write_sse(
            out,
            Some("content_block_start"),
            &json!({"type": "content_block_start", "index": index, "content_block": start}),
        );
        self.open = Some((block, index));
        index
    }

    fn delta(out: &mut Vec<u8>, index: usize, delta: Value) {
        write_sse(
            out,
            Some("content_block_delta"),
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        );
    }

    pub fn event(&mut self, e: StreamEvent, out: &mut Vec<u8>) {
        if !self.started {
            let id = if let StreamEvent::Start { id, .. } = &e { id.clone() } else { String::new() };
            self.start(out, &id);
        }
        match e {
            StreamEvent::Start { .. } => {}
            StreamEvent::TextDelta(t) => {
                let i = self.ensure(out, Block::Text, json!({"type": "text", "text": ""}));
                // The hottest event, written without building a JSON tree.
                out.extend_from_slice(
                    b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":",
                );
                out.extend_from_slice(i.to_string().as_bytes());
                out.extend_from_slice(b",\"delta\":{\"type\":\"text_delta\",\"text\":");
                let _ = serde_json::to_writer(&mut *out, &t);
                out.extend_from_slice(b"}}\n\n");
            }
            StreamEvent::ThinkingDelta(t) => {
                let i = self.ensure(out, Block::Thinking, json!({"type": "thinking", "thinking": "", "signature": ""}));
                Self::delta(out, i, json!({"type": "thinking_delta", "thinking": t}));
            }
            StreamEvent::ThinkingSignature(sig) => {
                let i = self.ensure(out, Block::Thinking, json!({"type": "thinking", "thinking": "", "signature": ""}));
                Self::delta(out, i, json!({"type": "signature_delta", "signature": sig}));
            }
            StreamEvent::RedactedThinking(data) => {
                self.close(out);
                let index = self.next_index;
                self.next_index += 1;
                write_sse(
                    out,
                    Some("content_block_start"),
                    &json!({"type": "content_block_start", "index": index, "content_block": {"type": "redacted_thinking", "data": data}}),
                );
                write_sse(out, Some("content_block_stop"), &json!({"type": "content_block_stop", "index": index}));
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                let id = if id.is_empty() { new_id("toolu_") } else { id };
                let block = self.ensure(
                    out,
                    Block::Tool(index),
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                );
                self.tool_blocks.insert(index, block);
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                if let Some(&block) = self.tool_blocks.get(&index) {
                    Self::delta(out, block, json!({"type": "input_json_delta", "partial_json": arguments}));
                }
            }
            StreamEvent::Usage(u) => self.usage.merge(u),
            StreamEvent::Finish(stop) => self.stop = Some(stop),
            StreamEvent::Error { message } => {
                self.close(out);
                self.failed = true;
                write_sse(out, Some("error"), &error_json(500, &message));
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.failed {
            return;
        }
        if !self.started {
            self.start(out, "");
        }
        self.close(out);
        let stop = self.stop.unwrap_or(StopReason::EndTurn);
        write_sse(
            out,
            Some("message_delta"),
            &json!({"type": "message_delta", "delta": {"stop_reason": stop_reason_str(stop), "stop_sequence": null}, "usage": usage_json(&self.usage)}),
        );
        write_sse(out, Some("message_stop"), &json!({"type": "message_stop"}));
    }
}
