//! The chat job's path to Gemini Code Assist, what a Gemini CLI login is served by: the same
//! Gemini request, wrapped as Code Assist takes it (`{"model", "project", "request"}` posted
//! to `v1internal:generateContent` or `:streamGenerateContent?alt=sse`), and its answers, each
//! wrapped as `{"response": …}`, unwrapped back into plain Gemini answers so the relay and the
//! translations read them as from any Gemini provider.

use super::super::attempts::Prepared;
use super::super::error::ApiError;
use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use http::StatusCode;
use serde_json::value::RawValue;

/// The Gemini request `prepared` as Code Assist takes it, for `model` in `project`.
pub fn wrap(mut prepared: Prepared, base_url: &str, model: &str, project: Option<&str>, stream: bool) -> Prepared {
    let method = if stream { "streamGenerateContent?alt=sse" } else { "generateContent" };
    // Code Assist's methods hang off its versioned base with a colon (`…/v1internal:method`).
    if let Ok(url) = reqwest::Url::parse(&format!("{}:{method}", base_url.trim_end_matches('/'))) {
        prepared.url = url;
    }
    let quoted = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let project = project.map(|p| format!(",\"project\":{}", quoted(p))).unwrap_or_default();
    let request = String::from_utf8_lossy(&prepared.body);
    let request = if request.trim().is_empty() { "{}" } else { request.as_ref() };
    prepared.body = Bytes::from(format!("{{\"model\":{}{project},\"request\":{request}}}", quoted(model)));
    prepared
}

#[derive(serde::Deserialize)]
struct Wrapped<'a> {
    #[serde(borrow, default)]
    response: Option<&'a RawValue>,
}

/// The Gemini answer inside one Code Assist answer (or the text as it came when it holds none,
/// such as an error).
fn inner(data: &str) -> &str {
    match serde_json::from_str::<Wrapped>(data) {
        Ok(Wrapped { response: Some(raw) }) => raw.get(),
        _ => data,
    }
}

/// A successful Code Assist answer as a plain Gemini one: a stream event by event as it comes
/// (SSE), a whole answer at once. Its status and headers are kept.
pub async fn unwrap(response: reqwest::Response, provider: &str) -> Result<reqwest::Response, ApiError> {
    let status = response.status();
    let headers = response.headers().clone();
    let is_stream = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let body = if is_stream {
        let events = response.bytes_stream().eventsource().map(|item| match item {
            Ok(event) => Ok(Bytes::from(format!("data: {}\r\n\r\n", inner(&event.data)))),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        });
        reqwest::Body::wrap_stream(events)
    } else {
        let bytes = response.bytes().await.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!("provider '{provider}' cut its answer: {}", crate::providers::upstream::error_chain(&e)),
            )
        })?;
        let text = String::from_utf8_lossy(&bytes);
        reqwest::Body::from(inner(&text).to_string())
    };
    super::codex::rebuilt(status, &headers, body, None)
        .map_err(|why| ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_wrapped_and_answers_unwrapped() {
        let prepared = Prepared {
            url: reqwest::Url::parse("http://up/v1beta/models/gemini-2.5-pro:generateContent").unwrap(),
            body: Bytes::from_static(br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#),
            extra: Default::default(),
            translated: false,
            gather: false,
        };
        let wrapped =
            wrap(prepared, "https://cloudcode-pa.googleapis.com/v1internal", "gemini-2.5-pro", Some("p-1"), true);
        assert_eq!(
            wrapped.url.as_str(),
            "https://cloudcode-pa.googleapis.com/v1internal:streamGenerateContent?alt=sse"
        );
        let body: serde_json::Value = serde_json::from_slice(&wrapped.body).unwrap();
        assert_eq!(body["model"], "gemini-2.5-pro");
        assert_eq!(body["project"], "p-1");
        assert_eq!(body["request"]["contents"][0]["parts"][0]["text"], "hi");
        assert_eq!(inner(r#"{"response":{"candidates":[]},"traceId":"t"}"#), r#"{"candidates":[]}"#);
        assert_eq!(inner(r#"{"error":{"code":429}}"#), r#"{"error":{"code":429}}"#);
    }
}
