//! The one request path every inbound API shares: key check, body, model, route, then either
//! same-format pass-through (the client's bytes with only the model name changed) or
//! translation through the IR, and the answer relayed or transcoded as it streams. Errors are
//! rendered in the client's format.

use super::body::{read_limited, RelayBody};
use super::error::ApiError;
use super::transcode::TranscodeBody;
use super::{auth, AppState};
use crate::formats::envelope::Envelope;
use crate::formats::ir::{Image, Part, Request};
use crate::formats::translate::{self, Format, StreamDecoder, StreamEncoder};
use crate::providers::upstream;
use crate::routing::{self, Target};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eventsource_stream::Eventsource;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use http_body_util::BodyExt;

/// Largest upstream answer read whole (non-streaming translation, error bodies).
const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;

/// What the route tells about a request before its body is read.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub format: Format,
    /// Gemini: the model named in the URL.
    pub path_model: Option<String>,
    /// Gemini: `:streamGenerateContent`.
    pub path_stream: bool,
    /// Gemini: `?alt=sse`.
    pub gemini_sse: bool,
}

impl Inbound {
    pub fn body_format(format: Format) -> Self {
        Self { format, path_model: None, path_stream: false, gemini_sse: false }
    }
}

pub async fn handle(app: AppState, inbound: Inbound, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let format = inbound.format;
    match serve(app, inbound, uri, headers, body).await {
        Ok(response) => response,
        Err(e) => e.render(format),
    }
}

/// The model and stream flag, from the body's top level or (Gemini) the path.
fn model_and_stream(inbound: &Inbound, body: &[u8]) -> Result<(String, bool), ApiError> {
    match &inbound.path_model {
        Some(model) => {
            // The body must still be a JSON object.
            if !body.is_empty() {
                serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body).map_err(|e| {
                    ApiError::bad_request(format!("the request body is not a valid JSON object: {e}"))
                        .code("invalid_json")
                })?;
            }
            Ok((model.clone(), inbound.path_stream))
        }
        None => {
            let envelope = Envelope::parse(body)?;
            Ok((envelope.model().to_string(), envelope.stream()))
        }
    }
}

async fn serve(
    app: AppState,
    inbound: Inbound,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let config = app.live.get();
    auth::check(&config, app.exposed, &headers, &uri)?;
    let body = read_limited(&headers, body, config.settings.max_body_bytes()).await?;
    let (model, stream) = model_and_stream(&inbound, &body)?;
    let target = routing::resolve(&config, &model)?;
    let upstream_format = target.provider.kind;
    let extra = forwarded_headers(&headers, inbound.format, upstream_format);
    if upstream_format == inbound.format {
        let upstream_body = match inbound.format {
            Format::Gemini => body,
            _ => Bytes::from(Envelope::parse(&body)?.with_model(&target.upstream_model)),
        };
        let url = upstream::endpoint(&target.provider, &target.upstream_model, stream, inbound.gemini_sse)?;
        let response = send(&app, &target, url, stream, extra, upstream_body).await?;
        return Ok(relay(response, &target, &inbound, stream));
    }
    let mut request = translate::decode_request(inbound.format, &body, &model, stream)?;
    request.model = target.upstream_model.clone();
    if upstream_format == Format::Gemini {
        inline_image_urls(&app, &mut request).await?;
    }
    let include_usage = request.stream_usage;
    let upstream_body =
        Bytes::from(serde_json::to_vec(&translate::encode_request(upstream_format, &request)).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", format!("cannot encode the request: {e}"))
        })?);
    let url = upstream::endpoint(&target.provider, &target.upstream_model, stream, true)?;
    let response = send(&app, &target, url, stream, extra, upstream_body).await?;
    if !response.status().is_success() {
        return Err(upstream_error(response, &target).await);
    }
    if stream {
        let decoder = StreamDecoder::new(upstream_format);
        let encoder = StreamEncoder::new(inbound.format, &model, include_usage, inbound.gemini_sse);
        let events = response.bytes_stream().eventsource();
        let body = TranscodeBody::new(events, decoder, encoder, target.provider.id.clone());
        let content_type = if inbound.format == Format::Gemini && !inbound.gemini_sse {
            "application/json"
        } else {
            "text/event-stream"
        };
        let headers = [(http::header::CONTENT_TYPE, content_type), (http::header::CACHE_CONTROL, "no-cache")];
        return Ok((headers, Body::from_stream(body)).into_response());
    }
    let bytes = read_upstream(response, &target).await?;
    let mut answer = translate::decode_response(upstream_format, &bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            format!("provider '{}' sent an answer that cannot be read: {e}", target.provider.id),
        )
    })?;
    if answer.model.is_empty() {
        answer.model = target.upstream_model.clone();
    }
    Ok(axum::Json(translate::encode_response(inbound.format, &answer)).into_response())
}

/// Gemini takes no image URLs: fetch each and send it inline.
async fn inline_image_urls(app: &AppState, request: &mut Request) -> Result<(), ApiError> {
    use base64::Engine;
    let images = request.messages.iter_mut().flat_map(|m| m.parts.iter_mut()).flat_map(|p| match p {
        Part::ToolResult { content, .. } => content.iter_mut().collect::<Vec<_>>(),
        other => vec![other],
    });
    for part in images {
        if let Part::Image(Image::Url(url)) = part {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                continue;
            }
            let (media_type, bytes) = app.upstream.fetch_image(url).await.map_err(|why| {
                ApiError::bad_request(format!("cannot fetch the image {url} to send it inline: {why}"))
                    .code("image_fetch_failed")
            })?;
            *part = Part::Image(Image::Base64 {
                media_type,
                data: base64::engine::general_purpose::STANDARD.encode(&bytes),
            });
        }
    }
    Ok(())
}

async fn send(
    app: &AppState,
    target: &Target,
    url: reqwest::Url,
    stream: bool,
    extra: HeaderMap,
    body: Bytes,
) -> Result<reqwest::Response, ApiError> {
    let accept = if stream { "text/event-stream" } else { "application/json" };
    Ok(app.upstream.post_json(&target.provider, target.account.as_ref(), url, accept, extra, body).await?)
}

/// Client headers that must reach a same-family upstream: Anthropic's API version and beta
/// flags (Claude Code relies on them).
fn forwarded_headers(headers: &HeaderMap, inbound: Format, upstream: Format) -> HeaderMap {
    let mut extra = HeaderMap::new();
    if inbound == Format::Anthropic && upstream == Format::Anthropic {
        for name in ["anthropic-version", "anthropic-beta"] {
            for value in headers.get_all(name) {
                extra.append(HeaderName::from_static(name), value.clone());
            }
        }
    }
    extra
}

async fn read_upstream(response: reqwest::Response, target: &Target) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(reqwest::Body::from(response), MAX_UPSTREAM_BODY);
    limited.collect().await.map(|c| c.to_bytes()).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            format!(
                "cannot read the answer of provider '{}': {}",
                target.provider.id,
                upstream::error_chain(e.as_ref())
            ),
        )
    })
}

/// An upstream's error answer, re-rendered in the client's format with the same status.
async fn upstream_error(response: reqwest::Response, target: &Target) -> ApiError {
    let status = response.status();
    let retry_after = response.headers().get(http::header::RETRY_AFTER).cloned();
    let body = read_upstream(response, target).await.unwrap_or_default();
    let message = format!(
        "provider '{}' answered {}: {}",
        target.provider.id,
        status.as_u16(),
        translate::upstream_error_message(&body)
    );
    let error_type = match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "upstream_error",
    };
    let mut err = ApiError::new(status, error_type, message);
    err.retry_after = retry_after;
    err
}

/// Response headers worth keeping from the upstream: the body's type and the provider's
/// rate-limit and request-id information. Hop-by-hop and length headers are not relayed.
fn keep_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    matches!(
        n,
        "content-type" | "cache-control" | "retry-after" | "x-request-id" | "request-id" | "openai-processing-ms"
    ) || n.starts_with("x-ratelimit-")
        || n.starts_with("anthropic-ratelimit-")
}

/// Relays a same-format answer as it streams.
fn relay(upstream: reqwest::Response, target: &Target, inbound: &Inbound, stream: bool) -> Response {
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
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    let stream_format = (status.is_success() && (sse || stream)).then_some((inbound.format, sse));
    let body = RelayBody::new(Box::pin(upstream.bytes_stream()), stream_format, target.provider.id.clone()).into_body();
    (status, headers, body).into_response()
}
