//! Token counting for requests, with a real BPE tokenizer (OpenAI's o200k_base through
//! tiktoken-rs), not characters / 4. For Anthropic-kind upstreams the gateway asks the
//! provider's own counter instead; this is the count for everything else, and it is an
//! estimate of another vendor's tokenizer, which is why it is only used where no exact count
//! can be had.

use super::codec::parts_text;
use super::ir::{Part, Request};
use std::sync::OnceLock;
use tiktoken_rs::CoreBPE;

/// Tokens an image adds where its size is unknown (Anthropic's figure for ~1.15 megapixels).
const IMAGE_TOKENS: u64 = 1600;

fn bpe() -> &'static CoreBPE {
    static BPE: OnceLock<CoreBPE> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().expect("the o200k_base ranks ship inside tiktoken-rs"))
}

/// Tokens of a text (o200k_base).
pub fn count(text: &str) -> u64 {
    if text.is_empty() {
        0
    } else {
        bpe().encode_ordinary(text).len() as u64
    }
}

fn part_tokens(p: &Part) -> u64 {
    match p {
        Part::Text(t) => count(t),
        Part::Image(_) => IMAGE_TOKENS,
        Part::Thinking { text, .. } => count(text),
        Part::RedactedThinking { .. } => 0,
        Part::ToolCall { name, arguments, .. } => count(name) + count(arguments) + 3,
        Part::ToolResult { content, .. } => {
            count(&parts_text(content))
                + content.iter().filter(|p| matches!(p, Part::Image(_))).count() as u64 * IMAGE_TOKENS
                + 3
        }
    }
}

/// The input tokens of a request: system prompt, messages (with a few tokens of framing per
/// message) and tool definitions.
pub fn count_request(r: &Request) -> u64 {
    let system: u64 = r.system.iter().map(|s| count(s)).sum();
    let messages: u64 = r.messages.iter().map(|m| 3 + m.parts.iter().map(part_tokens).sum::<u64>()).sum();
    let tools: u64 = r
        .tools
        .iter()
        .map(|t| count(&t.name) + t.description.as_deref().map_or(0, count) + count(&t.parameters.to_string()) + 5)
        .sum();
    system + messages + tools
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ir::{Message, Role};

    #[test]
    fn counts_are_bpe_tokens_not_characters() {
        assert_eq!(count("hello world"), 2);
        let long = "tokenization ".repeat(100);
        let n = count(&long);
        assert!(n < long.len() as u64 / 4, "{n} tokens for {} chars", long.len());
        let r = Request {
            system: vec!["You are helpful.".into()],
            messages: vec![Message { role: Role::User, parts: vec![Part::Text("hello world".into())] }],
            ..Default::default()
        };
        assert_eq!(count_request(&r), 4 + 3 + 2);
    }
}
