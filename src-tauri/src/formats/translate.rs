//! One entry point per operation for any format: decode a request, encode it for another
//! format, decode and encode answers, transcode streams, and render errors. `Format` is the
//! API a side speaks (a client's, or a provider's kind); the gateway only ever calls these
//! functions.

use super::codec::{write_sse, DecodeError, SseEvent};
use super::ir::{Request, Response, StreamEvent};
use super::{anthropic, gemini, openai_chat, responses};
pub use crate::base::kinds::Format;
use serde_json::{json, Value};

/// Decodes a client request. Gemini names the model (and streaming) in the URL.
pub fn decode_request(
    format: Format,
    body: &[u8],
    path_model: &str,
    path_stream: bool,
) -> Result<Request, DecodeError> {
    match format {
        Format::Openai => openai_chat::request::decode(body),
        Format::Anthropic => anthropic::request::decode(body),
        Format::Responses => responses::request::decode(body),
        Format::Gemini => gemini::request::decode(body, path_model, path_stream),
    }
}

pub fn encode_request(format: Format, request: &Request) -> Value {
    match format {
        Format::Openai => openai_chat::request::encode(request),
        Format::Anthropic => anthropic::request::encode(request),
        Format::Responses => responses::request::encode(request),
        Format::Gemini => gemini::request::encode(request),
    }
}

pub fn decode_response(format: Format, body: &[u8]) -> Result<Response, DecodeError> {
    match format {
        Format::Openai => openai_chat::response::decode(body),
        Format::Anthropic => anthropic::response::decode(body),
        Format::Responses => responses::response::decode(body),
        Format::Gemini => gemini::response::decode(body),
    }
}

pub fn encode_response(format: Format, response: &Response) -> Value {
    match format {
        Format::Openai => openai_chat::response::encode(response),
        Format::Anthropic => anthropic::response::encode(response),
        Format::Responses => responses::response::encode(response),
        Format::Gemini => gemini::response::encode(response),
    }
}

/// Reads an upstream's stream events into IR events.
pub enum StreamDecoder {
    Openai(openai_chat::stream::Decoder),
    Anthropic(anthropic::stream::Decoder),
    Responses(responses::stream::Decoder),
    Gemini(gemini::stream::Decoder),
    /// Kiro's event-stream frames (not an inbound format: built with `StreamDecoder::Kiro`).
    Kiro(super::kiro::Decoder),
}

impl StreamDecoder {
    pub fn new(format: Format) -> Self {
        match format {
            Format::Openai => Self::Openai(Default::default()),
            Format::Anthropic => Self::Anthropic(Default::default()),
            Format::Responses => Self::Responses(Default::default()),
            Format::Gemini => Self::Gemini(Default::default()),
        }
    }

    pub fn event(&mut self, e: &SseEvent) -> Result<Vec<StreamEvent>, DecodeError> {
        match self {
            Self::Openai(d) => d.event(e),
            Self::Anthropic(d) => d.event(e),
            Self::Responses(d) => d.event(e),
            Self::Gemini(d) => d.event(e),
            Self::Kiro(d) => d.event(e),
        }
    }

    /// Events owed at the end of the stream (Kiro's answer has no closing event).
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        match self {
            Self::Kiro(d) => d.finish(),
            _ => vec![],
        }
    }
}

/// Writes IR events as a client's stream.
pub enum StreamEncoder {
    Openai(openai_chat::stream::Encoder),
    Anthropic(anthropic::stream::Encoder),
    Responses(responses::stream::Encoder),
    Gemini(gemini::stream::Encoder),
}

impl StreamEncoder {
    /// `model`: the name the client asked for. `include_usage`: OpenAI clients' final usage
    /// chunk. `gemini_sse`: Gemini clients that asked `?alt=sse`.
    pub fn new(format: Format, model: &str, include_usage: bool, gemini_sse: bool) -> Self {
        match format {
            Format::Openai => Self::Openai(openai_chat::stream::Encoder::new(model, include_usage)),
            Format::Anthropic => Self::Anthropic(anthropic::stream::Encoder::new(model)),
            Format::Responses => Self::Responses(responses::stream::Encoder::new(model)),
            Format::Gemini => Self::Gemini(gemini::stream::Encoder::new(model, gemini_sse)),
        }
    }

    pub fn event(&mut self, e: StreamEvent, out: &mut Vec<u8>) {
        match self {
            Self::Openai(enc) => enc.event(e, out),
            Self::Anthropic(enc) => enc.event(e, out),
            Self::Responses(enc) => enc.event(e, out),
            Self::Gemini(enc) => enc.event(e, out),
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self {
            Self::Openai(enc) => enc.finish(out),
            Self::Anthropic(enc) => enc.finish(out),
            Self::Responses(enc) => enc.finish(out),
            Self::Gemini(enc) => enc.finish(out),
        }
    }
}

/// An error body in a format's own shape. `openai_type` and `code` are OpenAI's fields.
pub fn error_body(
    format: Format,
    status: u16,
    message: &str,
    openai_type: &str,
    code: Option<&str>,
    param: Option<&str>,
) -> Value {
    match format {
        Format::Openai | Format::Responses => {
            json!({"error": {"message": message, "type": openai_type, "param": param, "code": code}})
        }
        Format::Anthropic => anthropic::error_json(status, message),
        Format::Gemini => gemini::error_json(status, message),
    }
}

/// The event that reports a failure inside a stream the gateway relays unchanged, in the
/// client's format. (Translated streams report through their encoder.)
pub fn stream_error_event(format: Format, message: &str, gemini_sse: bool) -> Vec<u8> {
    let mut out = Vec::new();
    match format {
        Format::Openai => write_sse(&mut out, None, &error_body(format, 500, message, "upstream_error", None, None)),
        Format::Anthropic => write_sse(&mut out, Some("error"), &anthropic::error_json(500, message)),
        Format::Responses => write_sse(
            &mut out,
            Some("error"),
            &json!({"type": "error", "code": "upstream_error", "message": message, "param": null}),
        ),
        Format::Gemini if gemini_sse => write_sse(&mut out, None, &gemini::error_json(500, message)),
        Format::Gemini => {
            out.extend_from_slice(b",\r\n");
            let _ = serde_json::to_writer(&mut out, &gemini::error_json(500, message));
            out.extend_from_slice(b"]");
        }
    }
    out
}

/// The message inside an upstream's error body, whatever its shape; the raw text otherwise.
pub fn upstream_error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let found = parsed.as_ref().and_then(|v| {
        let v = if let Value::Array(items) = v { items.first()? } else { v };
        v.pointer("/error/message")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
            .map(String::from)
    });
    let message = found.unwrap_or_else(|| text.trim().to_string());
    if message.len() > 2000 {
        let cut = (0..=2000).rev().find(|i| message.is_char_boundary(*i)).unwrap_or(0);
        format!("{}…", &message[..cut])
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ir::{Part, StopReason, Usage};

    const ALL: [Format; 4] = [Format::Openai, Format::Anthropic, Format::Responses, Format::Gemini];

    fn answer() -> Response {
        Response {
            id: "x".into(),
            model: "m".into(),
            parts: vec![
                Part::Text("hello".into()),
                Part::ToolCall {
                    id: "call_0".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into(),
                },
            ],
            stop: StopReason::ToolUse,
            usage: Usage { input: 12, output: 7, cache_read: 2, cache_write: 0, reasoning: 0 },
        }
    }

    /// Every format's response codec keeps text, tool calls, stop reason and usage.
    #[test]
    fn responses_survive_every_format() {
        for format in ALL {
            let encoded = encode_response(format, &answer()).to_string();
            let decoded = decode_response(format, encoded.as_bytes()).unwrap();
            assert_eq!(decoded.parts, answer().parts, "{format}");
            assert_eq!(decoded.stop, StopReason::ToolUse, "{format}");
            assert_eq!(decoded.usage, answer().usage, "{format}");
        }
    }

    /// Every encoder's stream, read back by the same format's decoder, gives the same answer.
    #[test]
    fn streams_survive_every_format() {
        for format in ALL {
            let mut encoder = StreamEncoder::new(format, "m", true, true);
            let mut bytes = Vec::new();
            for e in crate::formats::ir::response_events(&answer()) {
                encoder.event(e, &mut bytes);
            }
            encoder.finish(&mut bytes);
            let text = String::from_utf8(bytes).unwrap();
            let mut decoder = StreamDecoder::new(format);
            let mut builder = crate::formats::ir::ResponseBuilder::default();
            for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
                let mut event = SseEvent::default();
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event: ") {
                        event.event = name.to_string();
                    } else if let Some(data) = line.strip_prefix("data: ") {
                        event.data = data.to_string();
                    }
                }
                for e in decoder.event(&event).unwrap() {
                    builder.push(e);
                }
            }
            let got = builder.response;
            assert_eq!(got.parts, answer().parts, "{format}:\n{text}");
            assert_eq!(got.stop, StopReason::ToolUse, "{format}");
            assert_eq!(got.usage, answer().usage, "{format}");
        }
    }

    /// A JSON-schema answer format reaches every upstream in its own terms.
    #[test]
    fn structured_output_maps_to_every_format() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "city", "strict": true,
                "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": false}}}});
        let r = decode_request(Format::Openai, body.to_string().as_bytes(), "", false).unwrap();
        let gemini = encode_request(Format::Gemini, &r);
        assert_eq!(gemini["generationConfig"]["responseMimeType"], "application/json");
        assert_eq!(
            gemini["generationConfig"]["responseSchema"],
            json!({"type": "object", "properties": {"name": {"type": "string"}}})
        );
        let responses = encode_request(Format::Responses, &r);
        assert_eq!(responses["text"]["format"]["type"], "json_schema");
        assert_eq!(responses["text"]["format"]["name"], "city");
        let anthropic = encode_request(Format::Anthropic, &r);
        assert!(anthropic["system"].as_str().unwrap().contains("JSON Schema"), "{anthropic}");
        let back = decode_request(Format::Responses, responses.to_string().as_bytes(), "", false).unwrap();
        assert_eq!(back.response_format, r.response_format);
    }

    /// Reasoning effort and thinking budgets translate both ways.
    #[test]
    fn reasoning_effort_and_budgets_translate() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "low"});
        let r = decode_request(Format::Openai, body.to_string().as_bytes(), "", false).unwrap();
        assert_eq!(encode_request(Format::Anthropic, &r)["thinking"]["budget_tokens"], 2048);
        assert_eq!(encode_request(Format::Gemini, &r)["generationConfig"]["thinkingConfig"]["thinkingBudget"], 2048);
        assert_eq!(encode_request(Format::Responses, &r)["reasoning"]["effort"], "low");
        let body = json!({"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], "thinking": {"type": "enabled", "budget_tokens": 20000}});
        let r = decode_request(Format::Anthropic, body.to_string().as_bytes(), "", false).unwrap();
        assert_eq!(encode_request(Format::Openai, &r)["reasoning_effort"], "high");
    }

    #[test]
    fn errors_take_each_format_shape() {
        assert_eq!(
            error_body(Format::Anthropic, 429, "slow down", "x", None, None)["error"]["type"],
            "rate_limit_error"
        );
        assert_eq!(error_body(Format::Gemini, 404, "no", "x", None, None)["error"]["status"], "NOT_FOUND");
        assert_eq!(
            error_body(Format::Openai, 400, "bad", "invalid_request_error", Some("c"), None)["error"]["code"],
            "c"
        );
        assert_eq!(upstream_error_message(br#"{"type":"error","error":{"type":"x","message":"m1"}}"#), "m1");
        assert_eq!(upstream_error_message(br#"[{"error":{"code":429,"message":"m2","status":"R"}}]"#), "m2");
        assert_eq!(upstream_error_message(b"plain text"), "plain text");
    }
}
