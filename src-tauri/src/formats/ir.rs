//! The canonical IR every wire format decodes into and encodes from: one request, one
//! response and one stream event type. With N formats this takes 2N codecs, not N² translators.
//!
//! Conventions: `Usage::input` counts every prompt token, cached ones included (OpenAI's and
//! Gemini's meaning; Anthropic's `input_tokens` excludes cache reads and writes, and its codec
//! converts). `Usage::output` includes reasoning tokens. Tool-call arguments are JSON text,
//! exactly as produced, so that nothing re-serialises them on the way.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Image {
    Base64 { media_type: String, data: String },
    Url(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Image(Image),
    /// Model reasoning. `signature` is Anthropic's (or Gemini's) proof of origin: kept
    /// byte-exact, and only ever sent back to the provider kind that issued it.
    Thinking {
        text: String,
        signature: Option<String>,
    },
    /// Anthropic's encrypted reasoning.
    RedactedThinking {
        data: String,
    },
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    ToolResult {
        call_id: String,
        name: Option<String>,
        content: Vec<Part>,
        is_error: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    pub parameters: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    Auto,
    None,
    Required,
    Named(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    Minimal,
    Low,
    Medium,
    High,
}

impl Effort {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minimal => "minimal",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "minimal" | "none" => Some(Self::Minimal),
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" | "xhigh" => Some(Self::High),
            _ => None,
        }
    }

    /// The thinking budget that stands for this effort where a provider takes a budget.
    pub fn budget_tokens(self) -> u32 {
        match self {
            Self::Minimal => 1024,
            Self::Low => 2048,
            Self::Medium => 8192,
            Self::High => 24576,
        }
    }

    /// The effort that stands for a thinking budget.
    pub fn from_budget(budget: u32) -> Self {
        match budget {
            0..=1024 => Self::Minimal,
            1025..=4096 => Self::Low,
            4097..=16384 => Self::Medium,
            _ => Self::High,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reasoning {
    pub effort: Option<Effort>,
    pub budget_tokens: Option<u32>,
}

impl Reasoning {
    pub fn effort(&self) -> Effort {
        self.effort.or(self.budget_tokens.map(Effort::from_budget)).unwrap_or(Effort::Medium)
    }

    pub fn budget(&self) -> u32 {
        self.budget_tokens.unwrap_or_else(|| self.effort().budget_tokens())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    JsonObject,
    JsonSchema { name: String, schema: Value, strict: Option<bool> },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    pub model: String,
    pub system: Vec<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub stop: Vec<String>,
    pub stream: bool,
    /// OpenAI's `stream_options.include_usage`: the client wants a final usage chunk.
    pub stream_usage: bool,
    pub reasoning: Option<Reasoning>,
    pub response_format: Option<ResponseFormat>,
}

impl Request {
    pub fn system_text(&self) -> Option<String> {
        (!self.system.is_empty()).then(|| self.system.join("\n\n"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StopReason {
    #[default]
    EndTurn,
    MaxTokens,
    ToolUse,
    StopSequence,
    ContentFilter,
}

pub use crate::base::records::Usage;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    pub id: String,
    pub model: String,
    pub parts: Vec<Part>,
    pub stop: StopReason,
    pub usage: Usage,
}

/// One step of a streamed answer. Decoders emit these from upstream events; encoders turn
/// them into the client's events, keeping whatever state their format needs.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Start {
        id: String,
        model: String,
    },
    TextDelta(String),
    ThinkingDelta(String),
    ThinkingSignature(String),
    RedactedThinking(String),
    /// A tool call begins; `index` numbers the calls of this answer from 0.
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    ToolCallDelta {
        index: usize,
        arguments: String,
    },
    Usage(Usage),
    Finish(StopReason),
    /// The upstream failed mid-answer.
    Error {
        message: String,
    },
}

/// Builds a whole response from stream events (a non-streaming client with a streaming
/// upstream, and tests).
#[derive(Debug, Default)]
pub struct ResponseBuilder {
    pub response: Response,
    tool_indices: Vec<usize>,
}

impl ResponseBuilder {
    pub fn push(&mut self, event: StreamEvent) {
        let r = &mut self.response;
        match event {
            StreamEvent::Start { id, model } => {
                r.id = id;
                r.model = model;
            }
            StreamEvent::TextDelta(t) => match r.parts.last_mut() {
                Some(Part::Text(s)) => s.push_str(&t),
                _ => r.parts.push(Part::Text(t)),
            },
            StreamEvent::ThinkingDelta(t) => match r.parts.last_mut() {
                Some(Part::Thinking { text, .. }) => text.push_str(&t),
                _ => r.parts.push(Part::Thinking { text: t, signature: None }),
            },
            StreamEvent::ThinkingSignature(sig) => match r.parts.last_mut() {
                Some(Part::Thinking { signature, .. }) => signature.get_or_insert_with(String::new).push_str(&sig),
                _ => r.parts.push(Part::Thinking { text: String::new(), signature: Some(sig) }),
            },
            StreamEvent::RedactedThinking(data) => r.parts.push(Part::RedactedThinking { data }),
            StreamEvent::ToolCallStart { index, id, name } => {
                self.tool_indices.push(index);
                r.parts.push(Part::ToolCall { id, name, arguments: String::new() });
            }
            StreamEvent::ToolCallDelta { index, arguments: delta } => {
                let nth = self.tool_indices.iter().position(|i| *i == index);
                let mut calls = r.parts.iter_mut().filter(|p| matches!(p, Part::ToolCall { .. }));
                if let Some(Part::ToolCall { arguments, .. }) = nth.and_then(|n| calls.nth(n)) {
                    arguments.push_str(&delta);
                }
            }
            StreamEvent::Usage(u) => r.usage.merge(u),
            StreamEvent::Finish(stop) => r.stop = stop,
            StreamEvent::Error { .. } => {}
        }
    }
}

/// Turns a whole response into stream events (a streaming client with a non-streaming
/// upstream, and tests).
pub fn response_events(r: &Response) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::Start { id: r.id.clone(), model: r.model.clone() }];
    let mut tool_index = 0;
    for part in &r.parts {
        match part {
            Part::Text(t) => events.push(StreamEvent::TextDelta(t.clone())),
            Part::Thinking { text, signature } => {
                events.push(StreamEvent::ThinkingDelta(text.clone()));
                if let Some(sig) = signature {
                    events.push(StreamEvent::ThinkingSignature(sig.clone()));
                }
            }
            Part::RedactedThinking { data } => events.push(StreamEvent::RedactedThinking(data.clone())),
            Part::ToolCall { id, name, arguments } => {
                events.push(StreamEvent::ToolCallStart { index: tool_index, id: id.clone(), name: name.clone() });
                events.push(StreamEvent::ToolCallDelta { index: tool_index, arguments: arguments.clone() });
                tool_index += 1;
            }
            Part::Image(_) | Part::ToolResult { .. } => {}
        }
    }
    events.push(StreamEvent::Usage(r.usage));
    events.push(StreamEvent::Finish(r.stop));
    events
}

/// Generates ids of the form `{prefix}{24 hex chars}` for objects a format needs and the
/// upstream did not name.
pub fn new_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_and_events_round_trip() {
        let response = Response {
            id: "r1".into(),
            model: "m".into(),
            parts: vec![
                Part::Thinking { text: "hmm".into(), signature: Some("sig==".into()) },
                Part::Text("hello".into()),
                Part::ToolCall { id: "c1".into(), name: "a".into(), arguments: "{\"x\":1}".into() },
                Part::ToolCall { id: "c2".into(), name: "b".into(), arguments: "{}".into() },
            ],
            stop: StopReason::ToolUse,
            usage: Usage { input: 10, output: 5, cache_read: 2, cache_write: 0, reasoning: 1 },
        };
        let mut builder = ResponseBuilder::default();
        for e in response_events(&response) {
            builder.push(e);
        }
        assert_eq!(builder.response, response);
    }

    #[test]
    fn effort_and_budget_map_both_ways() {
        for e in [Effort::Minimal, Effort::Low, Effort::Medium, Effort::High] {
            assert_eq!(Effort::from_budget(e.budget_tokens()), e);
        }
        assert_eq!(Reasoning { effort: None, budget_tokens: Some(30000) }.effort(), Effort::High);
    }
}
