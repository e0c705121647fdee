//! Providers: what an upstream is (its wire format, base URL and auth style), the built-in
//! catalog of API-key providers, and how a request to one is built (`upstream`).

pub mod capabilities;
pub mod catalog;
pub mod model_list;
pub mod runtime;
pub mod upstream;

pub use crate::base::kinds::{AuthStyle, Format};

/// Provider ids appear in model names (`ID/MODEL`) and URLs: keep them simple.
pub fn validate_provider_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid provider id '{id}': use 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit"
        ))
    }
}
