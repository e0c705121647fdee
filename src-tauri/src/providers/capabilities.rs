//! Model capabilities (`models.toml`: data, matched by model id) and the check that lets
//! routing skip a model that cannot serve a request: one with images for a text-only model,
//! one with tools for a model without tool use, one larger than the model's context, and a
//! chat request for an embedding model or the reverse.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Capabilities {
    pub context: u64,
    #[serde(default)]
    pub images: bool,
    #[serde(default)]
    pub tools: bool,
    #[serde(default)]
    pub reasoning: bool,
    /// An embedding model, and the size of its vectors.
    #[serde(default)]
    pub embedding: Option<u32>,
}

/// What a model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Chat,
    Embedding,
}

/// What `model` is for: from the table, else an id naming embeddings (`nomic-embed-text`,
/// `mistral-embed`); None when nothing tells.
pub fn kind_of(model: &str) -> Option<ModelKind> {
    match lookup(model) {
        Some(caps) if caps.embedding.is_some() => Some(ModelKind::Embedding),
        Some(_) => Some(ModelKind::Chat),
        None if model.to_ascii_lowercase().contains("embed") => Some(ModelKind::Embedding),
        None => None,
    }
}

/// Why `model` cannot serve an embeddings request, if it cannot.
pub fn embeddings_skip_reason(model: &str) -> Option<String> {
    (kind_of(model) == Some(ModelKind::Chat)).then(|| format!("{model} is a chat model, not an embedding model"))
}

/// What a request needs of a model, read cheaply from its raw body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    pub images: bool,
    pub tools: bool,
    /// An estimate of the input tokens (body bytes / 4): enough to tell a request far too
    /// large for a model, not a count.
    pub est_tokens: u64,
}

fn table() -> &'static BTreeMap<String, Capabilities> {
    static TABLE: OnceLock<BTreeMap<String, Capabilities>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let raw: BTreeMap<String, Capabilities> =
            toml::from_str(include_str!("models.toml")).expect("models.toml is valid (checked by a unit test)");
        raw.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect()
    })
}

/// The capabilities of a model id, by the longest matching pattern.
pub fn lookup(model: &str) -> Option<Capabilities> {
    let id = model.rsplit('/').next().unwrap_or(model).to_ascii_lowercase();
    let mut best: Option<(usize, Capabilities)> = None;
    for (pattern, caps) in table() {
        let matches = match pattern.strip_suffix('*') {
            Some(prefix) => id.starts_with(prefix),
            None => id == *pattern,
        };
        if matches && best.is_none_or(|(len, _)| pattern.len() > len) {
            best = Some((pattern.len(), *caps));
        }
    }
    best.map(|(_, c)| c)
}

/// Why `model` cannot serve a request with `needs`, if it cannot.
pub fn skip_reason(model: &str, needs: &Needs) -> Option<String> {
    if kind_of(model) == Some(ModelKind::Embedding) {
        return Some(format!("{model} is an embedding model: send it to /v1/embeddings"));
    }
    let caps = lookup(model)?;
    if needs.images && !caps.images {
        return Some(format!("{model} takes no images"));
    }
    if needs.tools && !caps.tools {
        return Some(format!("{model} takes no tools"));
    }
    if needs.est_tokens > caps.context {
        return Some(format!(
            "the request (about {} tokens) exceeds {model}'s context of {}",
            needs.est_tokens, caps.context
        ));
    }
    None
}

/// Reads what a request needs from its raw bytes: image parts of any format, a non-empty
/// top-level `tools`, and its size.
pub fn needs_of(body: &[u8]) -> Needs {
    let has = |needle: &[u8]| memchr::memmem::find(body, needle).is_some();
    let images = [
        &b"\"image_url\""[..],
        b"\"input_image\"",
        b"\"inlineData\"",
        b"\"inline_data\"",
        b"\"type\":\"image\"",
        b"\"type\": \"image\"",
    ]
    .iter()
    .any(|n| has(n));
    let tools = crate::formats::envelope::top_level_raw(body, "tools").is_some_and(|raw| {
        let t = raw.trim();
        t.starts_with('[') && t.trim_start_matches('[').trim_start() != "]"
    });
    Needs { images, tools, est_tokens: body.len() as u64 / 4 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_longest_first() {
        assert_eq!(lookup("gpt-5.1-codex").unwrap().context, 400000);
        assert!(
            lookup("moonshotai/kimi-k2-thinking").unwrap().reasoning,
            "vendor prefix ignored, longest pattern wins"
        );
        assert!(!lookup("kimi-k2-0905-preview").unwrap().reasoning);
        assert!(lookup("DeepSeek-Chat").is_some());
        assert!(lookup("mock-model").is_none());
    }

    #[test]
    fn skips_say_why() {
        let images = Needs { images: true, ..Default::default() };
        assert!(skip_reason("deepseek-chat", &images).unwrap().contains("takes no images"));
        assert_eq!(skip_reason("claude-sonnet-4-5", &images), None);
        assert_eq!(skip_reason("unknown-model", &images), None, "unknown models are never skipped");
        let big = Needs { est_tokens: 150_000, ..Default::default() };
        assert!(skip_reason("deepseek-chat", &big).unwrap().contains("exceeds"));
        assert_eq!(skip_reason("gemini-2.5-pro", &big), None);
    }

    #[test]
    fn embedding_models_are_told_apart() {
        assert_eq!(lookup("text-embedding-3-small").unwrap().embedding, Some(1536));
        assert_eq!(kind_of("openai/text-embedding-3-large"), Some(ModelKind::Embedding));
        assert_eq!(kind_of("nomic-embed-text"), Some(ModelKind::Embedding), "by its name");
        assert_eq!(kind_of("gpt-5-mini"), Some(ModelKind::Chat));
        assert_eq!(kind_of("mock-model"), None);
        assert!(embeddings_skip_reason("gpt-5-mini").unwrap().contains("chat model"));
        assert_eq!(embeddings_skip_reason("my-custom-model"), None, "unknown models are tried");
        assert!(skip_reason("voyage-3.5", &Needs::default()).unwrap().contains("embedding model"));
    }

    #[test]
    fn needs_are_read_from_any_format() {
        assert!(needs_of(br#"{"messages":[{"content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#).images);
        assert!(needs_of(br#"{"messages":[{"content":[{"type": "image","source":{}}]}]}"#).images);
        assert!(needs_of(br#"{"contents":[{"parts":[{"inlineData":{}}]}]}"#).images);
        assert!(!needs_of(br#"{"messages":[{"content":"please look at \"image_url\" in the code"}]}"#).images);
        assert!(needs_of(br#"{"tools":[{"type":"function"}]}"#).tools);
        assert!(!needs_of(br#"{"tools":[ ]}"#).tools);
        assert!(!needs_of(br#"{"messages":[]}"#).tools);
    }
}
