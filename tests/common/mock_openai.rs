//! A mock OpenAI-compatible provider for the tests and the benchmark: Chat Completions (JSON
//! and SSE), a model list, fault injection by API key, a log of what it received, and counters
//! that show whether a stream ran to its end or was cut off by the caller.
//!
//! Keys: a key containing `fail-NNN` answers status NNN with an OpenAI error body (`fail-429`
//! adds `retry-after: 1`); `slow-MS` waits MS milliseconds before answering; `break-N` cuts a
//! stream's connection after N events.

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Pieces of the answer; a stream sends one chunk per piece.
    pub chunks: usize,
    /// Pause between streamed chunks.
    pub chunk_delay: Duration,
    /// Pause before answering (a provider's time to first token).
    pub first_byte_delay: Duration,
    /// Keep a log of requests (off for benchmarks).
    pub record: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self { chunks: 5, chunk_delay: Duration::ZERO, first_byte_delay: Duration::ZERO, record: true }
    }
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub streams_started: AtomicU64,
    pub streams_completed: AtomicU64,
    /// Streams whose body was dropped before the last chunk: the client went away.
    pub streams_cut: AtomicU64,
}

#[derive(Clone)]
pub struct MockState {
    pub config: MockConfig,
    pub log: Arc<Mutex<Vec<Recorded>>>,
    pub counters: Arc<Counters>,
}

pub struct MockProvider {
    pub addr: SocketAddr,
    pub state: MockState,
    task: tokio::task::JoinHandle<()>,
}

impl MockProvider {
    pub async fn start(config: MockConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind mock");
        let addr = listener.local_addr().expect("mock addr");
        let state = MockState { config, log: Arc::default(), counters: Arc::default() };
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/models", get(models))
            .with_state(state.clone());
        // Without TCP_NODELAY, small SSE writes wait on delayed ACKs (~40 ms each).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task }
    }

    /// The base URL as an OpenAI-style provider documents it (ending in /v1).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn counter(&self, pick: impl Fn(&Counters) -> &AtomicU64) -> u64 {
        pick(&self.state.counters).load(Ordering::SeqCst)
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string()
}

fn marker_number(key: &str, marker: &str) -> Option<u64> {
    let rest = &key[key.find(marker)? + marker.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

pub fn answer_piece(i: usize) -> String {
    if i == 0 {
        "w0".to_string()
    } else {
        format!(" w{i}")
    }
}

pub fn full_answer(chunks: usize) -> String {
    (0..chunks).map(answer_piece).collect()
}

async fn chat(State(state): State<MockState>, headers: HeaderMap, body: Bytes) -> Response {
    state.counters.requests.fetch_add(1, Ordering::SeqCst);
    if state.config.record {
        state.log.lock().unwrap().push(Recorded {
            path: "/v1/chat/completions".into(),
            headers: headers.clone(),
            body: body.clone(),
        });
    }
    let key = bearer(&headers);
    if let Some(ms) = marker_number(&key, "slow-") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(code) = marker_number(&key, "fail-") {
        let status = StatusCode::from_u16(code as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({"error": {"message": format!("mock failure {code}"), "type": "mock_error", "param": null, "code": format!("mock_{code}")}});
        let mut response = (status, axum::Json(body)).into_response();
        if code == 429 {
            response.headers_mut().insert("retry-after", "1".parse().unwrap());
        }
        return response;
    }
    let request: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let body = serde_json::json!({"error": {"message": format!("mock: bad JSON: {e}"), "type": "invalid_request_error"}});
            return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
        }
    };
    let model = request["model"].as_str().unwrap_or("unknown").to_string();
    if !state.config.first_byte_delay.is_zero() {
        tokio::time::sleep(state.config.first_byte_delay).await;
    }
    let chunks = state.config.chunks;
    let usage = serde_json::json!({"prompt_tokens": (body.len() / 4).max(1), "completion_tokens": chunks, "total_tokens": (body.len() / 4).max(1) + chunks});
    if request["stream"].as_bool() != Some(true) {
        let answer = serde_json::json!({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": 1_700_000_000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": full_answer(chunks)}, "finish_reason": "stop"}],
            "usage": usage,
        });
        return axum::Json(answer).into_response();
    }
    state.counters.streams_started.fetch_add(1, Ordering::SeqCst);
    let include_usage = request["stream_options"]["include_usage"].as_bool() == Some(true);
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        let c = serde_json::json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        Bytes::from(format!("data: {c}\n\n"))
    };
    let mut events = vec![chunk(serde_json::json!({"role": "assistant", "content": ""}), None)];
    for i in 0..chunks {
        events.push(chunk(serde_json::json!({"content": answer_piece(i)}), None));
    }
    events.push(chunk(serde_json::json!({}), Some("stop")));
    if include_usage {
        let c = serde_json::json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model, "choices": [], "usage": usage});
        events.push(Bytes::from(format!("data: {c}\n\n")));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    if let Some(n) = marker_number(&key, "break-") {
        events.truncate(n as usize);
    }
    let breaks = marker_number(&key, "break-").is_some();
    let guard = StreamGuard { counters: state.counters.clone(), completed: false };
    let delay = state.config.chunk_delay;
    let stream = futures_util::stream::unfold(
        (events.into_iter(), guard, true, breaks),
        move |(mut events, mut guard, first, breaks)| async move {
            if !first && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match events.next() {
                Some(event) => Some((Ok::<_, std::io::Error>(event), (events, guard, false, breaks))),
                None if breaks => {
                    Some((Err(std::io::Error::other("mock: connection cut")), (events, guard, false, false)))
                }
                None => {
                    guard.mark_completed();
                    None
                }
            }
        },
    );
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// Counts a stream as completed or cut off when its body is dropped.
struct StreamGuard {
    counters: Arc<Counters>,
    completed: bool,
}

impl StreamGuard {
    fn mark_completed(&mut self) {
        self.completed = true;
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let counter = if self.completed { &self.counters.streams_completed } else { &self.counters.streams_cut };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

async fn models() -> Response {
    axum::Json(serde_json::json!({"object": "list", "data": [{"id": "mock-model", "object": "model", "created": 0, "owned_by": "mock"}]}))
        .into_response()
}
