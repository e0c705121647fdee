//! A translated stream: the upstream's SSE events are decoded into IR events and written as
//! the client's format, event by event, never buffered whole. Whatever arrived together is
//! written together. An upstream that breaks or sends garbage ends the client's stream with
//! that format's error event and a proper end. `gather` reads such a stream whole instead (a
//! client that wants one answer from an upstream that only streams), and `respond` is the
//! client's streamed answer.

use crate::formats::codec::SseEvent;
use crate::formats::ir::StreamEvent;
use crate::formats::translate::{StreamDecoder, StreamEncoder};
use crate::providers::upstream::error_chain;
use crate::usage::UsageTap;
use bytes::Bytes;
use eventsource_stream::{Event, EventStreamError};
use futures_util::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};

const FLUSH_AT: usize = 64 * 1024;

pub struct TranscodeBody<S> {
    events: S,
    decoder: StreamDecoder,
    encoder: StreamEncoder,
    provider: String,
    done: bool,
    tap: UsageTap,
}

impl<S> TranscodeBody<S> {
    pub fn new(events: S, decoder: StreamDecoder, encoder: StreamEncoder, provider: String, tap: UsageTap) -> Self {
        Self { events, decoder, encoder, provider, done: false, tap }
    }

    fn fail(&mut self, message: String, out: &mut Vec<u8>) {
        tracing::warn!("{message}");
        self.encoder.event(StreamEvent::Error { message }, out);
        self.encoder.finish(out);
        self.done = true;
    }
}

impl<S> Stream for TranscodeBody<S>
where
    S: Stream<Item = Result<Event, EventStreamError<std::io::Error>>> + Unpin,
{
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut out = Vec::new();
        while !self.done && out.len() < FLUSH_AT {
            match Pin::new(&mut self.events).poll_next(cx) {
                Poll::Ready(Some(Ok(event))) => {
                    let sse = SseEvent { event: event.event, data: event.data };
                    match self.decoder.event(&sse) {
                        Ok(events) => {
                            for e in events {
                                if let StreamEvent::Usage(u) = &e {
                                    self.tap.add_usage(*u);
                                }
                                self.encoder.event(e, &mut out);
                            }
                        }
                        Err(e) => {
                            let message =
                                format!("provider '{}' sent an event that cannot be read: {e}", self.provider);
                            self.fail(message, &mut out);
                        }
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    let message =
                        format!("the connection to provider '{}' broke mid-answer: {}", self.provider, error_chain(&e));
                    self.fail(message, &mut out);
                }
                Poll::Ready(None) => {
                    for e in self.decoder.finish() {
                        self.encoder.event(e, &mut out);
                    }
                    self.encoder.finish(&mut out);
                    self.done = true;
                }
                Poll::Pending => break,
            }
        }
        if !out.is_empty() {
            Poll::Ready(Some(Ok(Bytes::from(out))))
        } else if self.done {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}

/// The client's streamed answer: the transcoded body with the content type of its API
/// (Gemini without `alt=sse` streams a JSON array).
pub fn respond<S>(body: TranscodeBody<S>, inbound: &super::inbound::Inbound) -> axum::response::Response
where
    TranscodeBody<S>: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    use axum::response::IntoResponse;
    let gemini_array = inbound.format == crate::formats::translate::Format::Gemini && !inbound.gemini_sse;
    let content_type = if gemini_array { "application/json" } else { "text/event-stream" };
    let headers = [(http::header::CONTENT_TYPE, content_type), (http::header::CACHE_CONTROL, "no-cache")];
    (headers, axum::body::Body::from_stream(body)).into_response()
}

/// Why a stream gave no whole answer.
pub enum Gathered {
    /// It broke, or an event could not be read.
    Unreadable(String),
    /// The upstream sent an error event.
    Upstream(String),
}

/// A whole answer from a stream of events.
pub async fn gather<S, E>(mut events: S, mut decoder: StreamDecoder) -> Result<crate::formats::ir::Response, Gathered>
where
    S: Stream<Item = Result<Event, EventStreamError<E>>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    use futures_util::StreamExt;
    let mut builder = crate::formats::ir::ResponseBuilder::default();
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| Gathered::Unreadable(error_chain(&e)))?;
        let sse = SseEvent { event: event.event, data: event.data };
        for e in decoder.event(&sse).map_err(|e| Gathered::Unreadable(e.to_string()))? {
            if let StreamEvent::Error { message } = e {
                return Err(Gathered::Upstream(message));
            }
            builder.push(e);
        }
    }
    for e in decoder.finish() {
        builder.push(e);
    }
    Ok(builder.response)
}
