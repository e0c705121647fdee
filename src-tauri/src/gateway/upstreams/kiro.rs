//! The chat job's path to Kiro: the request always translated into Kiro's conversation state
//! (`formats::kiro`), posted to `generateAssistantResponse`, and its binary event stream read
//! frame by frame into IR events: transcoded as they come for a streaming client, gathered into
//! one answer otherwise.

use super::super::attempts::Prepared;
use super::super::error::ApiError;
use super::super::inbound::Inbound;
use super::super::stall::StallGuard;
use super::super::transcode::{Gathered, TranscodeBody};

use crate::formats::eventstream::FrameReader;
use crate::formats::ir::Request;
use crate::formats::kiro;
use crate::formats::translate::{self, StreamDecoder, StreamEncoder};
use crate::routing::Candidate;
use crate::usage::UsageTap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eventsource_stream::{Event, EventStreamError};
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, StatusCode};
use std::collections::VecDeque;
use std::time::Duration;

/// The upstream request for `request` (already in the IR) on a Kiro candidate.
pub fn prepare(candidate: &Candidate, request: &Request) -> Result<Prepared, ApiError> {
    let conversation = crate::formats::ir::new_id("conv");
    let body = kiro::encode_request(request, &candidate.upstream_model, None, &conversation);
    let url = reqwest::Url::parse(&format!("{}/generateAssistantResponse", candidate.provider.base_url))
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", format!("bad Kiro URL: {e}")))?;
    let mut extra = HeaderMap::new();
    // As the Kiro IDE sends it: the user's content is not used to improve the service.
    extra.insert("x-amzn-codewhisperer-optout", http::HeaderValue::from_static("true"));
    Ok(Prepared { url, body: Bytes::from(body.to_string()), extra, translated: true, gather: false })
}

/// The request with the login's profile (an IAM Identity Center or social login names one).
pub fn with_profile(mut prepared: Prepared, arn: &str) -> Prepared {
    if let Ok(serde_json::Value::Object(mut body)) = serde_json::from_slice::<serde_json::Value>(&prepared.body) {
        body.insert("profileArn".into(), serde_json::Value::String(arn.to_string()));
        if let Ok(bytes) = serde_json::to_vec(&body) {
            prepared.body = Bytes::from(bytes);
        }
    }
    prepared
}

type Item = Result<Event, EventStreamError<std::io::Error>>;

/// The event-stream frames of an answer as events named by their `:event-type` (exceptions by
/// their `:exception-type`), the shape the stream decoders take.
fn frames<S>(bytes: S) -> impl Stream<Item = Item> + Unpin
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin,
{
    let state = (bytes, FrameReader::default(), VecDeque::<Item>::new(), false);
    Box::pin(futures_util::stream::unfold(state, |(mut bytes, mut reader, mut ready, mut ended)| async move {
        loop {
            if let Some(item) = ready.pop_front() {
                return Some((item, (bytes, reader, ready, ended)));
            }
            if ended {
                return None;
            }
            match bytes.next().await {
                Some(Ok(chunk)) => {
                    reader.push(&chunk);
                    loop {
                        match reader.next_frame() {
                            Ok(Some(frame)) => {
                                let name = match frame.header(":message-type") {
                                    Some("exception") => "exception",
                                    Some("error") => "error",
                                    _ => frame.header(":event-type").unwrap_or("event"),
                                }
                                .to_string();
                                let data = String::from_utf8_lossy(&frame.payload).into_owned();
                                ready.push_back(Ok(Event { event: name, data, id: String::new(), retry: None }));
                            }
                            Ok(None) => break,
                            Err(e) => {
                                ready.push_back(Err(EventStreamError::Transport(std::io::Error::other(e.to_string()))));
                                ended = true;
                                break;
                            }
                        }
                    }
                }
                Some(Err(e)) => {
                    ready.push_back(Err(EventStreamError::Transport(e)));
                    ended = true;
                }
                None => ended = true,
            }
        }
    }))
}

/// The client's answer from Kiro's event stream.
pub async fn answer(
    response: reqwest::Response,
    candidate: &Candidate,
    inbound: &Inbound,
    stream: bool,
    model: &str,
    stall: Duration,
    tap: &UsageTap,
) -> Result<Response, ApiError> {
    let bytes = StallGuard::new(response.bytes_stream(), stall).map(|r| r.map_err(std::io::Error::other));
    let events = frames(Box::pin(bytes));
    let decoder = StreamDecoder::Kiro(kiro::Decoder::default());
    if stream {
        let encoder = StreamEncoder::new(inbound.format, model, false, inbound.gemini_sse);
        let body = TranscodeBody::new(events, decoder, encoder, candidate.provider.id.clone(), tap.clone());
        return Ok(super::super::transcode::respond(body, inbound));
    }
    let mut answer = super::super::transcode::gather(events, decoder).await.map_err(|e| match e {
        Gathered::Upstream(message) => {
            ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", format!("Kiro: {message}"))
        }
        Gathered::Unreadable(why) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            format!("provider '{}' sent an answer that cannot be read: {why}", candidate.provider.id),
        ),
    })?;
    answer.model = model.to_string();
    if answer.usage != crate::formats::ir::Usage::default() {
        tap.add_usage(answer.usage);
    }
    Ok(axum::Json(translate::encode_response(inbound.format, &answer)).into_response())
}
