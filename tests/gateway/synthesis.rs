//! Synthesis combos through the real gateway and the project's mock provider: three members
//! (one that answers, one slow past the combo's deadline, one failing) and a judge of another
//! API kind; from every inbound API, streaming and not. The judge sees the conversation and
//! the candidates that made it; the client gets the judge's answer; the usage records of the
//! members and the judge share a group; a request that defines tools is refused; when every
//! member fails the client gets the usual error.

use crate::common::mock::{full_answer, MockConfig, MockProvider};
use crate::common::{http, Env, Gateway};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ANSWER_CHUNKS: usize = 5;

fn setup(env: &Env, mock: &MockProvider) {
    env.add_provider("good", &mock.base_url(), "good-key", "a");
    env.add_provider("slow", &mock.base_url(), "slow-8000", "b");
    env.add_provider("bad", &mock.base_url(), "fail-400", "c");
    env.ok(&[
        "provider",
        "add",
        "judges",
        "--kind",
        "anthropic",
        "--base-url",
        &mock.root_url(),
        "--models",
        "judge",
        "--api-key",
        "judge-key",
    ]);
    env.ok(&[
        "combo",
        "set",
        "trio",
        "good/a",
        "slow/b",
        "bad/c",
        "--strategy",
        "synthesize",
        "--judge",
        "judges/judge",
        "--deadline",
        "2",
    ]);
}

/// The judge's requests the mock received (Anthropic's path), newest last.
fn judge_bodies(mock: &MockProvider) -> Vec<String> {
    mock.requests()
        .iter()
        .filter(|r| r.path == "/v1/messages")
        .map(|r| String::from_utf8_lossy(&r.body).to_string())
        .collect()
}

async fn post(gw: &Gateway, path: &str, body: Value) -> (u16, String) {
    let r = http().post(format!("{}{path}", gw.url)).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_answer_in_parallel_and_the_judge_writes_the_answer_from_every_inbound_api() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    setup(&env, &mock);
    let gw = env.serve().await;
    let user = "which is the largest planet?";
    let cases: Vec<(&str, &str, Value)> = vec![
        ("openai", "/v1/chat/completions", json!({"model": "trio", "messages": [{"role": "user", "content": user}]})),
        (
            "openai stream",
            "/v1/chat/completions",
            json!({"model": "trio", "stream": true, "messages": [{"role": "user", "content": user}]}),
        ),
        (
            "anthropic stream",
            "/v1/messages",
            json!({"model": "trio", "max_tokens": 100, "stream": true, "messages": [{"role": "user", "content": user}]}),
        ),
        ("responses", "/v1/responses", json!({"model": "trio", "input": user})),
        (
            "gemini",
            "/v1beta/models/trio:generateContent",
            json!({"contents": [{"role": "user", "parts": [{"text": user}]}]}),
        ),
    ];
    let expected = full_answer(ANSWER_CHUNKS);
    for (name, path, body) in cases {
        let started = Instant::now();
        let (status, text) = post(&gw, path, body).await;
        let took = started.elapsed();
        assert_eq!(status, 200, "{name}: {text}\n{}", gw.log());
        // The judge's answer, streamed or whole (the pieces of a stream, joined).
        let pieces: String = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| {
                v.pointer("/choices/0/delta/content")
                    .or_else(|| v.pointer("/delta/text"))
                    .and_then(Value::as_str)
                    .map(String::from)
            })
            .collect();
        assert!(text.contains(&expected) || pieces == expected, "{name}: {text}");
        // The slow member is cut off at the 2 s deadline, not waited for (8 s).
        assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(6), "{name}: {took:?}");
        // The judge saw the question and the one candidate that made it, tools as text.
        let judge = judge_bodies(&mock).pop().expect("the judge was asked");
        assert!(judge.contains(user), "{name}: {judge}");
        assert!(judge.contains("<candidate 1 from=\\\"good/a\\\">"), "{name}: {judge}");
        assert!(judge.contains(&expected), "{name}: the candidate's text: {judge}");
        assert!(!judge.contains("slow/b") && !judge.contains("bad/c"), "{name}: {judge}");
    }
    // Usage: per request, one group: the three members and the judge.
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "100", "--json"])).unwrap();
    let records = log.as_array().unwrap();
    let judges: Vec<&Value> = records.iter().filter(|r| r["part"] == "judge").collect();
    assert_eq!(judges.len(), 5, "{log}");
    for judge in judges {
        let group: Vec<&Value> = records.iter().filter(|r| r["group_id"] == judge["group_id"]).collect();
        assert_eq!(group.len(), 4, "{log}");
        assert_eq!(judge["provider"], "judges");
        assert_eq!(judge["requested_model"], "trio");
        let attempts = judge["attempts"].to_string();
        assert!(attempts.contains("member good/a: answered") && attempts.contains("deadline"), "{attempts}");
        let member = |m: &str| group.iter().find(|r| r["requested_model"] == m).copied().unwrap();
        assert_eq!(member("good/a")["status"], 200);
        assert!(member("good/a")["input_tokens"].as_u64() > Some(0), "members' tokens are counted: {log}");
        assert_eq!(member("slow/b")["status"], 504, "left out at the deadline: {log}");
        assert_eq!(member("bad/c")["status"], 400, "{log}");
        assert!(group.iter().all(|r| r["part"] == "judge" || r["part"] == "member"));
    }
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_are_refused_and_every_member_failing_gives_the_usual_error() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    setup(&env, &mock);
    env.add_provider("bad2", &mock.base_url(), "fail-401", "d");
    env.ok(&["combo", "set", "doomed", "bad/c", "bad2/d", "--strategy", "synthesize", "--judge", "judges/judge"]);
    // Configuration mistakes are explained.
    let no_judge = env.fails(&["combo", "set", "x", "good/a", "--strategy", "synthesize"]);
    assert!(no_judge.contains("--judge"), "{no_judge}");
    let stray = env.fails(&["combo", "set", "y", "good/a", "--judge", "judges/judge"]);
    assert!(stray.contains("synthesize"), "{stray}");
    let gw = env.serve().await;
    let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
    let (status, text) = post(
        &gw,
        "/v1/chat/completions",
        json!({"model": "trio", "tools": tools, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("takes no requests that define tools"), "{text}");
    let (status, text) = post(
        &gw,
        "/v1/messages",
        json!({"model": "doomed", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    // The last member's own error (400 or 401, whichever failed last), in Anthropic's shape.
    assert!(status == 400 || status == 401, "{status}: {text}");
    assert!(text.contains("\"type\":\"error\"") && text.contains("mock failure"), "{text}");
    assert!(judge_bodies(&mock).is_empty(), "no judge without a candidate");
    drop(gw);
}
