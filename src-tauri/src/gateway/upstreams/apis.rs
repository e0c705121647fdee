//! The four public APIs (OpenAI Chat, Anthropic Messages, Gemini, OpenAI Responses) as every
//! upstream but Kiro speaks them: a translated request encoded for the provider's API, and a
//! successful answer relayed unchanged when the client speaks that API or transcoded into the
//! client's as it streams (or whole).

use super::super::attempts::{read_upstream, Prepared};
use super::super::body::RelayBody;
use super::super::error::ApiError;
use super::super::inbound::Inbound;
use super::super::stall::StallGuard;
use super::super::transcode::TranscodeBody;
use super::super::AppState;
use crate::formats::ir::{Image, Part, Request};
use crate::formats::translate::{self, StreamDecoder, StreamEncoder};
use crate::providers::upstream;
use crate::routing::Candidate;
use crate::usage::{SseUsageScanner, UsageTap};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eventsource_stream::Eventsource;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use std::time::Duration;

/// A request in the IR encoded for the provider's API.
pub fn encode(candidate: &Candidate, request: &Request, stream: bool, extra: HeaderMap) -> Result<Prepared, ApiError> {
    let body = serde_json::to_vec(&translate::encode_request(candidate.provider.kind, request)).map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", format!("cannot encode the request: {e}"))
    })?;
    let url = upstream::endpoint(&candidate.provider, &candidate.upstream_model, stream, true)?;
    Ok(Prepared { url, body: Bytes::from(body), extra, translated: true, gather: false })
}

/// Gemini and Kiro take no image URLs: fetch each and send it inline.
pub async fn inline_image_urls(app: &AppState, request: &mut Request) -> Result<(), ApiError> {
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

/// A successful answer in another API's shape, translated as it streams (or whole).
#[allow(clippy::too_many_arguments)]
pub async fn translated_answer(
    response: reqwest::Response,
    candidate: &Candidate,
    inbound: &Inbound,
    stream: bool,
    model: &str,
    include_usage: bool,
    stall: Duration,
    tap: &UsageTap,
) -> Result<Response, ApiError> {
    let upstream_format = candidate.provider.kind;
    if stream {
        let decoder = StreamDecoder::new(upstream_format);
        let encoder = StreamEncoder::new(inbound.format, model, include_usage, inbound.gemini_sse);
        let events = StallGuard::new(response.bytes_stream(), stall).eventsource();
        let body = TranscodeBody::new(events, decoder, encoder, candidate.provider.id.clone(), tap.clone());
        return Ok(super::super::transcode::respond(body, inbound));
    }
    let bytes = read_upstream(response, candidate).await?;
    let mut answer = translate::decode_response(upstream_format, &bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            format!("provider '{}' sent an answer that cannot be read: {e}", candidate.provider.id),
        )
    })?;
    if answer.model.is_empty() {
        answer.model = candidate.upstream_model.clone();
    }
    tap.add_usage(answer.usage);
    Ok(axum::Json(translate::encode_response(inbound.format, &answer)).into_response())
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
pub fn relay(
    upstream: reqwest::Response,
    candidate: &Candidate,
    asked: &super::Asked<'_>,
    stall: Duration,
    tap: &UsageTap,
) -> Response {
    let (inbound, stream) = (asked.inbound, asked.stream);
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
    let guarded = StallGuard::new(upstream.bytes_stream(), stall);
    let scanner = SseUsageScanner::new(inbound.format, sse);
    let mut relay = RelayBody::new(Box::pin(guarded), stream_format, candidate.provider.id.clone()).with_usage(
        scanner,
        tap.clone(),
        inbound.format,
    );
    if asked.strip_usage_event && sse {
        relay = relay.without_usage_event();
    }
    let body = relay.into_body();
    (status, headers, body).into_response()
}
