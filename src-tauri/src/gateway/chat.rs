//! The chat request as the attempt loop's job, for all four inbound APIs: each attempt is
//! same-format pass-through (the client's bytes with only the model name changed) or a
//! translation through the IR, and the answer is relayed or transcoded as it streams. What
//! differs by upstream (a subscription backend's own rules) is asked of its `Upstream`.

use super::attempts::{Job, Prepared};
use super::error::ApiError;
use super::inbound::Inbound;
use super::upstreams::{Asked, Upstream};
use super::AppState;
use crate::formats::envelope::{conversation_hash, Envelope};
use crate::formats::ir::Request;
use crate::formats::translate::{self, Format};
use crate::providers::{capabilities, upstream};
use crate::routing::Candidate;
use crate::usage::UsageTap;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderName};
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
    /// The attempt asks an OpenAI upstream for the stream's usage the client did not ask
    /// for: read for the record, left out of the client's stream.
    added_stream_usage: bool,
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
        Self {
            app,
            inbound,
            headers,
            body,
            envelope,
            model,
            stream,
            decoded: None,
            session: None,
            needs: None,
            added_stream_usage: false,
        }
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
        let upstream = Upstream::of(&candidate.provider);
        let upstream_format = candidate.provider.kind;
        let extra = forwarded_headers(self.headers, self.inbound.format, upstream_format);
        self.added_stream_usage = false;
        if upstream.passes_through(self.inbound, upstream_format, self.stream) {
            let body = match self.inbound.format {
                Format::Gemini => self.body.clone(),
                _ => match &self.envelope {
                    Some(envelope) => Bytes::from(envelope.with_model(&candidate.upstream_model)),
                    None => Bytes::from(Envelope::parse(self.body)?.with_model(&candidate.upstream_model)),
                },
            };
            // An OpenAI stream reports its usage only when asked: asked for the usage record.
            let body = if self.stream
                && upstream_format == Format::Openai
                && crate::formats::envelope::top_level_raw(&body, "stream_options").is_none()
            {
                self.added_stream_usage = true;
                Bytes::from(crate::formats::envelope::with_key_added(
                    &body,
                    "stream_options",
                    r#"{"include_usage":true}"#,
                ))
            } else {
                body
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
        upstream.prepare_translated(self.app, candidate, request, self.stream, extra).await
    }

    async fn answer(
        &mut self,
        response: reqwest::Response,
        candidate: &Candidate,
        translated: bool,
        stall: Duration,
        tap: &UsageTap,
    ) -> Result<Response, ApiError> {
        let include_usage = self.decoded.as_ref().is_some_and(|r| r.stream_usage);
        let asked = Asked {
            inbound: self.inbound,
            stream: self.stream,
            model: self.model,
            include_usage,
            strip_usage_event: self.added_stream_usage,
        };
        Upstream::of(&candidate.provider).answer(response, candidate, &asked, translated, stall, tap).await
    }
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
