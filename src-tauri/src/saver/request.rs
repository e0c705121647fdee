//! The token saver applied to a request body: finds the tool results of each inbound API
//! (OpenAI Chat `tool` messages, Anthropic `tool_result` blocks, Responses
//! `function_call_output` items, Gemini `functionResponse` parts), compresses the long ones and
//! splices the compressed strings into the client's bytes. Everything else in the body stays
//! byte for byte, so same-format pass-through stays pass-through.
//!
//! Results marked as errors (Anthropic `is_error`, a Gemini `error` response, a Codex output
//! with a non-zero exit code) are never touched. The compressed text of a result is cached by
//! its content, so the earlier turns an agent sends again cost a hash, not a second pass.

use super::cache::{self, Saved};
use crate::formats::translate::Format;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

type Raw<'a> = &'a RawValue;

/// A request body with its tool results compressed.
#[derive(Debug)]
pub struct SavedBody {
    pub body: Vec<u8>,
    /// Tokens (o200k_base) saved by the results seen before (counted then).
    pub tokens_saved: u64,
    /// How many tool results were compressed.
    pub results: usize,
    /// Results seen for the first time: their savings are still to be counted.
    pub uncounted: Uncounted,
}

/// Compressed results whose tokens are not counted yet, with their original text.
#[derive(Debug, Default)]
pub struct Uncounted(Vec<(String, std::sync::Arc<Saved>)>);

impl Uncounted {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Counts the tokens these results saved (the tokenizer: slow, for a blocking thread).
    pub fn count(self) -> u64 {
        self.0.iter().map(|(original, saved)| saved.count(original)).sum()
    }
}

/// Bytes that show a body may hold a tool result of its format (a cheap test before parsing).
fn marker(format: Format) -> &'static [u8] {
    match format {
        Format::Openai => b"\"tool\"",
        Format::Anthropic => b"tool_result",
        Format::Responses => b"_output",
        Format::Gemini => b"unction",
    }
}

/// Compresses the tool results in `body`, or None when none was worth changing (or the body
/// is not what its format expects: the request path then reports that in the client's shape).
pub fn save(format: Format, body: &[u8]) -> Option<SavedBody> {
    if body.len() < super::MIN_BYTES || memchr::memmem::find(body, marker(format)).is_none() {
        return None;
    }
    let mut results: Vec<Raw> = Vec::new();
    match format {
        Format::Openai => openai_results(body, &mut results)?,
        Format::Anthropic => anthropic_results(body, &mut results)?,
        Format::Responses => responses_results(body, &mut results)?,
        Format::Gemini => gemini_results(body, &mut results)?,
    }
    let mut splices: Vec<(usize, usize, std::sync::Arc<Saved>)> = Vec::new();
    let mut uncounted = Vec::new();
    for raw in results {
        // A JSON string is never shorter than its text: short ones are skipped unparsed.
        let json = raw.get();
        if json.len() < super::MIN_BYTES || !json.starts_with('"') {
            continue;
        }
        let (Some(saved), text) = cache::compress(json) else { continue };
        let start = (json.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
        if saved.tokens_saved().is_none() {
            if let Some(text) = text.or_else(|| serde_json::from_str(json).ok()) {
                uncounted.push((text, saved.clone()));
            }
        }
        splices.push((start, start + json.len(), saved));
    }
    if splices.is_empty() {
        return None;
    }
    splices.sort_by_key(|s| s.0);
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    let mut tokens_saved = 0;
    for (start, end, saved) in &splices {
        if *start < at || *end > body.len() {
            return None;
        }
        out.extend_from_slice(&body[at..*start]);
        out.extend_from_slice(saved.json.as_bytes());
        tokens_saved += saved.tokens_saved().unwrap_or(0);
        at = *end;
    }
    out.extend_from_slice(&body[at..]);
    Some(SavedBody { body: out, tokens_saved, results: splices.len(), uncounted: Uncounted(uncounted) })
}

/// A JSON string's raw text equal to `word` (no escapes needed for the words compared).
fn is(raw: Option<Raw>, word: &str) -> bool {
    raw.is_some_and(|r| r.get().len() == word.len() + 2 && r.get().get(1..r.get().len() - 1) == Some(word))
}

/// The text strings of a content value: the value itself when a string, else the `text` of
/// each text block of an array.
fn texts<'a>(content: Option<Raw<'a>>, out: &mut Vec<Raw<'a>>) -> Option<()> {
    #[derive(Deserialize)]
    struct Block<'a> {
        #[serde(borrow)]
        text: Option<Raw<'a>>,
    }
    let content = content?;
    match content.get().as_bytes().first() {
        Some(b'"') => out.push(content),
        Some(b'[') => {
            let blocks: Vec<Block> = serde_json::from_str(content.get()).ok()?;
            out.extend(blocks.into_iter().filter_map(|b| b.text));
        }
        _ => {}
    }
    Some(())
}

/// The `messages` of an OpenAI Chat or Anthropic request: each one's role and raw content.
#[derive(Deserialize)]
struct Messages<'a> {
    #[serde(borrow, default)]
    messages: Vec<Message<'a>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    role: Option<Raw<'a>>,
    #[serde(borrow)]
    content: Option<Raw<'a>>,
}

fn openai_results<'a>(body: &'a [u8], out: &mut Vec<Raw<'a>>) -> Option<()> {
    let chat: Messages = serde_json::from_slice(body).ok()?;
    for m in chat.messages.into_iter().filter(|m| is(m.role, "tool")) {
        texts(m.content, out);
    }
    Some(())
}

fn anthropic_results<'a>(body: &'a [u8], out: &mut Vec<Raw<'a>>) -> Option<()> {
    #[derive(Deserialize)]
    struct Block<'a> {
        #[serde(borrow, rename = "type")]
        kind: Option<Raw<'a>>,
        is_error: Option<bool>,
        #[serde(borrow)]
        content: Option<Raw<'a>>,
    }
    let request: Messages = serde_json::from_slice(body).ok()?;
    for content in request.messages.into_iter().filter_map(|m| m.content) {
        if !content.get().starts_with('[') {
            continue;
        }
        let blocks: Vec<Block> = serde_json::from_str(content.get()).ok()?;
        for b in blocks.into_iter().filter(|b| is(b.kind, "tool_result") && b.is_error != Some(true)) {
            texts(b.content, out);
        }
    }
    Some(())
}

fn responses_results<'a>(body: &'a [u8], out: &mut Vec<Raw<'a>>) -> Option<()> {
    #[derive(Deserialize)]
    struct Responses<'a> {
        #[serde(borrow)]
        input: Option<Raw<'a>>,
    }
    #[derive(Deserialize)]
    struct Item<'a> {
        #[serde(borrow, rename = "type")]
        kind: Option<Raw<'a>>,
        #[serde(borrow)]
        output: Option<Raw<'a>>,
    }
    let request: Responses = serde_json::from_slice(body).ok()?;
    let Some(input) = request.input.filter(|i| i.get().starts_with('[')) else { return Some(()) };
    let items: Vec<Item> = serde_json::from_str(input.get()).ok()?;
    for item in items {
        if !(is(item.kind, "function_call_output") || is(item.kind, "custom_tool_call_output")) {
            continue;
        }
        let mut found = Vec::new();
        texts(item.output, &mut found);
        out.extend(found.into_iter().filter(|raw| !failed_command(raw)));
    }
    Some(())
}

/// A Codex shell output that reports a failed command ("Exit code: 1" first, or a JSON
/// envelope whose `metadata.exit_code` is not 0): an error result, left as it is.
fn failed_command(raw: Raw) -> bool {
    let json = raw.get();
    let head = &json[..json.len().min(200)];
    if let Some(code) = head.strip_prefix("\"Exit code: ") {
        return !code.starts_with("0\\n") && !code.starts_with("0\"");
    }
    if head.starts_with("\"{") {
        #[derive(Deserialize)]
        struct Envelope {
            metadata: Option<Metadata>,
        }
        #[derive(Deserialize)]
        struct Metadata {
            exit_code: Option<i64>,
        }
        if let Ok(text) = serde_json::from_str::<String>(json) {
            if let Ok(Envelope { metadata: Some(Metadata { exit_code: Some(code) }) }) = serde_json::from_str(&text) {
                return code != 0;
            }
        }
    }
    false
}

fn gemini_results<'a>(body: &'a [u8], out: &mut Vec<Raw<'a>>) -> Option<()> {
    #[derive(Deserialize)]
    struct Generate<'a> {
        #[serde(borrow, default)]
        contents: Vec<Content<'a>>,
    }
    #[derive(Deserialize)]
    struct Content<'a> {
        #[serde(borrow, default)]
        parts: Vec<Part<'a>>,
    }
    #[derive(Deserialize)]
    struct Part<'a> {
        #[serde(borrow, rename = "functionResponse", alias = "function_response")]
        function_response: Option<FunctionResponse<'a>>,
    }
    #[derive(Deserialize)]
    struct FunctionResponse<'a> {
        #[serde(borrow)]
        response: Option<Raw<'a>>,
    }
    let request: Generate = serde_json::from_slice(body).ok()?;
    let responses = request.contents.into_iter().flat_map(|c| c.parts).filter_map(|p| p.function_response?.response);
    for response in responses.filter(|r| r.get().starts_with('{')) {
        let fields: BTreeMap<String, Raw> = serde_json::from_str(response.get()).ok()?;
        if fields.contains_key("error") {
            continue;
        }
        out.extend(fields.into_values().filter(|v| v.get().starts_with('"')));
    }
    Some(())
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
