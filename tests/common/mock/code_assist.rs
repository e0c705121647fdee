//! The mock's Gemini Code Assist routes (`/v1internal:generateContent` and
//! `:streamGenerateContent?alt=sse`), what a Gemini CLI login is served by: the request must be
//! wrapped (`{"model", "project", "request"}`, the project the mock authorization server
//! assigns), the Gemini route answers the inner request, and each answer (every SSE event) is
//! wrapped as `{"response": …, "traceId": …}`. The wrapped request is the one recorded.

use super::*;
use futures_util::StreamExt;

/// The project requests must name (as `mock_google::PROJECT`).
const PROJECT: &str = "mock-project-123";

fn refused(message: &str) -> Response {
    let body = json!({"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}});
    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
}

fn wrapped(inner: &[u8]) -> String {
    let response: Value = serde_json::from_slice(inner).unwrap_or(Value::Null);
    json!({"response": response, "traceId": "mock-trace"}).to_string()
}

pub async fn generate_content(state: State<MockState>, headers: HeaderMap, body: Bytes) -> Response {
    answer(state, "generateContent", None, headers, body).await
}

pub async fn stream_generate_content(
    state: State<MockState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(state, "streamGenerateContent", q, headers, body).await
}

async fn answer(state: State<MockState>, method: &str, q: Option<String>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(outer) = serde_json::from_slice::<Value>(&body) else { return refused("mock: bad JSON") };
    let (Some(model), Some(request)) = (outer["model"].as_str(), outer.get("request")) else {
        return refused("mock: a Code Assist request has model and request");
    };
    if outer["project"] != PROJECT {
        return refused(&format!("mock: project {} is not this account's", outer["project"]));
    }
    let inner = Bytes::from(request.to_string());
    let path = Path(format!("{model}:{method}"));
    let response = super::gemini::generate(state.clone(), path, RawQuery(q), headers.clone(), inner).await;
    if state.config.record {
        let path = format!("/v1internal:{method}");
        state.log.lock().unwrap().push(Recorded { path, headers, body });
    }
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let sse = parts.headers.get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if !sse {
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        return (parts.status, [("content-type", "application/json")], wrapped(&bytes)).into_response();
    }
    // The Gemini route sends one `data: …\r\n\r\n` event per frame.
    let events = body.into_data_stream().map(|frame| {
        frame.map(|bytes| {
            let text = String::from_utf8_lossy(&bytes);
            let data = text.trim().strip_prefix("data: ").unwrap_or(text.trim());
            Bytes::from(format!("data: {}\r\n\r\n", wrapped(data.as_bytes())))
        })
    });
    Response::from_parts(parts, Body::from_stream(events))
}
