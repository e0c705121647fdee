//! The attempt loop with a fake job against a scripted provider: a real HTTP server that
//! answers each account's key from a list (status, retry-after, body, delay), and a real
//! gateway state over a store in a temporary folder. Each failure leads where it should, and
//! the attempt log, the cooldowns and the provider's request counts say so.

use super::*;
use crate::manage::Manager;
use crate::providers::Format;
use axum::extract::State;
use axum::response::IntoResponse;
use http::HeaderValue;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use switchyard_api::{AccountChange, NewAccount, NewProvider};

/// One scripted answer.
#[derive(Clone)]
struct Scripted {
    status: u16,
    retry_after: Option<&'static str>,
    body: &'static str,
    delay_ms: u64,
}

fn answer(status: u16, body: &'static str) -> Scripted {
    Scripted { status, retry_after: None, body, delay_ms: 0 }
}

#[derive(Clone, Default)]
struct Script {
    /// Answers still to give, by key (then 200).
    answers: Arc<Mutex<HashMap<String, VecDeque<Scripted>>>>,
    /// Requests seen, by key.
    seen: Arc<Mutex<HashMap<String, usize>>>,
}

impl Script {
    fn seen(&self, key: &str) -> usize {
        self.seen.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}

async fn scripted(State(script): State<Script>, headers: HeaderMap) -> Response {
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    *script.seen.lock().unwrap().entry(key.clone()).or_default() += 1;
    let next = script.answers.lock().unwrap().get_mut(&key).and_then(VecDeque::pop_front);
    let Some(next) = next else {
        return (
            StatusCode::OK,
            [(http::header::CONTENT_TYPE, "application/json")],
            format!(r#"{{"answered_by":"{key}"}}"#),
        )
            .into_response();
    };
    tokio::time::sleep(Duration::from_millis(next.delay_ms)).await;
    let mut response = (StatusCode::from_u16(next.status).unwrap(), next.body).into_response();
    if let Some(after) = next.retry_after {
        response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from_static(after));
    }
    response
}

/// A job that sends `{}` to the provider and answers with its body.
struct FakeJob {
    skip: Option<String>,
}

impl Job for FakeJob {
    fn format(&self) -> Format {
        Format::Openai
    }
    fn stream(&self) -> bool {
        false
    }
    fn skip(&mut self, _: &Candidate) -> Option<String> {
        self.skip.clone()
    }
    fn session(&mut self) -> Option<u64> {
        None
    }
    async fn prepare(&mut self, candidate: &Candidate) -> Result<Prepared, ApiError> {
        let url = format!("{}/chat/completions", candidate.provider.base_url);
        Ok(Prepared {
            url: reqwest::Url::parse(&url).unwrap(),
            body: Bytes::from_static(b"{}"),
            extra: HeaderMap::new(),
            translated: false,
            gather: false,
        })
    }
    async fn answer(
        &mut self,
        response: reqwest::Response,
        _: &Candidate,
        _: bool,
        _: Duration,
        _: &UsageTap,
    ) -> Result<Response, ApiError> {
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        Ok((status, body).into_response())
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    gateway: crate::gateway::Gateway,
    script: Script,
    /// Account ids by key.
    ids: HashMap<&'static str, i64>,
}

/// Provider `p` (model `m`) on the scripted server with one account per key, in priority
/// order, and a first-byte timeout of one second.
async fn setup(keys: &[&'static str]) -> Setup {
    let script = Script::default();
    let router =
        axum::Router::new().route("/v1/chat/completions", axum::routing::post(scripted)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::open_with_sealer(dir.path(), crate::store::secrets::Sealer::for_tests()).await.unwrap();
    let add = NewProvider {
        id: "p".into(),
        kind: Some(Format::Openai.to_string()),
        base_url: Some(base),
        models: vec!["m".into()],
        ..Default::default()
    };
    manager.provider_add(add).await.unwrap();
    let mut ids = HashMap::new();
    for (priority, key) in keys.iter().enumerate() {
        let add = NewAccount {
            provider: "p".into(),
            api_key: Some(key.to_string()),
            label: key.to_string(),
            priority: priority as i64,
        };
        ids.insert(*key, manager.account_add(add).await.unwrap().id);
    }
    manager.settings_set("first-byte-timeout-secs", "1").await.unwrap();
    let gateway = crate::gateway::Gateway::open(manager, false).await.unwrap();
    Setup { _dir: dir, gateway, script, ids }
}

impl Setup {
    fn script(&self, key: &str, answers: Vec<Scripted>) {
        self.script.answers.lock().unwrap().insert(key.to_string(), answers.into());
    }

    async fn run(&self) -> (Result<(Response, Option<UsageTap>), ApiError>, Draft) {
        self.run_job(&mut FakeJob { skip: None }).await
    }

    async fn run_job(&self, job: &mut FakeJob) -> (Result<(Response, Option<UsageTap>), ApiError>, Draft) {
        let app = self.gateway.state();
        let candidates = crate::routing::plan(&app.live.get(), &app.routing, "p/m").unwrap();
        let mut draft = Draft::default();
        let result = run(app, job, "p/m", &candidates, &mut draft).await;
        (result, draft)
    }

    fn cooling(&self, key: &str) -> bool {
        let app = self.gateway.state();
        let config = app.live.get();
        let (_, cooling) = app.routing.order_accounts(&config.providers["p"], "m", None);
        cooling.iter().any(|(account, _)| account.id == self.ids[key])
    }
}

async fn body_of(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn a_429_with_a_reset_cools_the_account_and_the_next_answers() {
    let s = setup(&["a", "b"]).await;
    s.script("a", vec![Scripted { retry_after: Some("30"), ..answer(429, r#"{"error":{"message":"slow down"}}"#) }]);
    let (result, draft) = s.run().await;
    let (response, tap) = result.unwrap();
    assert!(tap.is_some());
    assert_eq!(body_of(response).await, r#"{"answered_by":"b"}"#);
    assert_eq!(draft.attempts.len(), 1, "{:?}", draft.attempts);
    assert!(draft.attempts[0].starts_with(&format!("p#{} m: ", s.ids["a"])), "{:?}", draft.attempts);
    assert_eq!(draft.account_id, Some(s.ids["b"]));
    assert!(s.cooling("a") && !s.cooling("b"));
    assert_eq!(s.script.seen("a"), 1, "a 429 is not retried on the same account");
}

#[tokio::test]
async fn an_exhausted_quota_moves_on_and_rests_the_account() {
    let s = setup(&["a", "b"]).await;
    s.script(
        "a",
        vec![answer(429, r#"{"error":{"type":"insufficient_quota","message":"You exceeded your current quota"}}"#)],
    );
    let (result, draft) = s.run().await;
    assert_eq!(body_of(result.unwrap().0).await, r#"{"answered_by":"b"}"#);
    assert!(draft.attempts[0].contains("quota"), "{:?}", draft.attempts);
    assert!(s.cooling("a"));
}

#[tokio::test]
async fn a_refused_key_sets_the_account_aside_and_the_next_answers() {
    let s = setup(&["a", "b"]).await;
    s.script("a", vec![answer(401, r#"{"error":{"message":"invalid api key"}}"#)]);
    let (result, draft) = s.run().await;
    assert_eq!(body_of(result.unwrap().0).await, r#"{"answered_by":"b"}"#);
    assert_eq!(draft.attempts.len(), 1);
    assert_eq!(s.script.seen("a"), 1, "an API key's 401 is not retried");
}

#[tokio::test]
async fn a_5xx_is_retried_once_on_the_same_account() {
    let s = setup(&["a", "b"]).await;
    s.script("a", vec![answer(503, "busy")]);
    let (result, draft) = s.run().await;
    assert_eq!(body_of(result.unwrap().0).await, r#"{"answered_by":"a"}"#);
    assert_eq!((s.script.seen("a"), s.script.seen("b")), (2, 0));
    assert_eq!(draft.attempts.len(), 1, "{:?}", draft.attempts);

    s.script("a", vec![answer(502, "down"), answer(500, "down")]);
    let (result, draft) = s.run().await;
    assert_eq!(body_of(result.unwrap().0).await, r#"{"answered_by":"b"}"#, "twice: the next account");
    assert_eq!(draft.attempts.len(), 2);
    assert!(!s.cooling("a"), "a server error cools nothing");
}

#[tokio::test]
async fn a_first_byte_timeout_moves_on_without_a_second_wait() {
    let s = setup(&["a", "b"]).await;
    s.script("a", vec![Scripted { delay_ms: 2000, ..answer(200, "late") }]);
    let started = std::time::Instant::now();
    let (result, draft) = s.run().await;
    assert_eq!(body_of(result.unwrap().0).await, r#"{"answered_by":"b"}"#);
    assert!(draft.attempts[0].contains("sent nothing for 1 s"), "{:?}", draft.attempts);
    assert!(started.elapsed() < Duration::from_millis(1900), "waited {:?}", started.elapsed());
    assert_eq!(s.script.seen("a"), 1);
}

#[tokio::test]
async fn a_client_mistake_comes_back_at_once() {
    let s = setup(&["a", "b"]).await;
    s.script("a", vec![answer(400, r#"{"error":{"message":"messages: required"}}"#)]);
    let (result, draft) = s.run().await;
    let (response, tap) = result.unwrap();
    assert!(tap.is_none());
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_of(response).await, r#"{"error":{"message":"messages: required"}}"#, "the provider's own body");
    assert_eq!((s.script.seen("a"), s.script.seen("b")), (1, 0), "no fallback for the client's mistake");
    assert_eq!(draft.attempts, vec![format!("p#{} m: client error", s.ids["a"])]);
    assert!(!s.cooling("a"));
}

#[tokio::test]
async fn when_every_account_cools_the_client_learns_when_to_retry() {
    let s = setup(&["a", "b"]).await;
    let limited = Scripted { retry_after: Some("20"), ..answer(429, "{}") };
    s.script("a", vec![limited.clone()]);
    s.script("b", vec![limited]);
    let (result, _) = s.run().await;
    let error = result.unwrap_err();
    assert_eq!((error.status, error.code), (StatusCode::TOO_MANY_REQUESTS, Some("all_cooling_down")));
    let wait: u64 = error.retry_after.unwrap().to_str().unwrap().parse().unwrap();
    assert!((19..=20).contains(&wait), "{wait}");
    // Cooling accounts are not asked again: the log says so.
    let (result, draft) = s.run().await;
    assert_eq!(result.unwrap_err().code, Some("all_cooling_down"));
    assert!(draft.attempts.iter().all(|a| a.contains("cooling down")), "{:?}", draft.attempts);
    assert_eq!((s.script.seen("a"), s.script.seen("b")), (1, 1));
}

#[tokio::test]
async fn an_account_at_its_concurrency_cap_is_passed_over() {
    let s = setup(&["a", "b"]).await;
    let manager = &s.gateway.state().manager;
    for key in ["a", "b"] {
        manager.account_set(s.ids[key], AccountChange { max_concurrent: Some(1), ..Default::default() }).await.unwrap();
    }
    let app = s.gateway.state();
    app.live.refresh(manager.store(), manager.sealer()).await;
    let config = app.live.get();
    let account_a = config.providers["p"].accounts.iter().find(|a| a.id == s.ids["a"]).unwrap().clone();
    let held_a = app.routing.try_begin(&account_a).expect("a's one slot");
    let (result, draft) = s.run().await;
    let (response, _) = result.unwrap();
    assert_eq!(body_of(response).await, r#"{"answered_by":"b"}"#);
    assert_eq!(draft.attempts, vec![format!("p#{}: at its concurrency cap", s.ids["a"])]);
    // b's slot is free again once its answer was read; with a's still held and b's taken,
    // the client is told to retry.
    let account_b = config.providers["p"].accounts.iter().find(|a| a.id == s.ids["b"]).unwrap().clone();
    let held_b = app.routing.try_begin(&account_b).expect("b's slot was freed with its answer");
    let (result, _) = s.run().await;
    let error = result.unwrap_err();
    assert_eq!((error.code, error.retry_after.unwrap().to_str().unwrap()), (Some("all_busy"), "1"));
    drop((held_a, held_b));
}

#[tokio::test]
async fn a_candidate_the_job_cannot_use_is_skipped_and_said_why() {
    let s = setup(&["a"]).await;
    let (result, draft) = s.run_job(&mut FakeJob { skip: Some("no tools on this model".into()) }).await;
    let error = result.unwrap_err();
    assert_eq!((error.status, error.code), (StatusCode::BAD_REQUEST, Some("no_capable_model")));
    assert_eq!(draft.attempts, vec!["p/m: skipped: no tools on this model".to_string()]);
    assert_eq!(s.script.seen("a"), 0);
}
