//! A mock provider for the tests and the benchmark, speaking all four upstream APIs: OpenAI
//! Chat Completions, Anthropic Messages, OpenAI Responses and Gemini, each JSON and streamed.
//! It answers deterministically, calls a tool when asked, thinks when asked, injects faults by
//! API key, logs what it received, and counts whether each stream ran to its end or was cut
//! off by the caller. It also embeds (`embeddings`: OpenAI-style and Gemini routes), and serves
//! Gemini Code Assist (`code_assist`) and Kiro (`kiro`) as subscription logins reach them.
//!
//! The answer: text `w0 w1 ... w{N-1}` (N = `chunks`, one stream event per piece). When the
//! request defines tools and its last user turn says "use the tool", the answer is one call to
//! the first tool with arguments `{"city":"Paris"}` (two, to the first two tools, for "use both
//! tools"). When the request asks for reasoning, a thinking part `thinking...` comes first
//! (signed `sig-mock-1` in Anthropic's format).
//!
//! Keys (`Authorization: Bearer`, `x-api-key`, `x-goog-api-key` or `?key=`): `fail-NNN`
//! answers status NNN in the route's error shape (429s carry `retry-after: 1`, or N with
//! `ra-N`); `first-429-N` answers 429 to the first N requests with that key, then serves
//! (`first-401-N`: 401, as for a revoked login token);
//! `slow-MS` waits first; `break-N` cuts a stream's connection after N events.

#![allow(dead_code)]

mod anthropic;
mod code_assist;
pub mod embeddings;
mod gemini;
pub mod kiro;
mod openai;
mod responses;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct MockConfig {
    pub chunks: usize,
    pub chunk_delay: Duration,
    pub first_byte_delay: Duration,
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

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub streams_started: AtomicU64,
    pub streams_completed: AtomicU64,
    pub streams_cut: AtomicU64,
}

#[derive(Clone)]
pub struct MockState {
    pub config: MockConfig,
    pub log: Arc<Mutex<Vec<Recorded>>>,
    pub counters: Arc<Counters>,
    /// Requests seen per key (for `first-429-N`).
    pub per_key: Arc<Mutex<std::collections::HashMap<String, u64>>>,
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
        let state = MockState { config, log: Arc::default(), counters: Arc::default(), per_key: Arc::default() };
        let app = Router::new()
            .route("/v1/chat/completions", post(openai::chat))
            .route("/v1/embeddings", post(embeddings::openai))
            .route("/generateAssistantResponse", post(kiro::generate))
            .route("/v1/messages", post(anthropic::messages))
            .route("/v1/messages/count_tokens", post(anthropic::count_tokens))
            .route("/v1/responses", post(responses::responses))
            .route("/v1beta/models/{*rest}", post(gemini::generate))
            .route("/v1internal:generateContent", post(code_assist::generate_content))
            .route("/v1internal:streamGenerateContent", post(code_assist::stream_generate_content))
            .route("/v1/models", get(models))
            .route("/files/{name}", get(file))
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

    /// The host root, as Anthropic and Gemini base URLs are written.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
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

/// What a request asks of the mock, read from any format.
pub struct Ask {
    pub model: String,
    pub stream: bool,
    /// Names of the tools to call (empty: answer text).
    pub calls: Vec<String>,
    pub think: bool,
    pub prompt_tokens: u64,
}

impl Ask {
    /// `tools`: the defined tool names in order; `last_user_text`: the text of the last user
    /// turn, None when that turn is a tool result.
    pub fn new(
        model: String,
        stream: bool,
        tools: Vec<String>,
        last_user_text: Option<String>,
        think: bool,
        body_len: usize,
    ) -> Self {
        let text = last_user_text.unwrap_or_default().to_lowercase();
        let calls = if tools.is_empty() || !text.contains("use the tool") && !text.contains("use both tools") {
            vec![]
        } else if text.contains("use both tools") {
            tools.into_iter().take(2).collect()
        } else {
            tools.into_iter().take(1).collect()
        };
        Self { model, stream, calls, think, prompt_tokens: (body_len as u64 / 4).max(1) }
    }

    pub fn completion_tokens(&self, chunks: usize) -> u64 {
        if self.calls.is_empty() {
            chunks as u64
        } else {
            12
        }
    }
}

pub const TOOL_ARGS: &str = r#"{"city":"Paris"}"#;
/// The argument text in the pieces a stream sends it as.
pub const TOOL_ARG_PIECES: [&str; 3] = [r#"{"ci"#, r#"ty":"Pa"#, r#"ris"}"#];
pub const THINKING: &str = "thinking...";
pub const SIGNATURE: &str = "sig-mock-1";

/// The key a recorded request carried.
pub fn recorded_key(r: &Recorded) -> String {
    key_of(&r.headers, None)
}

pub fn key_of(headers: &HeaderMap, query: Option<&str>) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(String::from);
    header("authorization")
        .map(|v| v.trim_start_matches("Bearer ").to_string())
        .or_else(|| header("x-api-key"))
        .or_else(|| header("x-goog-api-key"))
        .or_else(|| header("api-key"))
        .or_else(|| query?.split('&').find_map(|p| p.strip_prefix("key=")).map(String::from))
        .unwrap_or_default()
}

fn marker_number(key: &str, marker: &str) -> Option<u64> {
    let rest = &key[key.find(marker)? + marker.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Records the request and applies the key's faults; `Err` is the fault's answer.
pub async fn intake(
    state: &MockState,
    path: &str,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &Bytes,
    error_body: impl Fn(u16, &str) -> Value,
) -> Result<String, Response> {
    state.counters.requests.fetch_add(1, Ordering::SeqCst);
    if state.config.record {
        state.log.lock().unwrap().push(Recorded {
            path: path.to_string(),
            headers: headers.clone(),
            body: body.clone(),
        });
    }
    let key = key_of(headers, query);
    if let Some(ms) = marker_number(&key, "slow-") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let seen = {
        let mut per_key = state.per_key.lock().unwrap();
        let n = per_key.entry(key.clone()).or_default();
        *n += 1;
        *n
    };
    let first_429 = marker_number(&key, "first-429-").is_some_and(|n| seen <= n);
    let first_401 = marker_number(&key, "first-401-").is_some_and(|n| seen <= n);
    let fail = if first_429 {
        Some(429)
    } else if first_401 {
        Some(401)
    } else {
        marker_number(&key, "fail-")
    };
    if let Some(code) = fail {
        let status = StatusCode::from_u16(code as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response =
            (status, axum::Json(error_body(code as u16, &format!("mock failure {code}")))).into_response();
        if code == 429 {
            let after = marker_number(&key, "ra-").unwrap_or(1);
            response.headers_mut().insert("retry-after", after.to_string().parse().unwrap());
        }
        return Err(response);
    }
    if !state.config.first_byte_delay.is_zero() {
        tokio::time::sleep(state.config.first_byte_delay).await;
    }
    Ok(key)
}

pub fn bad_request(error_body: impl Fn(u16, &str) -> Value, message: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(error_body(400, message))).into_response()
}

/// Streams pre-rendered events with the configured pacing; `break-N` in the key cuts the
/// connection after N events.
pub fn event_stream(state: &MockState, key: &str, mut events: Vec<Bytes>, content_type: &str) -> Response {
    state.counters.streams_started.fetch_add(1, Ordering::SeqCst);
    let breaks = marker_number(key, "break-");
    if let Some(n) = breaks {
        events.truncate(n as usize);
    }
    let guard = StreamGuard { counters: state.counters.clone(), completed: false };
    let delay = state.config.chunk_delay;
    let stream = futures_util::stream::unfold(
        (events.into_iter(), guard, true, breaks.is_some()),
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
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap()
}

pub fn sse(event: Option<&str>, data: &Value) -> Bytes {
    match event {
        Some(name) => Bytes::from(format!("event: {name}\ndata: {data}\n\n")),
        None => Bytes::from(format!("data: {data}\n\n")),
    }
}

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

/// The bytes `/files/cat.png` serves (an image URL for providers that need images inline).
pub const CAT_PNG: &[u8] = b"\x89PNG\r\n\x1a\nmock-image-bytes";

async fn file(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "cat.png" => ([("content-type", "image/png")], Bytes::from_static(CAT_PNG)).into_response(),
        _ => ([("content-type", "text/html")], "<html>not an image</html>").into_response(),
    }
}

/// GET /v1/models: the model list (faults by key apply, as for every route).
async fn models(State(state): State<MockState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    if let Err(fault) = intake(&state, "/v1/models", &headers, q.as_deref(), &Bytes::new(), openai::error_body).await {
        return fault;
    }
    axum::Json(
        json!({"object": "list", "data": [{"id": "mock-model", "object": "model", "created": 0, "owned_by": "mock"}]}),
    )
    .into_response()
}

/// Shared by the Gemini route: `model:method` from the path.
pub fn split_gemini_path(Path(rest): Path<String>, RawQuery(q): RawQuery) -> (String, String, Option<String>) {
    let (model, method) = rest.rsplit_once(':').unwrap_or((rest.as_str(), ""));
    (model.to_string(), method.to_string(), q)
}

pub fn state_of(s: State<MockState>) -> MockState {
    s.0
}
