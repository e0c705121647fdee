//! Responses streams: typed events → IR (`Decoder`), IR → typed events with sequence numbers
//! and whole items on `output_item.done` and `response.completed` (`Encoder`).

use super::response::{response_object, status_of, stop_of};
use super::{parse_usage, usage_json};
use crate::formats::codec::{write_sse, DecodeError, SseEvent};
use crate::formats::ir::{new_id, StopReason, StreamEvent, Usage};
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Default)]
pub struct Decoder {
    /// Output index → IR tool index.
    tools: HashMap<u64, usize>,
    /// Item id → IR tool index (some providers key deltas by item id).
    tool_items: HashMap<String, usize>,
}

impl Decoder {
    pub fn event(&mut self, e: &SseEvent) -> Result<Vec<StreamEvent>, DecodeError> {
        if e.data.trim().is_empty() {
            return Ok(vec![]);
        }
        let v: Value = serde_json::from_str(&e.data).map_err(|e| DecodeError::Json(e.to_string()))?;
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(e.event.as_str());
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        let mut out = Vec::new();
        match kind {
            "response.created" => out.push(StreamEvent::Start { id: s("/response/id"), model: s("/response/model") }),
            "response.output_item.added"
                if v.pointer("/item/type").and_then(Value::as_str) == Some("function_call") =>
            {
                let index = self.tools.len();
                self.tools.insert(v.get("output_index").and_then(Value::as_u64).unwrap_or(0), index);
                self.tool_items.insert(s("/item/id"), index);
                out.push(StreamEvent::ToolCallStart { index, id: s("/item/call_id"), name: s("/item/name") });
                let args = s("/item/arguments");
                if !args.is_empty() {
                    out.push(StreamEvent::ToolCallDelta { index, arguments: args });
                }
            }
            "response.output_text.delta" => out.push(StreamEvent::TextDelta(s("/delta"))),
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                out.push(StreamEvent::ThinkingDelta(s("/delta")))
            }
            "response.function_call_arguments.delta" => {
                let by_index = v.get("output_index").and_then(Value::as_u64).and_then(|i| self.tools.get(&i));
                if let Some(&index) = by_index.or_else(|| self.tool_items.get(&s("/item_id"))) {
                    out.push(StreamEvent::ToolCallDelta { index, arguments: s("/delta") });
                }
            }
            "response.completed" | "response.incomplete" => {
                if let Some(u) = v.pointer("/response/usage").filter(|u| u.is_object()) {
                    out.push(StreamEvent::Usage(parse_usage(u)));
                }
                let response = v.get("response").unwrap_or(&Value::Null);
                out.push(StreamEvent::Finish(stop_of(response, !self.tools.is_empty())));
            }
            "response.failed" => out.push(StreamEvent::Error { message: s("/response/error/message") }),
            "error" => out.push(StreamEvent::Error { message: s("/message") }),
            _ => {}
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Message,
    Reasoning,
}

struct Item {
    id: String,
    value: Value,
    /// Text, reasoning summary or arguments gathered from deltas.
    text: String,
}

pub struct Encoder {
    id: String,
    model: String,
    seq: u64,
    started: bool,
    items: Vec<Item>,
    open: Option<(Open, usize)>,
    /// IR tool index → output index.
    tools: HashMap<usize, usize>,
    closed: Vec<bool>,
    usage: Usage,
    stop: StopReason,
    failed: bool,
}

impl Encoder {
    pub fn new(model: &str) -> Self {
        Self {
            id: new_id("resp_"),
            model: model.to_string(),
            seq: 0,
            started: false,
            items: vec![],
            open: None,
            tools: HashMap::new(),
            closed: vec![],
            usage: Usage::default(),
            stop: StopReason::EndTurn,
            failed: false,
        }
    }

    fn emit(&mut self, out: &mut Vec<u8>, kind: &str, mut data: Value) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.seq);
        self.seq += 1;
        write_sse(out, Some(kind), &data);
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let r = response_object(&self.id, &self.model, "in_progress", vec![], None, StopReason::EndTurn);
        self.emit(out, "response.created", json!({"response": r}));
        let r = response_object(&self.id, &self.model, "in_progress", vec![], None, StopReason::EndTurn);
        self.emit(out, "response.in_progress", json!({"response": r}));
    }

    fn add_item(&mut self, out: &mut Vec<u8>, prefix: &str, value: Value) -> usize {
        let id = new_id(prefix);
        let mut value = value;
        value["id"] = json!(id);
        let index = self.items.len();
        self.emit(out, "response.output_item.added", json!({"output_index": index, "item": value}));
        self.items.push(Item { id, value, text: String::new() });
        self.closed.push(false);
        index
    }

    fn close_item(&mut self, out: &mut Vec<u8>, index: usize) {
        if self.closed[index] {
            return;
        }
        self.closed[index] = true;
        let item_id = self.items[index].id.clone();
        let text = self.items[index].text.clone();
        let kind = self.items[index].value["type"].as_str().unwrap_or_default().to_string();
        match kind.as_str() {
            "message" => {
                self.emit(
                    out,
                    "response.output_text.done",
                    json!({"item_id": item_id, "output_index": index, "content_index": 0, "text": text}),
                );
                let part = json!({"type": "output_text", "text": text, "annotations": []});
                self.emit(
                    out,
                    "response.content_part.done",
                    json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": part}),
                );
                self.items[index].value["content"] = json!([part]);
            }
            "reasoning" => {
                self.emit(
                    out,
                    "response.reasoning_summary_text.done",
                    json!({"item_id": item_id, "output_index": index, "summary_index": 0, "text": text}),
                );
                let part = json!({"type": "summary_text", "text": text});
                self.emit(
                    out,
                    "response.reasoning_summary_part.done",
                    json!({"item_id": item_id, "output_index": index, "summary_index": 0, "part": part}),
                );
                self.items[index].value["summary"] = json!([part]);
            }
            _ => {
                self.emit(
                    out,
                    "response.function_call_arguments.done",
                    json!({"item_id": item_id, "output_index": index, "arguments": text}),
                );
                self.items[index].value["arguments"] = json!(text);
            }
        }
        self.items[index].value["status"] = json!("completed");
        let item = self.items[index].value.clone();
        self.emit(out, "response.output_item.done", json!({"output_index": index, "item": item}));
    }

    fn ensure(&mut self, out: &mut Vec<u8>, kind: Open) -> usize {
        if let Some((open, index)) = self.open {
            if open == kind {
                return index;
            }
            self.close_item(out, index);
        }
        let index = match kind {
            Open::Message => {
                let index = self.add_item(
                    out,
                    "msg_",
                    json!({"type": "message", "status": "in_progress", "role": "assistant", "content": []}),
                );
                let item_id = self.items[index].id.clone();
                self.emit(out, "response.content_part.added", json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}));
                index
            }
            Open::Reasoning => {
                let index = self.add_item(out, "rs_", json!({"type": "reasoning", "summary": []}));
                let item_id = self.items[index].id.clone();
                self.emit(out, "response.reasoning_summary_part.added", json!({"item_id": item_id, "output_index": index, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}));
                index
            }
        };
        self.open = Some((kind, index));
        index
    }

    pub fn event(&mut self, e: StreamEvent, out: &mut Vec<u8>) {
        self.start(out);
        match e {
            StreamEvent::Start { .. } | StreamEvent::ThinkingSignature(_) | StreamEvent::RedactedThinking(_) => {}
            StreamEvent::TextDelta(t) => {
                let index = self.ensure(out, Open::Message);
                self.items[index].text.push_str(&t);
                let item_id = self.items[index].id.clone();
                self.emit(
                    out,
                    "response.output_text.delta",
                    json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": t}),
                );
            }
            StreamEvent::ThinkingDelta(t) => {
                let index = self.ensure(out, Open::Reasoning);
                self.items[index].text.push_str(&t);
                let item_id = self.items[index].id.clone();
                self.emit(
                    out,
                    "response.reasoning_summary_text.delta",
                    json!({"item_id": item_id, "output_index": index, "summary_index": 0, "delta": t}),
                );
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                if let Some((_, open)) = self.open.take() {
                    self.close_item(out, open);
                }
                let id = if id.is_empty() { new_id("call_") } else { id };
                let output_index = self.add_item(out, "fc_", json!({"type": "function_call", "status": "in_progress", "call_id": id, "name": name, "arguments": ""}));
                self.tools.insert(index, output_index);
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                if let Some(&output_index) = self.tools.get(&index) {
                    self.items[output_index].text.push_str(&arguments);
                    let item_id = self.items[output_index].id.clone();
                    self.emit(
                        out,
                        "response.function_call_arguments.delta",
                        json!({"item_id": item_id, "output_index": output_index, "delta": arguments}),
                    );
                }
            }
            StreamEvent::Usage(u) => self.usage.merge(u),
            StreamEvent::Finish(stop) => self.stop = stop,
            StreamEvent::Error { message } => {
                self.failed = true;
                let mut r = response_object(&self.id, &self.model, "failed", vec![], None, StopReason::EndTurn);
                r["error"] = json!({"code": "server_error", "message": message});
                self.emit(out, "response.failed", json!({"response": r}));
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.start(out);
        if self.failed {
            return;
        }
        for index in 0..self.items.len() {
            self.close_item(out, index);
        }
        let output: Vec<Value> = self.items.iter().map(|i| i.value.clone()).collect();
        let status = status_of(self.stop);
        let r = response_object(&self.id, &self.model, status, output, Some(usage_json(&self.usage)), self.stop);
        let kind = if status == "completed" { "response.completed" } else { "response.incomplete" };
        self.emit(out, kind, json!({"response": r}));
    }
}
