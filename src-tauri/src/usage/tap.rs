//! Reading usage out of an answer while it streams to the client: translated streams report
//! IR usage events; relayed (same-format) streams are scanned for their usage events without
//! changing a byte; whole JSON answers are parsed once at the end.

use crate::formats::codec::SseEvent;
use crate::formats::ir::{StreamEvent, Usage};
use crate::formats::translate::{Format, StreamDecoder};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Default)]
struct TapState {
    usage: Option<Usage>,
    first_byte: Option<Instant>,
    completed: bool,
}

/// Shared between the response body and the usage guard that writes the record.
#[derive(Debug, Clone, Default)]
pub struct UsageTap(Arc<Mutex<TapState>>);

impl UsageTap {
    fn with<T>(&self, f: impl FnOnce(&mut TapState) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn add_usage(&self, u: Usage) {
        self.with(|s| s.usage.get_or_insert_with(Usage::default).merge(u));
    }

    pub fn first_byte(&self) {
        self.with(|s| {
            s.first_byte.get_or_insert_with(Instant::now);
        });
    }

    pub fn complete(&self) {
        self.with(|s| s.completed = true);
    }

    /// (usage, first byte, completed)
    pub fn read(&self) -> (Option<Usage>, Option<Instant>, bool) {
        self.with(|s| (s.usage, s.first_byte, s.completed))
    }
}

/// Finds the usage in a relayed stream: splits the bytes into SSE events (or, for Gemini's
/// JSON-array streams, takes the whole body at the end) and decodes only the events that
/// carry usage.
pub struct SseUsageScanner {
    decoder: StreamDecoder,
    buffer: Vec<u8>,
    sse: bool,
}

impl SseUsageScanner {
    pub fn new(format: Format, sse: bool) -> Self {
        Self { decoder: StreamDecoder::new(format), buffer: Vec::new(), sse }
    }

    pub fn feed(&mut self, chunk: &[u8], tap: &UsageTap) {
        // A whole-body answer larger than this is not parsed for usage.
        const MAX_BUFFER: usize = 16 * 1024 * 1024;
        if self.buffer.len() + chunk.len() > MAX_BUFFER {
            self.buffer.clear();
            return;
        }
        self.buffer.extend_from_slice(chunk);
        if !self.sse {
            return;
        }
        while let Some((end, separator)) = event_end(&self.buffer) {
            let block: Vec<u8> = self.buffer.drain(..end + separator).collect();
            if memchr::memmem::find(&block, b"sage").is_none() {
                continue;
            }
            let text = String::from_utf8_lossy(&block);
            let mut event = SseEvent::default();
            for line in text.lines() {
                let line = line.trim_end_matches('\r');
                if let Some(name) = line.strip_prefix("event:") {
                    event.event = name.trim().to_string();
                } else if let Some(data) = line.strip_prefix("data:") {
                    event.data.push_str(data.trim_start());
                }
            }
            if let Ok(events) = self.decoder.event(&event) {
                for e in events {
                    if let StreamEvent::Usage(u) = e {
                        tap.add_usage(u);
                    }
                }
            }
        }
    }

    /// The end of the stream: a non-SSE body is parsed whole.
    pub fn finish(&mut self, format: Format, tap: &UsageTap) {
        if self.sse || self.buffer.is_empty() {
            return;
        }
        // A whole answer: only its usage object is parsed; the rest is scanned, not built.
        let key = if format == Format::Gemini { "usageMetadata" } else { "usage" };
        if let Some(raw) = crate::formats::envelope::top_level_raw(&self.buffer, key) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) {
                tap.add_usage(usage_of(format, &v));
            }
        } else if let Ok(serde_json::Value::Array(chunks)) = serde_json::from_slice::<serde_json::Value>(&self.buffer) {
            // Gemini's streamed JSON array: the last chunk carries the usage.
            if let Some(u) = chunks.iter().rev().find_map(|c| c.get("usageMetadata")) {
                tap.add_usage(crate::formats::gemini::parse_usage(u));
            }
        }
    }
}

/// Where the first complete SSE event of `buffer` ends, and its separator's length: a blank
/// line, `\n\n` or (Gemini's) `\r\n\r\n`.
fn event_end(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = memchr::memmem::find(buffer, b"\n\n").map(|at| (at, 2));
    let crlf = memchr::memmem::find(buffer, b"\r\n\r\n").map(|at| (at, 4));
    match (lf, crlf) {
        (Some(lf), Some(crlf)) => Some(if crlf.0 < lf.0 { crlf } else { lf }),
        (lf, crlf) => lf.or(crlf),
    }
}

/// A usage object of `format`'s answers, in the IR's terms.
fn usage_of(format: Format, v: &serde_json::Value) -> Usage {
    match format {
        Format::Openai => crate::formats::openai_chat::parse_usage(v),
        Format::Anthropic => crate::formats::anthropic::parse_usage(v),
        Format::Responses => crate::formats::responses::parse_usage(v),
        Format::Gemini => crate::formats::gemini::parse_usage(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_read_from_whole_answers_and_streams() {
        let tap = UsageTap::default();
        let mut scanner = SseUsageScanner::new(Format::Anthropic, false);
        scanner.feed(br#"{"id":"m","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":7,"output_tokens":3,"cache_read_input_tokens":2}}"#, &tap);
        scanner.finish(Format::Anthropic, &tap);
        assert_eq!(tap.read().0, Some(Usage { input: 9, output: 3, cache_read: 2, cache_write: 0, reasoning: 0 }));

        let tap = UsageTap::default();
        let mut scanner = SseUsageScanner::new(Format::Openai, true);
        let stream = b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4}}\n\ndata: [DONE]\n\n";
        for piece in stream.chunks(7) {
            scanner.feed(piece, &tap);
        }
        scanner.finish(Format::Openai, &tap);
        assert_eq!(tap.read().0.map(|u| (u.input, u.output)), Some((5, 4)), "events split across chunks");

        // Gemini ends its events with CRLF blank lines.
        let tap = UsageTap::default();
        let mut scanner = SseUsageScanner::new(Format::Gemini, true);
        let stream = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}]}\r\n\r\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"y\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":6,\"candidatesTokenCount\":2}}\r\n\r\n";
        for piece in stream.chunks(9) {
            scanner.feed(piece, &tap);
        }
        scanner.finish(Format::Gemini, &tap);
        assert_eq!(tap.read().0.map(|u| (u.input, u.output)), Some((6, 2)), "Gemini's CRLF events");
    }
}
