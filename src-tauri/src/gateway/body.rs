//! Reading request bodies under the configured size limit, and streaming upstream response
//! bodies back to the client without buffering them.

use super::error::ApiError;
use crate::formats::sse;
use crate::providers::upstream::error_chain;
use axum::body::Body;
use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Reads the whole request body, refusing more than `limit` bytes with 413.
pub async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
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
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(ApiError::bad_request(format!("could not read the request body: {}", error_chain(e.as_ref())))),
    }
}

/// An upstream response body, relayed chunk by chunk as it arrives. Dropping it (the client went
/// away) drops the upstream response, which closes that upstream connection: the provider stops
/// generating. If the upstream breaks mid-stream, an SSE stream ends with an error event in the
/// client's format; any other body is cut off so that the client sees the failure.
pub struct RelayBody<S> {
    upstream: S,
    sse: bool,
    provider: String,
    finished: bool,
}

impl<S> RelayBody<S>
where
    S: Stream<Item = reqwest::Result<Bytes>> + Send + Unpin + 'static,
{
    pub fn new(upstream: S, sse: bool, provider: String) -> Self {
        Self { upstream, sse, provider, finished: false }
    }

    pub fn into_body(self) -> Body {
        Body::from_stream(self)
    }
}

impl<S> Stream for RelayBody<S>
where
    S: Stream<Item = reqwest::Result<Bytes>> + Unpin,
{
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.upstream).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(Some(Err(e))) => {
                self.finished = true;
                let message =
                    format!("the connection to provider '{}' broke mid-answer: {}", self.provider, error_chain(&e));
                tracing::warn!("{message}");
                if self.sse {
                    Poll::Ready(Some(Ok(sse::openai_error_event(&message, "upstream_error"))))
                } else {
                    Poll::Ready(Some(Err(std::io::Error::other(message))))
                }
            }
            Poll::Ready(None) => {
                self.finished = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
