//! The chat request as the attempt loop's job, for all four inbound APIs: each attempt is
//! same-format pass-through (the client's bytes with only the model name changed) or a
//! translation through the IR, and the answer is relayed or transcoded as it streams.

use super::attempts::{read_upstream, Job, Prepared};
use super::body::RelayBody;
use super::error::ApiError;
use super::inbound::Inbound;
use super::stall::StallGuard;
use super::transcode::TranscodeBody;
use super::AppState;
use crate::formats::envelope::{conversation_hash, Envelope};
use crate::formats::ir::{Image, Part, Request};
use crate::formats::translate::{self, Format, StreamDecoder, StreamEncoder};
use crate::providers::{capabilities, upstream};
use crate::routing::Candidate;
use crate::usage::{SseUsageScanner, UsageTap};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eventsource_stream::Eventsource;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use std::time::Duration;

/// The model and stream flag, from the body's top level or (Gemini) the path, and the body's
/// envelope (parsed once here, reused by every same-format attempt).
pub fn model_and_stream<'a>(
    inbound: &Inbound,
    body: &'a [u8],
) -> Result<(String, bool, Option<Envelope<'a>>), ApiError> {
    match &inbound.path_model {
        Some(model) => {
            if !body.is_empty() {
                crate::formats::envelope::check_object(body)?;
            }
            Ok((model.clone(), inbound.path_stream, None))
        }
        None => {
            let envelope = Envelope::parse(body)?;
            Ok((envelope.model().to_string(), envelope.stream(), Some(envelope)))
        }
    }
}

/// Headers coding tools send to name their conversation.
const SESSION_HEADERS: [&str; 5] =
    ["x-session-id", "session_id", "x-claude-code-session-id", "conversation_id", "x-conversation-id"];

/// The conversation a request belongs to: the tool's own session header, else a hash of the
/// conversation's beginning (which stays the same as it grows).
fn session_key(headers: &HeaderMap, body: &[u8]) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    for name in SESSION_HEADERS {
        if let Some(v) = headers.get(name).filter(|v| !v.is_empty()) {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            v.as_bytes().hash(&mut h);
            return Some(h.finish());
        }
    }
    conversation_hash(body)
}

/// A chat request in one of the four inbound APIs, as the attempt loop's job.
pub struct ChatJob<'a> {
    pub app: &'a AppState,
    pub inbound: &'a Inbound,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    /// The top level of the body (not for Gemini, whose model is in the path).
    pub envelope: Option<Envelope<'a>>,
    /// The model the client asked for (the name translated answers carry).
    pub model: &'a str,
    pub stream: bool,
    /// The request in the IR, decoded once when a first candidate needs translation.
    pub decoded: Option<Request>,
    session: Option<Option<u64>>,
    needs: Option<capabilities::Needs>,
}

impl<'a> ChatJob<'a> {
    pub fn new(
        app: &'a AppState,
        inbound: &'a Inbound,
        headers: &'a HeaderMap,
        body: &'a Bytes,
        envelope: Option<Envelope<'a>>,
        model: &'a str,
        stream: bool,
    ) -> Self {
        Self { app, inbound, headers, body, envelope, model, stream, decoded: None, session: None, needs: None }
    }
}

impl Job for ChatJob<'_> {
    fn format(&self) -> Format {
        self.inbound.format
    }

    fn stream(&self) -> bool {
        self.stream
    }

    /// A model known not to take the request's images or tools, or too small for it.
    fn skip(&mut self, candidate: &Candidate) -> Option<String> {
        capabilities::lookup(&candidate.upstream_model)?;
        let body = self.body;
        let needs = *self.needs.get_or_insert_with(|| capabilities::needs_of(body));
        capabilities::skip_reason(&candidate.upstream_model, &needs)
    }

    fn session(&mut self) -> Option<u64> {
        *self.session.get_or_insert_with(|| session_key(self.headers, self.body))
    }

    async fn prepare(&mut self, candidate: &Candidate) -> Result<Prepared, ApiError> {
        let upstream_format = candidate.provider.kind;
        let extra = forwarded_headers(self.headers, self.inbound.format, upstream_format);
        let kiro = is_kiro(candidate);
        // Code Assist streams only as SSE: a Gemini client streaming a JSON array is answered
        // through the translation.
        let sse_only = self.stream && !self.inbound.gemini_sse && is_code_assist(candidate);
        if upstream_format == self.inbound.format && !kiro && !sse_only {
            let body = match self.inbound.format {
                Format::Gemini => self.body.clone(),
                _ => match &self.envelope {
                    Some(envelope) => Bytes::from(envelope.with_model(&candidate.upstream_model)),
                    None => Bytes::from(Envelope::parse(self.body)?.with_model(&candidate.upstream_model)),
                },
            };
            let url = upstream::endpoint(
                &candidate.provider,
                &candidate.upstream_model,
                self.stream,
                self.inbound.gemini_sse,
            )?;
            return Ok(Prepared { url, body, extra, translated: false, gather: false });
        }
        if self.decoded.is_none() {
            self.decoded = Some(translate::decode_request(self.inbound.format, self.body, self.model, self.stream)?);
        }
        let mut request = self.decoded.clone().unwrap_or_default();
        request.model = candidate.upstream_model.clone();
        if kiro || upstream_format == Format::Gemini {
            inline_image_urls(self.app, &mut request).await?;
        }
        if kiro {
            return super::kiro::prepare(candidate, &request);
        }
        let body = serde_json::to_vec(&translate::encode_request(upstream_format, &request)).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", format!("cannot encode the request: {e}"))
        })?;
        let url = upstream::endpoint(&candidate.provider, &candidate.upstream_model, self.stream, true)?;
        Ok(Prepared { url, body: Bytes::from(body), extra, translated: true, gather: false })
    }

    async fn answer(
        &mut self,
        response: reqwest::Response,
        candidate: &Candidate,
        translated: bool,
        stall: Duration,
        tap: &UsageTap,
    ) -> Result<Response, ApiError> {
        if is_kiro(candidate) {
            return super::kiro::answer(response, candidate, self.inbound, self.stream, self.model, stall, tap).await;
        }
        if !translated {
            return Ok(relay(response, candidate, self.inbound, self.stream, stall, tap));
        }
        let include_usage = self.decoded.as_ref().is_some_and(|r| r.stream_usage);
        translated_answer(response, candidate, self.inbound, self.stream, self.model, include_usage, stall, tap).await
    }
}

/// Kiro speaks none of the four APIs: its requests and answers always go through the IR.
fn is_kiro(candidate: &Candidate) -> bool {
    candidate.provider.login == Some(crate::login::LoginKind::Kiro)
}

fn is_code_assist(candidate: &Candidate) -> bool {
    candidate.provider.login == Some(crate::login::LoginKind::GeminiCli)
}

/// A successful answer in another API's shape, translated as it streams (or whole).
#[allow(clippy::too_many_arguments)]
async fn translated_answer(
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
        return Ok(super::transcode::respond(body, inbound));
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

/// Gemini and Kiro take no image URLs: fetch each and send it inline.
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
fn relay(
    upstream: reqwest::Response,
    candidate: &Candidate,
    inbound: &Inbound,
    stream: bool,
    stall: Duration,
    tap: &UsageTap,
) -> Response {
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
    let body = RelayBody::new(Box::pin(guarded), stream_format, candidate.provider.id.clone())
        .with_usage(scanner, tap.clone(), inbound.format)
        .into_body();
    (status, headers, body).into_response()
}
