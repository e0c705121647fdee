//! Bad input and failing upstreams: each answer is a clear error in the OpenAI shape, never a
//! panic or a 500.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{http, Env};
use rand::{Rng, SeedableRng};
use std::time::Duration;

async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, serde_json::Value) {
    let res = http().post(url).header("content-type", "application/json").body(body).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")))
}

fn message(v: &serde_json::Value) -> &str {
    v["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_mistakes_get_4xx_saying_what_is_wrong() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "mock-model");
    env.ok(&[
        "provider",
        "add",
        "claude",
        "--kind",
        "anthropic",
        "--base-url",
        "http://127.0.0.1:9",
        "--api-key",
        "x-key-0000000000",
    ]);
    env.ok(&["provider", "add", "keyless", "--kind", "openai", "--base-url", "http://127.0.0.1:9/v1"]);
    let gw = env.serve().await;
    let url = gw.chat_url();

    let (s, v) = post(&url, "{not json").await;
    assert_eq!(s, 400);
    assert!(message(&v).contains("not valid JSON"), "{v}");
    assert_eq!(v["error"]["type"], "invalid_request_error");

    let (s, v) = post(&url, "[1,2,3]").await;
    assert_eq!((s, message(&v)), (400, "the request body must be a JSON object"));

    let (s, v) = post(&url, r#"{"messages":[]}"#).await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["param"], "model");
    assert!(message(&v).contains("missing 'model'"));

    let (s, v) = post(&url, r#"{"model":"nope/x","messages":[]}"#).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "model_not_found");
    assert!(message(&v).contains("unknown provider 'nope'") && message(&v).contains("mock"), "{v}");

    let (s, v) = post(&url, r#"{"model":"gpt-unknown","messages":[]}"#).await;
    assert_eq!(s, 404);
    assert!(message(&v).contains("unknown model 'gpt-unknown'"), "{v}");

    let (s, v) = post(&url, r#"{"model":"mock/mock-model","stream":"yes"}"#).await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("stream")));

    let (s, v) = post(&url, r#"{"model":"claude/claude-x","messages":[]}"#).await;
    assert_eq!(s, 502, "translated to the unreachable Anthropic provider: {v}");
    assert!(message(&v).contains("cannot reach provider 'claude'"), "{v}");

    let (s, v) = post(&url, r#"{"model":"keyless/m","messages":[]}"#).await;
    assert_eq!(s, 503);
    assert!(message(&v).contains("switchyard account add keyless"), "{v}");

    let res = http().get(format!("{}/v2/whatever", gw.url)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(mock.requests().len(), 0, "no mistake reached the provider");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_get_413() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "mock-model");
    env.ok(&["settings", "set", "max-body-mb", "1"]);
    let gw = env.serve().await;

    let big = format!(
        r#"{{"model":"mock/mock-model","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "a".repeat(1_100_000)
    );
    let (s, v) = post(&gw.chat_url(), big.clone()).await;
    assert_eq!(s, 413);
    assert!(message(&v).contains("1 MiB"), "{v}");

    // Without a content-length (chunked), the limit holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.as_bytes().chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let (s, _) = post(&gw.chat_url(), reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))).await;
    assert_eq!(s, 413);

    let small =
        format!(r#"{{"model":"mock/mock-model","messages":[{{"role":"user","content":"{}"}}]}}"#, "a".repeat(900_000));
    assert_eq!(post(&gw.chat_url(), small).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_errors_keep_status_and_body_and_unreachable_is_502() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("limited", &mock.base_url(), "acct-fail-429", "m");
    env.add_provider("broken", &mock.base_url(), "acct-fail-500", "m");
    // Port 9 (discard) is closed on loopback: the connection is refused.
    env.add_provider("gone", "http://127.0.0.1:9/v1", "k", "m");
    let gw = env.serve().await;

    let res = http()
        .post(gw.chat_url())
        .json(&serde_json::json!({"model": "limited/m", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "1");
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["error"]["code"], "all_cooling_down", "its only account now cools down: {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("mock failure 429"), "{v}");

    let (s, v) = post(&gw.chat_url(), r#"{"model":"broken/m","messages":[]}"#).await;
    assert_eq!((s, v["error"]["code"].as_str()), (500, Some("mock_500")));

    let (s, v) = post(&gw.chat_url(), r#"{"model":"gone/m","messages":[]}"#).await;
    assert_eq!(s, 502);
    assert!(message(&v).contains("cannot reach provider 'gone'"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_truncated_bodies_never_break_the_gateway() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "mock-model");
    let gw = env.serve().await;
    let client = http();
    let valid = br#"{"model":"mock/mock-model","stream":true,"messages":[{"role":"user","content":"hi \u00e9"}],"tools":[{"type":"function"}],"contents":[{"parts":[{"text":"x"}]}]}"#;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut bodies: Vec<Vec<u8>> = (0..valid.len()).step_by(3).map(|n| valid[..n].to_vec()).collect();
    for _ in 0..50 {
        let len = rng.gen_range(0..400);
        bodies.push((0..len).map(|_| rng.gen()).collect());
    }
    for _ in 0..50 {
        let mut b = valid.to_vec();
        let i = rng.gen_range(0..b.len());
        b[i] = rng.gen();
        bodies.push(b);
    }
    let paths = [
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/responses",
        "/v1/messages/count_tokens",
        "/v1beta/models/mock/mock-model:streamGenerateContent?alt=sse",
    ];
    for path in paths {
        for body in &bodies {
            let res =
                client.post(format!("{}{path}", gw.url)).body(body.clone()).send().await.expect("gateway answered");
            let status = res.status().as_u16();
            let text = res.text().await.unwrap_or_default();
            assert!(status < 500, "{status} on {path} for {:?}: {text}", String::from_utf8_lossy(body));
        }
    }
    let res = client.get(format!("{}/health", gw.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(!gw.log().contains("panicked"), "{}", gw.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_breaking_mid_stream_ends_the_stream_with_an_error_event() {
    let mock = MockProvider::start(MockConfig { chunk_delay: Duration::from_millis(30), ..Default::default() }).await;
    let env = Env::new();
    env.add_provider("flaky", &mock.base_url(), "acct-break-3", "m");
    let gw = env.serve().await;
    let res = http()
        .post(gw.chat_url())
        .json(&serde_json::json!({"model": "flaky/m", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("the client stream is closed properly, not cut");
    let events: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
    assert_eq!(events.len(), 4, "3 relayed events and the error: {text}");
    let last: serde_json::Value = serde_json::from_str(events[3]).unwrap();
    assert_eq!(last["error"]["type"], "upstream_error");
    assert!(last["error"]["message"].as_str().unwrap().contains("provider 'flaky' broke mid-answer"), "{last}");
}
