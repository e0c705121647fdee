//! Upstream requests: one pooled HTTP client for every provider, the URL of each endpoint and
//! the auth header each provider's API expects. Nothing here reads or writes bodies: callers
//! hand over bytes and get the response back with its body still streaming.

use super::runtime::{AccountRuntime, ProviderRuntime};
use super::{AuthStyle, Format};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use std::time::Duration;

pub use crate::base::{error_chain, ProxyChoice, USER_AGENT};
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("cannot reach provider '{provider}' at {url}: {reason}")]
    Unreachable { provider: String, url: String, reason: String },
    #[error("provider '{provider}' timed out: {reason}")]
    Timeout { provider: String, reason: String },
    #[error("the account's API key cannot be sent in an HTTP header (it holds characters headers forbid)")]
    BadCredential,
    #[error("cannot build the URL for provider '{provider}': {reason}")]
    BadUrl { provider: String, reason: String },
    #[error("the proxy of provider '{provider}' cannot be used: {reason}")]
    BadProxy { provider: String, reason: String },
}

/// Pooled HTTP clients: one for the environment's proxy setting, one per explicit proxy
/// choice, built on first use and kept (a client holds its connection pool).
#[derive(Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    others: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<ProxyChoice, reqwest::Client>>>,
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .redirect(reqwest::redirect::Policy::none())
}

impl UpstreamClient {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self { http: builder().build()?, others: Default::default() })
    }

    /// The client for a provider's proxy choice.
    fn client_for(&self, provider: &ProviderRuntime) -> Result<reqwest::Client, UpstreamError> {
        if provider.proxy == ProxyChoice::Environment {
            return Ok(self.http.clone());
        }
        let mut others = self.others.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = others.get(&provider.proxy) {
            return Ok(client.clone());
        }
        let bad =
            |e: reqwest::Error| UpstreamError::BadProxy { provider: provider.id.clone(), reason: error_chain(&e) };
        let client = match &provider.proxy {
            ProxyChoice::Environment => self.http.clone(),
            ProxyChoice::Direct => builder().no_proxy().build().map_err(bad)?,
            ProxyChoice::Url { url, no_proxy } => {
                let proxy =
                    reqwest::Proxy::all(url.as_str()).map_err(bad)?.no_proxy(reqwest::NoProxy::from_string(no_proxy));
                builder().proxy(proxy).build().map_err(bad)?
            }
        };
        others.insert(provider.proxy.clone(), client.clone());
        Ok(client)
    }

    /// POSTs a JSON body to the provider's endpoint with the account's credential and the
    /// headers its API requires (`extra` carries what the client sent that must go along, such
    /// as Anthropic's version and beta flags). The response's body is left unread: it streams
    /// to the caller.
    pub async fn post_json(
        &self,
        provider: &ProviderRuntime,
        account: Option<&AccountRuntime>,
        url: reqwest::Url,
        accept: &'static str,
        extra: HeaderMap,
        body: Bytes,
    ) -> Result<reqwest::Response, UpstreamError> {
        let mut headers = extra;
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(http::header::ACCEPT, HeaderValue::from_static(accept));
        if let Some(secret) = account.and_then(|a| a.secret.as_ref()) {
            apply_auth(&mut headers, provider.auth, secret.expose())?;
        }
        if provider.kind == Format::Anthropic && !headers.contains_key("anthropic-version") {
            headers.insert("anthropic-version", HeaderValue::from_static(crate::formats::anthropic::API_VERSION));
        }
        let shown = url.to_string();
        let client = self.client_for(provider)?;
        client.post(url).headers(headers).body(body).send().await.map_err(|e| classify(provider, &shown, e))
    }
}

impl UpstreamClient {
    /// GETs the provider's model list with the account's credential: the cheapest call that
    /// proves a key works (it costs no tokens).
    pub async fn get_models(
        &self,
        provider: &ProviderRuntime,
        account: Option<&AccountRuntime>,
    ) -> Result<reqwest::Response, UpstreamError> {
        let path = match provider.kind {
            Format::Openai | Format::Responses => "/models",
            Format::Anthropic => "/v1/models",
            Format::Gemini => "/v1beta/models",
        };
        let shown = format!("{}{path}", provider.base_url);
        let url = reqwest::Url::parse(&shown)
            .map_err(|e| UpstreamError::BadUrl { provider: provider.id.clone(), reason: e.to_string() })?;
        let mut headers = HeaderMap::new();
        headers.insert(http::header::ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(secret) = account.and_then(|a| a.secret.as_ref()) {
            apply_auth(&mut headers, provider.auth, secret.expose())?;
        }
        if provider.kind == Format::Anthropic {
            headers.insert("anthropic-version", HeaderValue::from_static(crate::formats::anthropic::API_VERSION));
        }
        let client = self.client_for(provider)?;
        client
            .get(url)
            .headers(headers)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .map_err(|e| classify(provider, &shown, e))
    }
}

/// The endpoint of a provider kind that does not depend on the model.
pub fn fixed_endpoint(kind: Format, base_url: &str) -> Result<Option<reqwest::Url>, String> {
    let path = match kind {
        Format::Openai => "/chat/completions",
        Format::Responses => "/responses",
        Format::Anthropic => "/v1/messages",
        Format::Gemini => return Ok(None),
    };
    reqwest::Url::parse(&format!("{base_url}{path}")).map(Some).map_err(|e| e.to_string())
}

/// The embeddings API of a provider and its URL for `model`: OpenAI-compatible providers at
/// `{base}/embeddings` (Voyage, known by its host, in its own dialect), Gemini at
/// `:batchEmbedContents`. None for Anthropic, which has no embeddings API.
pub fn embeddings_endpoint(
    provider: &ProviderRuntime,
    model: &str,
) -> Result<Option<(crate::formats::embeddings::Dialect, reqwest::Url)>, UpstreamError> {
    use crate::formats::embeddings::Dialect;
    let (dialect, url) = match provider.kind {
        Format::Anthropic => return Ok(None),
        Format::Gemini => {
            let model: String = model.split('/').map(|seg| seg.replace(':', "%3A")).collect::<Vec<_>>().join("/");
            (Dialect::Gemini, format!("{}/v1beta/models/{model}:batchEmbedContents", provider.base_url))
        }
        Format::Openai | Format::Responses => {
            let voyage = provider.base_url.contains("voyageai.com");
            (if voyage { Dialect::Voyage } else { Dialect::OpenAi }, format!("{}/embeddings", provider.base_url))
        }
    };
    reqwest::Url::parse(&url)
        .map(|u| Some((dialect, u)))
        .map_err(|e| UpstreamError::BadUrl { provider: provider.id.clone(), reason: e.to_string() })
}

/// The URL a request for `model` goes to.
pub fn endpoint(
    provider: &ProviderRuntime,
    model: &str,
    stream: bool,
    gemini_sse: bool,
) -> Result<reqwest::Url, UpstreamError> {
    if let Some(url) = &provider.endpoint {
        return Ok(url.clone());
    }
    let method = if stream { "streamGenerateContent" } else { "generateContent" };
    let query = if stream && gemini_sse { "?alt=sse" } else { "" };
    let model: String = model.split('/').map(|seg| seg.replace(':', "%3A")).collect::<Vec<_>>().join("/");
    reqwest::Url::parse(&format!("{}/v1beta/models/{model}:{method}{query}", provider.base_url))
        .map_err(|e| UpstreamError::BadUrl { provider: provider.id.clone(), reason: e.to_string() })
}

/// The URL of Anthropic's token counter for a provider.
pub fn count_tokens_endpoint(provider: &ProviderRuntime) -> Result<reqwest::Url, UpstreamError> {
    reqwest::Url::parse(&format!("{}/v1/messages/count_tokens", provider.base_url))
        .map_err(|e| UpstreamError::BadUrl { provider: provider.id.clone(), reason: e.to_string() })
}

/// Largest image fetched to inline for a provider that takes no image URLs.
const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

impl UpstreamClient {
    /// Fetches an image URL for a provider that only takes inline images. Returns the media
    /// type and the bytes; refuses what is not an image or is larger than 20 MiB.
    pub async fn fetch_image(&self, url: &str) -> Result<(String, Bytes), String> {
        let response = self.http.get(url).timeout(Duration::from_secs(30)).send().await.map_err(|e| error_chain(&e))?;
        if !response.status().is_success() {
            return Err(format!("it answered {}", response.status()));
        }
        let media_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
            .unwrap_or_default();
        if !media_type.starts_with("image/") {
            return Err(format!("it is not an image (content-type '{media_type}')"));
        }
        if response.content_length().is_some_and(|n| n as usize > MAX_IMAGE_BYTES) {
            return Err("it is larger than 20 MiB".into());
        }
        let limited = http_body_util::Limited::new(reqwest::Body::from(response), MAX_IMAGE_BYTES);
        let bytes = http_body_util::BodyExt::collect(limited).await.map_err(|e| error_chain(e.as_ref()))?.to_bytes();
        Ok((media_type, bytes))
    }
}

fn apply_auth(headers: &mut HeaderMap, style: AuthStyle, key: &str) -> Result<(), UpstreamError> {
    let value = |v: String| {
        let mut v = HeaderValue::from_str(&v).map_err(|_| UpstreamError::BadCredential)?;
        v.set_sensitive(true);
        Ok::<_, UpstreamError>(v)
    };
    match style {
        AuthStyle::Bearer => headers.insert(http::header::AUTHORIZATION, value(format!("Bearer {key}"))?),
        AuthStyle::XApiKey => headers.insert("x-api-key", value(key.to_string())?),
        AuthStyle::XGoogApiKey => headers.insert("x-goog-api-key", value(key.to_string())?),
        AuthStyle::ApiKeyHeader => headers.insert("api-key", value(key.to_string())?),
        // A login's headers come from the token layer (`login::tokens`), already in `extra`.
        AuthStyle::None | AuthStyle::Login => None,
    };
    Ok(())
}

fn classify(provider: &ProviderRuntime, url: &str, e: reqwest::Error) -> UpstreamError {
    let reason = error_chain(&e);
    if e.is_timeout() {
        UpstreamError::Timeout { provider: provider.id.clone(), reason }
    } else {
        UpstreamError::Unreachable { provider: provider.id.clone(), url: url.to_string(), reason }
    }
}
