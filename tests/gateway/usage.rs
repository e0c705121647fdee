//! Usage records: exactly one per request — successes, fallbacks, failures, streams and
//! client disconnects — with the provider's own token counts, written in batches and flushed
//! on shutdown.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{http, Env};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

fn records(env: &Env) -> Vec<Value> {
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "100", "--json"])).unwrap();
    let mut rows = log.as_array().unwrap().clone();
    rows.reverse();
    rows
}

async fn wait_for(env: &Env, n: usize) -> Vec<Value> {
    for _ in 0..60 {
        let rows = records(env);
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    records(env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_leaves_exactly_one_record() {
    let mock =
        MockProvider::start(MockConfig { chunks: 30, chunk_delay: Duration::from_millis(20), ..Default::default() })
            .await;
    let env = Env::new();
    env.ok(&[
        "provider",
        "add",
        "oa",
        "--kind",
        "openai",
        "--base-url",
        &mock.base_url(),
        "--models",
        "m",
        "--api-key",
        "k-oa",
    ]);
    env.ok(&[
        "provider",
        "add",
        "an",
        "--kind",
        "anthropic",
        "--base-url",
        &mock.root_url(),
        "--models",
        "m",
        "--api-key",
        "k-an",
    ]);
    env.ok(&[
        "provider",
        "add",
        "bad",
        "--kind",
        "openai",
        "--base-url",
        &mock.base_url(),
        "--models",
        "m",
        "--api-key",
        "k-fail-429-ra-60",
    ]);
    env.ok(&["combo", "set", "duo", "bad/m", "oa/m"]);
    env.ok(&["price", "set", "oa/m", "--input", "1000", "--output", "2000", "--cache-read", "100"]);
    assert!(env.fails(&["price", "set", "m", "--input", "1", "--output", "1"]).contains("PROVIDER/MODEL"));
    let gw = env.serve().await;
    let client = http();
    let ua = [("user-agent", "claude-cli/2.0.14 (external, cli)")];

    // 1. JSON, pass-through.
    let res = client
        .post(gw.chat_url())
        .header(ua[0].0, ua[0].1)
        .json(&json!({"model": "oa/m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap();
    // 2. Stream, pass-through, with usage.
    let res = client
        .post(gw.chat_url())
        .json(&json!({"model": "oa/m", "stream": true, "stream_options": {"include_usage": true}, "messages": []}))
        .send()
        .await
        .unwrap();
    res.text().await.unwrap();
    // 3. Stream, translated (Anthropic client, OpenAI-kind provider... and back).
    let res = client.post(format!("{}/v1/messages", gw.url)).json(&json!({"model": "an/m", "max_tokens": 50, "stream": true, "messages": [{"role": "user", "content": "hi"}]})).send().await.unwrap();
    res.text().await.unwrap();
    // 4. Fallback.
    let res = client.post(gw.chat_url()).json(&json!({"model": "duo", "messages": []})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap();
    // 5. Failure.
    let res = client.post(gw.chat_url()).json(&json!({"model": "nope/x", "messages": []})).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // 6. The client leaves mid-stream.
    let res = client
        .post(gw.chat_url())
        .json(&json!({"model": "oa/m", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    let mut stream = res.bytes_stream();
    stream.next().await.unwrap().unwrap();
    drop(stream);

    let rows = wait_for(&env, 6).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rows_later = records(&env);
    assert_eq!(rows.len(), 6, "one record per request: {rows:#?}");
    assert_eq!(rows_later.len(), 6, "and never a second one");

    let r = &rows[0];
    assert_eq!(
        (r["tool"].as_str(), r["inbound"].as_str(), r["provider"].as_str(), r["model"].as_str()),
        (Some("claude-code"), Some("openai"), Some("oa"), Some("m"))
    );
    assert_eq!(
        (r["status"].as_i64(), r["outcome"].as_str(), r["usage_reported"].as_bool()),
        (Some(200), Some("ok"), Some(true))
    );
    assert_eq!(r["output_tokens"], 30, "the provider's own count");
    let want = r["input_tokens"].as_f64().unwrap() * 1000.0 / 1e6 + 30.0 * 2000.0 / 1e6;
    assert!((r["cost_usd"].as_f64().unwrap() - want).abs() < 1e-9, "cost = input + output at the set price: {r}");
    assert_eq!(r["priced"], true);
    assert_eq!(rows[2]["priced"], false, "an unpriced model costs 0 and says so");
    assert!(r["input_tokens"].as_i64().unwrap() > 0);
    assert!(r["key_id"].is_null());

    let r = &rows[1];
    assert_eq!(
        (r["stream"].as_bool(), r["output_tokens"].as_i64(), r["outcome"].as_str()),
        (Some(true), Some(30), Some("ok")),
        "{r}"
    );
    assert!(r["ttft_ms"].as_i64().is_some());

    let r = &rows[2];
    assert_eq!(
        (r["inbound"].as_str(), r["provider"].as_str(), r["output_tokens"].as_i64()),
        (Some("anthropic"), Some("an"), Some(30)),
        "{r}"
    );

    let r = &rows[3];
    assert_eq!(r["provider"], "oa", "answered by the second member");
    assert_eq!(r["attempts"].as_array().unwrap().len(), 1, "the failed attempt is kept: {r}");
    assert!(r["attempts"][0].as_str().unwrap().contains("429"));

    let r = &rows[4];
    assert_eq!(
        (r["status"].as_i64(), r["outcome"].as_str(), r["requested_model"].as_str()),
        (Some(404), Some("error"), Some("nope/x"))
    );

    let r = &rows[5];
    assert_eq!(r["outcome"], "client_disconnected", "{r}");

    let summary: Value =
        serde_json::from_str(&env.ok(&["usage", "summary", "--since", "1h", "--by", "provider", "--json"])).unwrap();
    let oa = summary.as_array().unwrap().iter().find(|g| g["group"] == "oa").unwrap();
    assert_eq!(oa["requests"], 4);
    assert!(oa["cost_usd"].as_f64().unwrap() > 0.0);
    let prices = env.ok(&["price", "list"]);
    assert!(prices.contains("oa/m") && prices.contains("yours"), "{prices}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_flushed_on_shutdown() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("oa", &mock.base_url(), "k", "m");
    let mut gw = env.serve().await;
    for _ in 0..5 {
        let res = http().post(gw.chat_url()).json(&json!({"model": "oa/m", "messages": []})).send().await.unwrap();
        res.text().await.unwrap();
    }
    gw.signal(libc::SIGTERM);
    assert!(gw.wait_exit(Duration::from_secs(10)).await.success());
    assert_eq!(records(&env).len(), 5, "written before the gateway exited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_series_and_csv_export() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("oa", &mock.base_url(), "k", "m");
    env.ok(&["price", "set", "oa/m", "--input", "1", "--output", "1"]);
    let gw = env.serve().await;
    for tool in ["claude-cli/2.0", "claude-cli/2.0", "codex_cli_rs/0.5"] {
        let res = http()
            .post(gw.chat_url())
            .header("user-agent", tool)
            .json(&json!({"model": "oa/m", "messages": []}))
            .send()
            .await
            .unwrap();
        res.text().await.unwrap();
    }
    wait_for(&env, 3).await;
    let by_tool: Value = serde_json::from_str(&env.ok(&["usage", "summary", "--by", "tool", "--json"])).unwrap();
    let counts: Vec<(String, i64)> = by_tool
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["group"].as_str().unwrap().to_string(), t["requests"].as_i64().unwrap()))
        .collect();
    assert_eq!(counts, [("claude-code".to_string(), 2), ("codex".to_string(), 1)]);
    let series: Value =
        serde_json::from_str(&env.ok(&["usage", "series", "--bucket", "hour", "--by", "model", "--json"])).unwrap();
    assert_eq!(series[0]["group"], "oa/m");
    assert_eq!(series[0]["requests"], 3);
    let file = env.dir.path().join("usage.csv");
    let out = env.ok(&["usage", "export", "--csv", file.to_str().unwrap()]);
    assert!(out.contains("wrote 3 records"), "{out}");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.lines().next().unwrap().starts_with("id,time,key_id,tool"));
    assert!(env.fails(&["usage", "summary", "--since", "7w"]).contains("invalid period"));
}

/// A request of `inbound`'s API for `model`, and the path it goes to.
fn request_of(inbound: &str, model: &str, stream: bool) -> (String, String) {
    let say = "Tell me about the weather in Paris today";
    match inbound {
        "openai" => (
            "/v1/chat/completions".into(),
            json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": say}]}).to_string(),
        ),
        "anthropic" => (
            "/v1/messages".into(),
            json!({"model": model, "max_tokens": 50, "stream": stream, "messages": [{"role": "user", "content": say}]})
                .to_string(),
        ),
        "responses" => ("/v1/responses".into(), json!({"model": model, "stream": stream, "input": say}).to_string()),
        _ => {
            let method = if stream { "streamGenerateContent?alt=sse" } else { "generateContent" };
            (
                format!("/v1beta/models/{model}:{method}"),
                json!({"contents": [{"role": "user", "parts": [{"text": say}]}]}).to_string(),
            )
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_served_answer_is_recorded_with_zero_tokens() {
    // issue 25: an OpenAI stream from a client that did not ask for stream_options.include_usage
    // was recorded with 0 tokens.
    let mock = MockProvider::start(MockConfig { chunk_delay: Duration::from_millis(5), ..Default::default() }).await;
    let env = Env::new();
    env.add_every_kind(&mock, "key");
    env.add_provider("cut", &mock.base_url(), "acct-break-3", "mock-model");
    let gw = env.serve().await;
    let client = http();
    let mut sent = 0;
    // Every inbound API × every upstream kind, streamed and not.
    for inbound in ["openai", "anthropic", "responses", "gemini"] {
        for upstream in ["m-oa", "m-an", "m-re", "m-ge"] {
            for stream in [false, true] {
                let (path, body) = request_of(inbound, &format!("{upstream}/mock-model"), stream);
                let res = client
                    .post(format!("{}{path}", gw.url))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200, "{inbound} → {upstream}, stream {stream}");
                let text = res.text().await.unwrap();
                if inbound == "openai" && upstream == "m-oa" && stream {
                    assert!(!text.contains("prompt_tokens"), "a usage chunk the client did not ask for: {text}");
                }
                sent += 1;
            }
        }
    }
    // A stream the client cuts after its first words, and one the upstream breaks mid-answer.
    let slow =
        MockProvider::start(MockConfig { chunks: 20, chunk_delay: Duration::from_millis(100), ..Default::default() })
            .await;
    env.add_provider("slow", &slow.base_url(), "k", "mock-model");
    gw.change(&env, &["provider", "set", "slow", "--strategy", "fill-first"]).await;
    let (path, body) = request_of("openai", "slow/mock-model", true);
    let res = client
        .post(format!("{}{path}", gw.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let mut stream = res.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("w1") {
        seen.push_str(&String::from_utf8_lossy(&stream.next().await.unwrap().unwrap()));
    }
    drop(stream);
    let (path, body) = request_of("anthropic", "cut/mock-model", true);
    let res = client
        .post(format!("{}{path}", gw.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("broke mid-answer"));
    sent += 2;

    let rows = wait_for(&env, sent).await;
    assert_eq!(rows.len(), sent, "{rows:#?}");
    for r in &rows {
        let (input, output) = (r["input_tokens"].as_i64().unwrap(), r["output_tokens"].as_i64().unwrap());
        assert!(input > 0 && output > 0, "a served answer recorded with zero tokens: {r}");
        assert!(
            r["usage_reported"].as_bool().unwrap() != r["usage_estimated"].as_bool().unwrap(),
            "counts are the provider's or marked estimated: {r}"
        );
    }
    let provider_counted = rows.iter().filter(|r| r["usage_reported"] == true).count();
    assert_eq!(provider_counted, 32, "the provider's own counts on every whole answer");
    let cut = rows.iter().find(|r| r["outcome"] == "client_disconnected").expect("the cut stream's record");
    assert_eq!(cut["usage_estimated"], true, "{cut}");
    let broken = rows.iter().find(|r| r["provider"] == "cut").expect("the broken stream's record");
    assert_eq!(broken["usage_estimated"], true, "{broken}");
}
