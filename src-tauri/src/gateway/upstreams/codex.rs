//! The ChatGPT Codex backend, what a Codex login is served by: the Responses API, but its
//! body as the backend takes it (`login::codex::adapt`), and streamed only, so a client that
//! wants one answer gets the stream gathered.

use super::super::attempts::Prepared;
use super::super::error::ApiError;
use http::StatusCode;

/// The body as the backend takes it; a non-streaming client's answer will be gathered.
pub fn adapt(mut prepared: Prepared, stream: bool) -> Prepared {
    if let Some(body) = crate::login::codex::adapt(&prepared.body) {
        prepared.body = bytes::Bytes::from(body);
        prepared.gather = !stream;
    }
    prepared
}

/// A streamed Responses answer gathered into one JSON answer, as a response of its own (its
/// status and rate-limit headers kept): the job then answers as for a non-streaming upstream.
pub async fn gather(
    response: reqwest::Response,
    candidate: &crate::routing::Candidate,
) -> Result<reqwest::Response, ApiError> {
    use crate::formats::translate::{self, Format, StreamDecoder};
    use eventsource_stream::Eventsource;
    let status = response.status();
    let headers = response.headers().clone();
    let unreadable = |why: String| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            format!("provider '{}' sent a stream that cannot be read: {why}", candidate.provider.id),
        )
    };
    let events = response.bytes_stream().eventsource();
    let gathered = super::super::transcode::gather(events, StreamDecoder::new(Format::Responses)).await;
    let mut answer = gathered.map_err(|e| match e {
        super::super::transcode::Gathered::Unreadable(why) | super::super::transcode::Gathered::Upstream(why) => {
            unreadable(why)
        }
    })?;
    if answer.model.is_empty() {
        answer.model = candidate.upstream_model.clone();
    }
    let body = translate::encode_response(Format::Responses, &answer).to_string();
    rebuilt(status, &headers, reqwest::Body::from(body), Some("application/json")).map_err(unreadable)
}

/// A response of the upstream's status and headers with another body (its length and
/// encoding headers dropped; its content type replaced when one is given).
pub fn rebuilt(
    status: StatusCode,
    headers: &http::HeaderMap,
    body: reqwest::Body,
    content_type: Option<&str>,
) -> Result<reqwest::Response, String> {
    let mut response = http::Response::builder().status(status);
    for (name, value) in headers {
        let replaced = content_type.is_some() && name == http::header::CONTENT_TYPE;
        if !replaced && name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    if let Some(content_type) = content_type {
        response = response.header(http::header::CONTENT_TYPE, content_type);
    }
    Ok(reqwest::Response::from(response.body(body).map_err(|e| e.to_string())?))
}
