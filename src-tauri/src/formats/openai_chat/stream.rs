//! Chat Completions streams: chunks → IR events (`Decoder`), IR events → chunks (`Encoder`).

use super::{parse_stop_reason, parse_usage, stop_reason_str, usage_json};
use crate::formats::codec::{now_unix, write_sse, DecodeError, SseEvent};
use crate::formats::ir::{StopReason, StreamEvent, Usage};
use serde::Deserialize;
use serde_json::{json, Value};
use std::borrow::Cow;

#[derive(Default)]
pub struct Decoder {
    started: bool,
    /// Upstream tool-call indices whose start was emitted.
    tools_started: Vec<usize>,
}

/// A chunk, read with borrowed strings: only what the IR needs, parsed once.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    choices: Vec<Choice<'a>>,
    usage: Option<Value>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    delta: Option<Delta<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    /// Some providers send a string here, others an object: only strings are reasoning text.
    reasoning: Option<Value>,
    #[serde(default, borrow)]
    tool_calls: Vec<ToolCallDelta<'a>>,
}

#[derive(Deserialize)]
struct ToolCallDelta<'a> {
    index: Option<usize>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    arguments: Option<Cow<'a, str>>,
}

impl Decoder {
    pub fn event(&mut self, e: &SseEvent) -> Result<Vec<StreamEvent>, DecodeError> {
        let data = e.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(vec![]);
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| DecodeError::Json(e.to_string()))?;
        if let Some(err) = chunk.error {
            let message = err.get("message").and_then(Value::as_str).unwrap_or("upstream error").to_string();
            return Ok(vec![StreamEvent::Error { message }]);
        }
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: chunk.id.map(Cow::into_owned).unwrap_or_default(),
                model: chunk.model.map(Cow::into_owned).unwrap_or_default(),
            });
        }
        if let Some(choice) = chunk.choices.into_iter().next() {
            if let Some(delta) = choice.delta {
                let reasoning = delta
                    .reasoning_content
                    .map(Cow::into_owned)
                    .or_else(|| delta.reasoning.and_then(|r| r.as_str().map(String::from)));
                if let Some(t) = reasoning.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::ThinkingDelta(t));
                }
                if let Some(t) = delta.content.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::TextDelta(t.into_owned()));
                }
                for call in delta.tool_calls {
                    let index = call.index.unwrap_or(0);
                    let (name, arguments) = match call.function {
                        Some(f) => (f.name, f.arguments),
                        None => (None, None),
                    };
                    if !self.tools_started.contains(&index) {
                        self.tools_started.push(index);
                        out.push(StreamEvent::ToolCallStart {
                            index,
                            id: call.id.map(Cow::into_owned).unwrap_or_default(),
                            name: name.map(Cow::into_owned).unwrap_or_default(),
                        });
                    }
                    if let Some(args) = arguments.filter(|a| !a.is_empty()) {
                        out.push(StreamEvent::ToolCallDelta { index, arguments: args.into_owned() });
                    }
                }
            }
            if let Some(reason) = choice.finish_reason {
                out.push(StreamEvent::Finish(parse_stop_reason(&reason)));
            }
        }
        if let Some(usage) = chunk.usage.filter(Value::is_object) {
            out.push(StreamEvent::Usage(parse_usage(&usage)));
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
    /// `data: {"id":…,"choices":[{"index":0,"delta":{"content":` — fixed once the stream started,
    /// so a text delta is this prefix, the escaped text and a constant suffix.
    content_prefix: Vec<u8>,
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
            content_prefix: Vec::new(),
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

    /// A text delta, written without building a JSON tree.
    fn text_chunk(&mut self, out: &mut Vec<u8>, text: &str) {
        if self.content_prefix.is_empty() {
            let head =
                json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model})
                    .to_string();
            self.content_prefix =
                format!("data: {},\"choices\":[{{\"index\":0,\"delta\":{{\"content\":", &head[..head.len() - 1])
                    .into_bytes();
        }
        out.extend_from_slice(&self.content_prefix);
        let _ = serde_json::to_writer(&mut *out, text);
        out.extend_from_slice(if self.include_usage {
            b"},\"finish_reason\":null}],\"usage\":null}\n\n"
        } else {
            b"},\"finish_reason\":null}]}\n\n"
        });
    }

    pub fn event(&mut self, e: StreamEvent, out: &mut Vec<u8>) {
        match e {
            StreamEvent::Start { id, .. } => {
                self.id = if id.is_empty() { crate::formats::ir::new_id("chatcmpl-") } else { id };
                self.chunk(out, json!({"role": "assistant", "content": ""}), None);
            }
            StreamEvent::TextDelta(t) => self.text_chunk(out, &t),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written text chunk is the same JSON as the general path writes.
    #[test]
    fn fast_text_chunks_equal_general_chunks() {
        for include_usage in [false, true] {
            let mut fast = Encoder::new("m/x", include_usage);
            let mut out = Vec::new();
            fast.event(StreamEvent::Start { id: "c1".into(), model: "x".into() }, &mut out);
            out.clear();
            fast.event(StreamEvent::TextDelta("a \"quoted\" é\n".into()), &mut out);
            let mut general = Vec::new();
            fast.chunk(&mut general, json!({"content": "a \"quoted\" é\n"}), None);
            let parse = |b: &[u8]| -> Value { serde_json::from_slice(&b[6..b.len() - 2]).unwrap() };
            assert_eq!(parse(&out), parse(&general));
        }
    }
}
