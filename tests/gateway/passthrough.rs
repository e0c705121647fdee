//! Same-format pass-through: the client's bytes reach the provider with only the model name
//! changed; answers come back whole or streamed chunk by chunk.

use crate::common::mock::{full_answer, MockConfig, MockProvider};
use crate::common::{http, Env};
use futures_util::StreamExt;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_streaming_request_passes_through_with_only_the_model_changed() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "upstream-key-1", "mock-model");
    let gw = env.serve().await;

    let body = r#"{"model":"mock/mock-model",  "messages":[{"role":"user","content":"h\u00e9llo \"there\""}],"temperature":0.50,"extra":{"keep" : [1,2]}}"#;
    let res = http()
        .post(gw.chat_url())
        .header("content-type", "application/json")
        .header("authorization", "Bearer client-key")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    assert_eq!(answer["choices"][0]["message"]["content"], full_answer(5));
    assert_eq!(answer["model"], "mock-model");

    let seen = mock.requests();
    assert_eq!(seen.len(), 1);
    let expected = r#"{"model":"mock-model","messages":[{"role":"user","content":"h\u00e9llo \"there\""}],"temperature":0.50,"extra":{"keep" : [1,2]}}"#;
    assert_eq!(String::from_utf8_lossy(&seen[0].body), expected);
    assert_eq!(seen[0].headers["authorization"], "Bearer upstream-key-1", "the account's key, not the client's");
    assert!(seen[0].headers["user-agent"].to_str().unwrap().starts_with("switchyard/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_answer_arrives_chunk_by_chunk() {
    let mock =
        MockProvider::start(MockConfig { chunks: 6, chunk_delay: Duration::from_millis(250), ..Default::default() })
            .await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "mock-model");
    let gw = env.serve().await;

    let started = Instant::now();
    let res = http()
        .post(gw.chat_url())
        .json(&serde_json::json!({"model": "mock/mock-model", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut stream = res.bytes_stream();
    let mut arrivals = Vec::new();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        arrivals.push(started.elapsed());
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let total = started.elapsed();
    assert!(total >= Duration::from_millis(1500), "the mock takes ~2 s, took {total:?}");
    assert!(
        arrivals[0] < Duration::from_millis(1000),
        "first chunk came after {:?}: the stream was buffered",
        arrivals[0]
    );
    assert!(arrivals.len() >= 5, "expected many separate reads, got {}", arrivals.len());
    let content: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(String::from))
        .collect();
    assert_eq!(content, full_answer(6));
    assert!(text.trim_end().ends_with("data: [DONE]"));
    assert_eq!(mock.counter(|c| &c.streams_completed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_health_and_bare_model_names() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "mock-model,other-model");
    env.ok(&["account", "add", "groq", "--api-key", "gsk_test_key_000000000"]);
    let gw = env.serve().await;

    let health: serde_json::Value =
        http().get(format!("{}/health", gw.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let models: serde_json::Value =
        http().get(format!("{}/v1/models", gw.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"mock/mock-model") && ids.contains(&"mock/other-model"), "{ids:?}");
    assert!(ids.contains(&"groq/llama-3.3-70b-versatile"), "catalog models listed: {ids:?}");

    let res = http().post(gw.chat_url()).body(r#"{"model":"other-model","messages":[]}"#).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(String::from_utf8_lossy(&mock.requests()[0].body), r#"{"model":"other-model","messages":[]}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_added_without_models_lists_its_own() {
    // issue 25: `provider add m --kind openai --base-url URL --api-key K` listed nothing, so
    // the tools' model pickers showed nothing.
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.ok(&["provider", "add", "m", "--kind", "openai", "--base-url", &mock.base_url(), "--api-key", "list-key"]);
    env.ok(&["provider", "add", "given", "--kind", "openai", "--base-url", &mock.base_url(), "--models", "chosen"]);
    // A catalog provider shows its real list rather than the catalog's few.
    env.ok(&["provider", "add", "openrouter", "--base-url", &mock.base_url(), "--api-key", "or-key"]);
    let gw = env.serve().await;
    let ids = || async {
        let models: serde_json::Value =
            http().get(format!("{}/v1/models", gw.url)).send().await.unwrap().json().await.unwrap();
        models["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    // Read in the background at start: awaited, not slept for.
    let started = Instant::now();
    let mut listed = ids().await;
    let both =
        |l: &Vec<String>| l.contains(&"m/mock-model".to_string()) && l.contains(&"openrouter/mock-model".to_string());
    while !both(&listed) && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        listed = ids().await;
    }
    assert!(listed.contains(&"m/mock-model".to_string()), "{listed:?}");
    assert!(
        listed.contains(&"given/chosen".to_string()) && !listed.contains(&"given/mock-model".to_string()),
        "--models overrides: {listed:?}"
    );
    assert!(both(&listed), "{listed:?}");
    assert!(!listed.iter().any(|m| m.starts_with("openrouter/") && m != "openrouter/mock-model"), "{listed:?}");
    let asked = mock.requests().into_iter().filter(|r| r.path == "/v1/models").collect::<Vec<_>>();
    let mut keys: Vec<String> = asked.iter().map(crate::common::mock::recorded_key).collect();
    keys.sort();
    assert_eq!(keys, ["list-key", "or-key"], "each asked once with its account's key, not the one given --models");
    let gemini: serde_json::Value =
        http().get(format!("{}/v1beta/models", gw.url)).send().await.unwrap().json().await.unwrap();
    assert!(gemini.to_string().contains("models/m/mock-model"), "{gemini}");
    // The listed model answers.
    let res = http().post(gw.chat_url()).body(r#"{"model":"m/mock-model","messages":[]}"#).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
