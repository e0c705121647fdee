//! POST /v1/chat/completions: OpenAI Chat Completions in, routed to the provider named by the
//! model, relayed back as it streams. Same-format upstreams get the client's bytes with only the
//! model name changed.

use super::body::{read_limited, RelayBody};
use super::error::ApiError;
use super::{auth, AppState};
use crate::formats::envelope::ChatEnvelope;
use crate::providers::ProviderKind;
use crate::routing;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, StatusCode, Uri};

pub async fn chat_completions(State(app): State<AppState>, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    match handle(app, uri, headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn handle(app: AppState, uri: Uri, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let config = app.live.get();
    auth::check(&config, app.exposed, &headers, &uri)?;
    let body = read_limited(&headers, body, config.settings.max_body_bytes()).await?;
    let envelope = ChatEnvelope::parse(&body)?;
    let target = routing::resolve(&config, envelope.model())?;
    if target.provider.kind != ProviderKind::Openai {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "invalid_request_error",
            format!(
                "provider '{}' speaks the {} API; Chat Completions requests reach only OpenAI-compatible providers until translation is in place",
                target.provider.id, target.provider.kind
            ),
        )
        .code("format_not_supported"));
    }
    let upstream_body = Bytes::from(envelope.with_model(&target.upstream_model));
    let accept = if envelope.stream() { "text/event-stream" } else { "application/json" };
    let upstream = app
        .upstream
        .post_json(
            &target.provider,
            target.account.as_ref(),
            &target.provider.chat_completions_url,
            accept,
            upstream_body,
        )
        .await?;
    Ok(relay(upstream, &target.provider.id))
}

/// Response headers worth keeping from the upstream: the body's type and the provider's
/// rate-limit and request-id information. Hop-by-hop and length headers are not relayed.
fn keep_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    matches!(n, "content-type" | "cache-control" | "retry-after" | "x-request-id" | "openai-processing-ms")
        || n.starts_with("x-ratelimit-")
        || n.starts_with("anthropic-ratelimit-")
}

fn relay(upstream: reqwest::Response, provider: &str) -> Response {
    let status = upstream.status();
    let mut headers = HeaderMap::with_capacity(8);
    for (name, value) in upstream.headers() {
        if keep_header(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let sse = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    if sse {
        headers.insert("x-accel-buffering", http::HeaderValue::from_static("no"));
    }
    if !status.is_success() {
        tracing::debug!(%status, provider, "upstream answered with an error; relayed as is");
    }
    let body = RelayBody::new(Box::pin(upstream.bytes_stream()), sse, provider.to_string()).into_body();
    (status, headers, body).into_response()
}
