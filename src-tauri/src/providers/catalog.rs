//! The built-in catalog of API-key providers, read from `catalog.toml` (data, not code per
//! provider). Adding an account to a catalog provider needs no base URL.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// An entry is the same type the dashboard lists (its id is the table's name in the file).
pub use switchyard_api::CatalogEntry;

static CATALOG: OnceLock<BTreeMap<String, CatalogEntry>> = OnceLock::new();

/// Every catalog entry by id (sorted).
pub fn all() -> &'static BTreeMap<String, CatalogEntry> {
    CATALOG.get_or_init(|| {
        let mut entries: BTreeMap<String, CatalogEntry> =
            toml::from_str(include_str!("catalog.toml")).expect("catalog.toml is valid (checked by a unit test)");
        for (id, entry) in entries.iter_mut() {
            entry.id = id.clone();
        }
        entries
    })
}

pub fn get(id: &str) -> Option<&'static CatalogEntry> {
    all().get(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{AuthStyle, Format};

    #[test]
    fn catalog_parses_and_names_the_product_providers() {
        let ids: Vec<&str> = all().keys().map(String::as_str).collect();
        for id in [
            "openai",
            "anthropic",
            "gemini",
            "openrouter",
            "deepseek",
            "groq",
            "xai",
            "mistral",
            "together",
            "fireworks",
            "cerebras",
            "nvidia",
            "siliconflow",
            "zai",
            "moonshot",
            "minimax",
            "dashscope",
            "azure",
            "ollama",
        ] {
            assert!(ids.contains(&id), "catalog lacks {id}");
            crate::providers::validate_provider_id(id).unwrap();
        }
    }

    #[test]
    fn base_urls_follow_the_documented_shape() {
        for e in all().values() {
            assert!(e.base_url.starts_with("http"), "{}: {}", e.id, e.base_url);
            assert!(!e.base_url.ends_with('/'), "{}: trailing slash", e.id);
            match e.kind {
                Format::Anthropic | Format::Gemini => {
                    assert!(!e.base_url.ends_with("/v1"), "{}: host root expected", e.id)
                }
                // Logins go where the official client goes (ChatGPT's backend, Copilot's API).
                Format::Openai | Format::Responses if e.auth == AuthStyle::Login => {}
                Format::Openai | Format::Responses => {
                    let last = e.base_url.rsplit('/').next().unwrap_or_default();
                    assert!(
                        last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit()),
                        "{}: {}",
                        e.id,
                        e.base_url
                    )
                }
            }
        }
    }
}
