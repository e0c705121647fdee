//! A provider's own list of its models, as each API answers `GET models`: OpenAI-compatible
//! and Responses providers (Ollama, OpenRouter, vLLM, LM Studio... too) and Anthropic as
//! `{"data": [{"id"}]}`, Gemini as `{"models": [{"name": "models/ID"}]}`.

use super::runtime::{AccountRuntime, ProviderRuntime};
use super::upstream::{error_chain, UpstreamClient};
use crate::base::kinds::Format;
use serde_json::Value;

/// The model ids in a model-list answer of `kind`.
pub fn parse(kind: Format, body: &Value) -> Vec<String> {
    let (list, field) = match kind {
        Format::Gemini => ("models", "name"),
        Format::Openai | Format::Responses | Format::Anthropic => ("data", "id"),
    };
    let mut ids: Vec<String> = body[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m[field].as_str())
        .map(|id| id.strip_prefix("models/").unwrap_or(id).to_string())
        .filter(|id| !id.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Asks the provider for its models with `account`'s credential (none for a keyless local
/// server).
pub async fn fetch(
    client: &UpstreamClient,
    provider: &ProviderRuntime,
    account: Option<&AccountRuntime>,
) -> Result<Vec<String>, String> {
    let response = client.get_models(provider, account).await.map_err(|e| e.to_string())?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("it answered {status}"));
    }
    let body: Value = response.json().await.map_err(|e| format!("its list cannot be read: {}", error_chain(&e)))?;
    Ok(parse(provider.kind, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_api_lists_its_models() {
        let openai = json!({"object": "list", "data": [{"id": "gpt-5-mini"}, {"id": "gpt-5"}, {"id": "gpt-5"}]});
        assert_eq!(parse(Format::Openai, &openai), ["gpt-5", "gpt-5-mini"]);
        let anthropic = json!({"data": [{"id": "claude-sonnet-4-5", "type": "model"}], "has_more": false});
        assert_eq!(parse(Format::Anthropic, &anthropic), ["claude-sonnet-4-5"]);
        let gemini = json!({"models": [{"name": "models/gemini-2.5-flash"}, {"name": "models/gemini-2.5-pro"}]});
        assert_eq!(parse(Format::Gemini, &gemini), ["gemini-2.5-flash", "gemini-2.5-pro"]);
        assert!(parse(Format::Openai, &json!({"error": "nope"})).is_empty());
    }
}
