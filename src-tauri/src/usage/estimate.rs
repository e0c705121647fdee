//! Token counts for a served answer whose provider reported none (a stream the client cut, an
//! upstream that broke mid-answer, a provider that does not count): estimated with the BPE
//! tokenizer (o200k_base) from the request as sent and the answer as the client received it,
//! in the client's own API. The record says the counts are estimated.

use crate::formats::codec::SseEvent;
use crate::formats::ir::{Part, StreamEvent, Usage};
use crate::formats::tokens;
use crate::formats::translate::{self, Format, StreamDecoder};

/// The usage of a request `body` in `format` and the answer `sent` to the client.
pub fn estimate(format: Format, body: &[u8], sent: &[u8]) -> Usage {
    let input = match translate::decode_request(format, body, "", false) {
        Ok(request) => tokens::count_request(&request),
        Err(_) => tokens::count(&String::from_utf8_lossy(body)),
    };
    Usage { input, output: tokens::count(&answer_text(format, sent)), ..Usage::default() }
}

/// The generated text of an answer (text, reasoning, tool arguments): a stream's events
/// decoded one by one, or a whole answer; what cannot be read counts as it is.
fn answer_text(format: Format, sent: &[u8]) -> String {
    let text = String::from_utf8_lossy(sent).replace("\r\n", "\n");
    let trimmed = text.trim_start();
    if trimmed.starts_with("data:") || trimmed.starts_with("event:") {
        let mut decoder = StreamDecoder::new(format);
        let mut out = String::new();
        for block in text.split("\n\n") {
            let mut event = SseEvent::default();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event.event = name.trim().to_string();
                } else if let Some(data) = line.strip_prefix("data:") {
                    event.data.push_str(data.trim_start());
                }
            }
            if event.data.is_empty() {
                continue;
            }
            for e in decoder.event(&event).unwrap_or_default() {
                match e {
                    StreamEvent::TextDelta(t) | StreamEvent::ThinkingDelta(t) => out.push_str(&t),
                    StreamEvent::ToolCallDelta { arguments, .. } => out.push_str(&arguments),
                    StreamEvent::ToolCallStart { name, .. } => out.push_str(&name),
                    _ => {}
                }
            }
        }
        return out;
    }
    match translate::decode_response(format, sent) {
        Ok(answer) => answer
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(t) | Part::Thinking { text: t, .. } => t.clone(),
                Part::ToolCall { name, arguments, .. } => format!("{name}{arguments}"),
                _ => String::new(),
            })
            .collect(),
        Err(_) => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_stream_and_a_whole_answer_are_counted() {
        let body = br#"{"model":"m","stream":true,"messages":[{"role":"user","content":"Say hello to the whole wide world"}]}"#;
        let sent = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello there, \"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"wide world\"}}]}\n\n";
        let usage = estimate(Format::Openai, body, sent);
        assert!(usage.input >= 8 && usage.output >= 4 && usage.output <= 8, "{usage:?}");
        let whole = br#"{"id":"m","type":"message","role":"assistant","content":[{"type":"text","text":"Hello there, wide world"}],"stop_reason":"end_turn","usage":{"input_tokens":0,"output_tokens":0}}"#;
        let body = br#"{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#;
        let usage = estimate(Format::Anthropic, body, whole);
        assert!(usage.input >= 1 && usage.output >= 4, "{usage:?}");
    }
}
