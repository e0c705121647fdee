//! The dashboard's "Test" of a model name (a combo, an alias or PROVIDER/MODEL): one short chat
//! request through the gateway's own request path, exactly as a client's would go (routing,
//! fallback, translation, a usage record tagged `switchyard-test`), minus the gateway key.

use super::inbound::{handle, Inbound};
use super::AppState;
use crate::formats::translate::Format;
use axum::body::Body;
use http::{HeaderMap, HeaderValue, Uri};

use std::time::Instant;

/// The longest answer text a test result carries.
const ANSWER_CHARS: usize = 200;

pub use switchyard_api::ModelTest;

pub async fn test_model(app: AppState, model: &str) -> ModelTest {
    let body = serde_json::json!({
        "model": model,
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "Reply with the single word OK."}],
    });
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(http::header::USER_AGENT, HeaderValue::from_static("switchyard-test"));
    let inbound = Inbound { internal: true, ..Inbound::body_format(Format::Openai) };
    let started = Instant::now();
    let response =
        handle(app, inbound, Uri::from_static("/v1/chat/completions"), headers, Body::from(body.to_string())).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 4 * 1024 * 1024).await.unwrap_or_default();
    let latency_ms = started.elapsed().as_millis() as u64;
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let ok = (200..300).contains(&status);
    let text = if ok {
        json.pointer("/choices/0/message/content").and_then(|c| c.as_str()).unwrap_or_default()
    } else {
        json.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or("no error message")
    };
    let answered_model = ok.then(|| json.get("model").and_then(|m| m.as_str()).map(str::to_string)).flatten();
    ModelTest { ok, status, latency_ms, answered_model, answer: text.chars().take(ANSWER_CHARS).collect() }
}
