//! Providers: what an upstream is (its wire format, base URL and auth style), the built-in
//! catalog of API-key providers, and how a request to one is built (`upstream`).

pub mod capabilities;
pub mod catalog;
pub mod upstream;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The wire format an upstream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI Chat Completions (`POST {base}/chat/completions`).
    Openai,
    /// Anthropic Messages (`POST {base}/v1/messages`).
    Anthropic,
    /// Google Gemini (`POST {base}/v1beta/models/{model}:generateContent`).
    Gemini,
    /// OpenAI Responses (`POST {base}/responses`).
    Responses,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [Self::Openai, Self::Anthropic, Self::Gemini, Self::Responses];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Responses => "responses",
        }
    }

    /// The auth style a custom provider of this kind gets when none is given.
    pub fn default_auth(self) -> AuthStyle {
        match self {
            Self::Openai | Self::Responses => AuthStyle::Bearer,
            Self::Anthropic => AuthStyle::XApiKey,
            Self::Gemini => AuthStyle::XGoogApiKey,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown provider kind '{s}': expected openai, anthropic, gemini or responses"))
    }
}

/// How the account's secret is presented to the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthStyle {
    /// `Authorization: Bearer KEY`
    #[serde(rename = "bearer")]
    Bearer,
    /// `x-api-key: KEY` (Anthropic)
    #[serde(rename = "x-api-key")]
    XApiKey,
    /// `x-goog-api-key: KEY` (Gemini)
    #[serde(rename = "x-goog-api-key")]
    XGoogApiKey,
    /// `api-key: KEY` (Azure OpenAI)
    #[serde(rename = "api-key")]
    ApiKeyHeader,
    /// No credential (a local server such as Ollama).
    #[serde(rename = "none")]
    None,
    /// A subscription login: the account holds OAuth tokens (`login`), refreshed as needed.
    #[serde(rename = "login")]
    Login,
}

impl AuthStyle {
    pub const ALL: [AuthStyle; 6] =
        [Self::Bearer, Self::XApiKey, Self::XGoogApiKey, Self::ApiKeyHeader, Self::None, Self::Login];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::XApiKey => "x-api-key",
            Self::XGoogApiKey => "x-goog-api-key",
            Self::ApiKeyHeader => "api-key",
            Self::None => "none",
            Self::Login => "login",
        }
    }
}

impl fmt::Display for AuthStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            format!("unknown auth style '{s}': expected bearer, x-api-key, x-goog-api-key, api-key, none or login")
        })
    }
}

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
