//! Reading request bodies under the configured size limit, and streaming upstream response
//! bodies back to the client without buffering them.

use super::error::ApiError;
use crate::formats::translate::{self, Format};
use crate::manage::Settings;
use crate::providers::upstream::error_chain;
use crate::usage::{SseUsageScanner, UsageTap};
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Reads the whole request body, refusing more than `max-body-mb` with 413, and with 408 a
/// body that stops arriving (nothing for `header-timeout-secs`): a client that sends its
/// body a byte at a time cannot hold a request open for ever.
pub async fn read_limited(headers: &HeaderMap, body: Body, settings: &Settings) -> Result<Bytes, ApiError> {
    let limit = settings.max_body_bytes();
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!("the request body is larger than the limit of {} MiB (setting max-body-mb)", limit / (1024 * 1024)),
        )
        .code("request_too_large")
    };
    let declared =
        headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let silence = std::time::Duration::from_secs(settings.header_timeout_secs);
    let mut body = Limited::new(body, limit);
    let mut collected = BytesMut::with_capacity(declared.unwrap_or(0).min(limit as u64) as usize);
    loop {
        match tokio::time::timeout(silence, body.frame()).await {
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "invalid_request_error",
                    format!(
                        "the request body stopped arriving: nothing for {} s (setting header-timeout-secs)",
                        silence.as_secs()
                    ),
                )
                .code("request_timeout"))
            }
            Ok(None) => return Ok(collected.freeze()),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    collected.extend_from_slice(&data);
                }
            }
            Ok(Some(Err(e))) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
            Ok(Some(Err(e))) => {
                return Err(ApiError::bad_request(format!(
                    "could not read the request body: {}",
                    error_chain(e.as_ref())
                )))
            }
        }
    }
}

/// Chunks that are already waiting are merged up to this size before they are written on.
const COALESCE_LIMIT: usize = 64 * 1024;

/// An upstream response body, relayed chunk by chunk as it arrives. Chunks that arrived
/// together are written together (never waiting for more), which saves a write and a read per
/// SSE event when a provider sends a burst. Dropping the relay (the client went away) drops the
/// upstream response, which closes that upstream connection: the provider stops generating.
/// If the upstream breaks mid-stream, an SSE stream ends with an error event in the client's
/// format; any other body is cut off so that the client sees the failure.
pub struct RelayBody<S> {
    upstream: S,
    /// Where a mid-stream failure can be reported as an event: the client's format, and for
    /// Gemini whether it streams SSE. `None` for whole (non-stream) bodies.
    stream_format: Option<(Format, bool)>,
    provider: String,
    /// An upstream error seen while coalescing, reported on the next poll.
    pending_error: Option<std::io::Error>,
    upstream_done: bool,
    finished: bool,
    /// Reads usage out of the relayed bytes, unchanged.
    usage: Option<(SseUsageScanner, UsageTap, Format)>,
    /// Leaves out the usage-only event the gateway asked an OpenAI upstream for, when the
    /// client did not ask for it.
    strip_usage: Option<UsageEventStrip>,
}

impl<S> RelayBody<S>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static,
{
    pub fn new(upstream: S, stream_format: Option<(Format, bool)>, provider: String) -> Self {
        Self {
            upstream,
            stream_format,
            provider,
            pending_error: None,
            upstream_done: false,
            finished: false,
            usage: None,
            strip_usage: None,
        }
    }

    /// Leaves out OpenAI's usage-only event (`"choices": []` with `usage`), which the client
    /// did not ask for (its usage is still read).
    pub fn without_usage_event(mut self) -> Self {
        self.strip_usage = Some(UsageEventStrip::default());
        self
    }

    pub fn with_usage(mut self, scanner: SseUsageScanner, tap: UsageTap, format: Format) -> Self {
        self.usage = Some((scanner, tap, format));
        self
    }

    pub fn into_body(self) -> Body {
        Body::from_stream(self)
    }
}

impl<S> RelayBody<S>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin,
{
    fn fail(&mut self, e: std::io::Error) -> Poll<Option<Result<Bytes, std::io::Error>>> {
        self.finished = true;
        let message = format!("the connection to provider '{}' broke mid-answer: {}", self.provider, error_chain(&e));
        tracing::warn!("{message}");
        if let Some((format, gemini_sse)) = self.stream_format {
            Poll::Ready(Some(Ok(Bytes::from(translate::stream_error_event(format, &message, gemini_sse)))))
        } else {
            Poll::Ready(Some(Err(std::io::Error::other(message))))
        }
    }

    /// Appends the chunks the upstream already has ready to `first`, without waiting.
    fn coalesce(&mut self, cx: &mut Context<'_>, first: Bytes) -> Bytes {
        let mut merged: Option<BytesMut> = None;
        while merged.as_ref().map_or(first.len(), BytesMut::len) < COALESCE_LIMIT {
            match Pin::new(&mut self.upstream).poll_next(cx) {
                Poll::Ready(Some(Ok(next))) => {
                    merged.get_or_insert_with(|| BytesMut::from(&first[..])).extend_from_slice(&next)
                }
                Poll::Ready(Some(Err(e))) => {
                    self.pending_error = Some(e);
                    break;
                }
                Poll::Ready(None) => {
                    self.upstream_done = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        merged.map_or(first, BytesMut::freeze)
    }
}

impl<S> Stream for RelayBody<S>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin,
{
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        if let Some(e) = self.pending_error.take() {
            return self.fail(e);
        }
        loop {
            if self.upstream_done {
                self.finished = true;
                if let Some((scanner, tap, format)) = &mut self.usage {
                    scanner.finish(*format, tap);
                }
                let rest = self.strip_usage.as_mut().map(UsageEventStrip::rest).filter(|r| !r.is_empty());
                return Poll::Ready(rest.map(Ok));
            }
            return match Pin::new(&mut self.upstream).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    let chunk = self.coalesce(cx, chunk);
                    if let Some((scanner, tap, _)) = &mut self.usage {
                        scanner.feed(&chunk, tap);
                    }
                    let chunk = match &mut self.strip_usage {
                        Some(strip) => strip.pass(&chunk),
                        None => chunk,
                    };
                    if chunk.is_empty() {
                        continue;
                    }
                    Poll::Ready(Some(Ok(chunk)))
                }
                Poll::Ready(Some(Err(e))) => self.fail(e),
                Poll::Ready(None) => {
                    self.upstream_done = true;
                    continue;
                }
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

/// Passes an SSE stream on event by event, leaving out OpenAI's usage-only events.
#[derive(Default)]
struct UsageEventStrip {
    /// The start of an event not complete yet.
    pending: BytesMut,
}

impl UsageEventStrip {
    /// The complete events of what has arrived, but the usage-only ones.
    fn pass(&mut self, chunk: &[u8]) -> Bytes {
        self.pending.extend_from_slice(chunk);
        let Some(end) = memchr::memmem::rfind(&self.pending, b"\n\n") else { return Bytes::new() };
        let complete = self.pending.split_to(end + 2);
        if memchr::memmem::find(&complete, b"\"usage\"").is_none() {
            return complete.freeze();
        }
        let mut kept = BytesMut::with_capacity(complete.len());
        for event in
            complete.split_inclusive(|b| *b == b'\n').collect::<Vec<_>>().split_inclusive(|line| *line == b"\n")
        {
            let bytes: Vec<u8> = event.concat();
            if !usage_only(&bytes) {
                kept.extend_from_slice(&bytes);
            }
        }
        kept.freeze()
    }

    /// What is left when the stream ends.
    fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.pending).freeze()
    }
}

/// An OpenAI stream event that carries only usage (`"choices": []`).
fn usage_only(event: &[u8]) -> bool {
    if memchr::memmem::find(event, b"\"usage\"").is_none() {
        return false;
    }
    let text = String::from_utf8_lossy(event);
    let data: String = text.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
    serde_json::from_str::<serde_json::Value>(&data)
        .is_ok_and(|v| v["usage"].is_object() && v["choices"].as_array().is_some_and(Vec::is_empty))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_usage_only_event_is_left_out_and_the_rest_passes_unchanged() {
        let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n\
                      data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n\
                      data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n\
                      data: [DONE]\n\n";
        let mut strip = super::UsageEventStrip::default();
        let mut out = Vec::new();
        for piece in stream.as_bytes().chunks(7) {
            out.extend_from_slice(&strip.pass(piece));
        }
        out.extend_from_slice(&strip.rest());
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("prompt_tokens"), "{out}");
        assert_eq!(
            out,
            stream.replace(
                "data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n",
                ""
            )
        );
    }

    use super::*;
    use futures_util::StreamExt;

    /// Yields its script in order; `None` entries are a Pending (with an immediate wake-up).
    struct Scripted(std::collections::VecDeque<Option<&'static str>>);

    impl Stream for Scripted {
        type Item = Result<Bytes, std::io::Error>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            match self.0.pop_front() {
                Some(Some(text)) => Poll::Ready(Some(Ok(Bytes::from_static(text.as_bytes())))),
                Some(None) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                None => Poll::Ready(None),
            }
        }
    }

    #[tokio::test]
    async fn ready_chunks_are_merged_and_nothing_waits_for_more() {
        let script = [Some("a"), Some("b"), None, Some("c"), None, Some("d"), Some("e"), Some("f")];
        let relay = RelayBody::new(Scripted(script.into_iter().collect()), Some((Format::Openai, true)), "p".into());
        let out: Vec<String> = relay.map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap()).collect::<Vec<_>>().await;
        assert_eq!(out, ["ab", "c", "def"]);
    }
}
