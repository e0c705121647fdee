//! The token saver on the real request path: a long tool result sent through each inbound API
//! reaches the provider compressed (same format and translated), the rest of the client's
//! body unchanged; the tokens saved land in the usage record; the global setting and a key's
//! own switch turn it off.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{http, Env};
use serde_json::{json, Value};
use std::time::Duration;

const LOG: &str = include_str!("../data/saver/cargo-build.txt");

/// One request per inbound API, each carrying LOG as a tool result, to `model` (Gemini: the
/// model is in the path). Returns (path, body, JSON pointer of the tool result).
fn requests(model: &str) -> Vec<(String, Value, &'static str)> {
    vec![
        (
            "/v1/chat/completions".into(),
            json!({"model": model, "messages": [
                {"role": "user", "content": "build it"},
                {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "sh", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": LOG},
            ]}),
            "/messages/2/content",
        ),
        (
            "/v1/messages".into(),
            json!({"model": model, "max_tokens": 100, "messages": [
                {"role": "user", "content": "build it"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "sh", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": LOG}]},
            ]}),
            "/messages/2/content/0/content",
        ),
        (
            "/v1/responses".into(),
            json!({"model": model, "input": [
                {"type": "message", "role": "user", "content": "build it"},
                {"type": "function_call", "call_id": "c1", "name": "sh", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": LOG},
            ]}),
            "/input/2/output",
        ),
        (
            format!("/v1beta/models/{model}:generateContent"),
            json!({"contents": [
                {"role": "user", "parts": [{"text": "build it"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "sh", "args": {}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "sh", "response": {"output": LOG}}}]},
            ]}),
            "/contents/2/parts/0/functionResponse/response/output",
        ),
    ]
}

async fn post(url: String, body: &Value, key: Option<&str>) -> u16 {
    let mut req = http().post(url).json(body);
    if let Some(key) = key {
        req = req.bearer_auth(key).header("x-api-key", key);
    }
    req.send().await.unwrap().status().as_u16()
}

/// Waits for `n` usage records and returns their tokens_saved, in the order the requests started.
async fn tokens_saved(env: &Env, n: usize) -> Vec<i64> {
    for _ in 0..80 {
        let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "100", "--json"])).unwrap();
        let rows = log.as_array().unwrap();
        if rows.len() >= n {
            // A record is written when its request is done, tokens counted: order by start time.
            let mut by_start: Vec<(i64, i64)> =
                rows.iter().map(|r| (r["ts_ms"].as_i64().unwrap(), r["tokens_saved"].as_i64().unwrap())).collect();
            by_start.sort_by_key(|&(ts, _)| ts);
            return by_start.into_iter().map(|(_, saved)| saved).collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} usage records");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_results_reach_the_provider_compressed_through_every_api() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_every_kind(&mock, "k");
    let gw = env.serve().await;
    let kinds = ["m-oa", "m-an", "m-re", "m-ge"];
    let mut sent = Vec::new();
    for (i, (path, body, pointer)) in requests("m-oa/mock-model").into_iter().enumerate() {
        // Same format first (pass-through), then translated to the next kind.
        for target in [kinds[i], kinds[(i + 1) % 4]] {
            let (path, body) = retarget(&path, &body, target);
            assert_eq!(post(format!("{}{path}", gw.url), &body, None).await, 200, "{path} to {target}");
            sent.push((body, pointer, target == kinds[i]));
        }
    }
    let seen = mock.requests();
    assert_eq!(seen.len(), 8);
    for ((client, pointer, same_format), upstream) in sent.iter().zip(&seen) {
        let text = String::from_utf8_lossy(&upstream.body);
        assert!(text.contains("[token saver: "), "{}: the note of what was left out", upstream.path);
        assert!(!text.contains("Compiling serde "), "{}: build progress lines left out", upstream.path);
        for line in LOG.lines().filter(|l| l.contains("warning") || l.contains("error")) {
            let escaped = serde_json::to_string(line).unwrap();
            assert!(text.contains(&escaped[1..escaped.len() - 1]), "{}: kept whole: {line}", upstream.path);
        }
        if *same_format {
            // Pass-through: the client's body with only the model and the tool result changed.
            let mut received: Value = serde_json::from_slice(&upstream.body).unwrap();
            let result = received.pointer(pointer).unwrap().as_str().unwrap().len();
            assert!(result < LOG.len() / 4, "{}: {result} bytes of {}", upstream.path, LOG.len());
            *received.pointer_mut(pointer).unwrap() = client.pointer(pointer).unwrap().clone();
            let mut expected = client.clone();
            if let Some(model) = expected.get_mut("model") {
                *model = json!("mock-model");
            }
            assert_eq!(received, expected, "{}: nothing else changed", upstream.path);
        }
    }
    let saved = tokens_saved(&env, 8).await;
    assert!(saved.iter().all(|&n| n > 3000), "every record counts the tokens saved: {saved:?}");
    assert_eq!(saved.iter().collect::<std::collections::HashSet<_>>().len(), 1, "the same result saves the same");
    let summary: Value = serde_json::from_str(&env.ok(&["usage", "summary", "--by", "tool", "--json"])).unwrap();
    assert_eq!(summary[0]["tokens_saved"].as_i64().unwrap(), saved.iter().sum::<i64>(), "summed in the summary");
}

/// The request for `target` (a provider id): its model in the body or the Gemini path.
fn retarget(path: &str, body: &Value, target: &str) -> (String, Value) {
    let model = format!("{target}/mock-model");
    let mut body = body.clone();
    if let Some(m) = body.get_mut("model") {
        *m = json!(model);
    }
    (path.replace("m-oa/mock-model", &model), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setting_and_a_keys_switch_turn_it_off() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_every_kind(&mock, "k");
    let off = env.ok(&["key", "create", "--name", "raw"]).trim().to_string();
    let on = env.ok(&["key", "create", "--name", "saving"]).trim().to_string();
    env.ok(&["key", "set", "1", "--token-saver", "off"]);
    assert!(env.fails(&["key", "set", "2", "--token-saver", "maybe"]).contains("on, off or default"));
    let keys: Value = serde_json::from_str(&env.ok(&["key", "list", "--json"])).unwrap();
    assert_eq!((keys[0]["token_saver"].clone(), keys[1]["token_saver"].clone()), (json!(false), Value::Null));
    let gw = env.serve().await;
    let (path, body, _) = requests("m-oa/mock-model").remove(0);
    let url = format!("{}{path}", gw.url);

    assert_eq!(post(url.clone(), &body, Some(&off)).await, 200);
    assert_eq!(post(url.clone(), &body, Some(&on)).await, 200);
    gw.change(&env, &["settings", "set", "token-saver", "off"]).await;
    assert_eq!(post(url.clone(), &body, Some(&on)).await, 200);
    gw.change(&env, &["key", "set", "2", "--token-saver", "on"]).await;
    assert_eq!(post(url.clone(), &body, Some(&on)).await, 200, "a key's own switch wins over the setting");
    assert_eq!(post(url, &body, None).await, 200, "no key: the setting");

    let compressed: Vec<bool> =
        mock.requests().iter().map(|r| String::from_utf8_lossy(&r.body).contains("[token saver: ")).collect();
    assert_eq!(compressed, [false, true, false, true, false]);
    let original = serde_json::to_vec(&json!({"model": "mock-model", "messages": body["messages"]})).unwrap();
    assert_eq!(mock.requests()[0].body, original, "off: the client's bytes, only the model changed");
    let saved = tokens_saved(&env, 5).await;
    assert_eq!(saved.iter().map(|&n| n > 0).collect::<Vec<_>>(), compressed);
}
