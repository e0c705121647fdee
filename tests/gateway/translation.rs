//! Translation through the gateway, beyond what the SDK conformance suite covers: byte-exact
//! pass-through for every format, errors in the client's own shape (HTTP and in-stream),
//! thinking signatures kept or dropped, Gemini paths and schema cleaning, images, and
//! count_tokens.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{http, Env, Gateway};
use serde_json::{json, Value};
use std::time::Duration;

/// One mock behind four providers, one per upstream kind; `key` is each account's key.
async fn setup(config: MockConfig, key: &str) -> (MockProvider, Env, Gateway) {
    let mock = MockProvider::start(config).await;
    let env = Env::new();
    env.add_every_kind(&mock, key);
    let gw = env.serve().await;
    (mock, env, gw)
}

async fn post(url: String, body: &str, headers: &[(&str, &str)]) -> (u16, HeaderMapLite, String) {
    let mut req = http().post(url).header("content-type", "application/json").body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers =
        res.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string())).collect();
    (status, HeaderMapLite(headers), res.text().await.unwrap())
}

struct HeaderMapLite(Vec<(String, String)>);

impl HeaderMapLite {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_format_bodies_pass_through_byte_for_byte() {
    let (mock, _env, gw) = setup(MockConfig::default(), "k").await;
    let anthropic = r#"{ "model":"m-an/mock-model","max_tokens":64 ,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"EqQBCgIYAhIMx/+y=="},{"type":"text","text":"ok"}]},{"role":"user","content":"more \u00e9"}],"thinking":{"type":"enabled","budget_tokens":1024}}"#;
    let (s, _, body) = post(
        format!("{}/v1/messages", gw.url),
        anthropic,
        &[("anthropic-version", "2023-06-01"), ("anthropic-beta", "interleaved-thinking-2025-05-14")],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let responses = r#"{"model":"m-re/mock-model","input":[{"role":"user","content":"hi"}],"store":false, "reasoning":{"effort":"low"}}"#;
    assert_eq!(post(format!("{}/v1/responses", gw.url), responses, &[]).await.0, 200);
    let gemini = r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],  "generationConfig":{"temperature":0.3}}"#;
    assert_eq!(post(format!("{}/v1beta/models/m-ge/mock-model:generateContent", gw.url), gemini, &[]).await.0, 200);

    let seen = mock.requests();
    assert_eq!(
        String::from_utf8_lossy(&seen[0].body),
        anthropic.replacen("m-an/mock-model", "mock-model", 1).replacen("{ \"model\"", "{\"model\"", 1).replacen(
            ",\"max_tokens\":64 ,",
            ",\"max_tokens\":64,",
            1
        )
    );
    assert_eq!(seen[0].headers["anthropic-version"], "2023-06-01");
    assert_eq!(seen[0].headers["anthropic-beta"], "interleaved-thinking-2025-05-14", "beta flags reach the provider");
    assert_eq!(seen[0].headers["x-api-key"], "k");
    assert_eq!(
        String::from_utf8_lossy(&seen[1].body),
        responses.replacen("m-re/mock-model", "mock-model", 1).replacen(",\"store\":false, ", ",\"store\":false,", 1)
    );
    assert_eq!(String::from_utf8_lossy(&seen[2].body), gemini, "Gemini bodies carry no model: unchanged");
    assert_eq!(seen[2].path, "/v1beta/models/mock-model:generateContent");
    assert_eq!(seen[2].headers["x-goog-api-key"], "k");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thinking_signatures_are_dropped_when_the_provider_cannot_verify_them() {
    let (mock, _env, gw) = setup(MockConfig::default(), "k").await;
    let body = json!({"model": "m-oa/mock-model", "max_tokens": 64, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "secret chain", "signature": "EqQBsig=="}, {"type": "text", "text": "ok"}]},
        {"role": "user", "content": "again"}]});
    let (s, _, text) = post(format!("{}/v1/messages", gw.url), &body.to_string(), &[]).await;
    assert_eq!(s, 200, "{text}");
    let sent = String::from_utf8_lossy(&mock.requests()[0].body).to_string();
    assert!(!sent.contains("EqQBsig==") && !sent.contains("secret chain"), "{sent}");
    assert!(sent.contains("\"ok\""), "the visible answer stays: {sent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_errors_come_back_in_the_clients_shape() {
    let (_mock, _env, gw) = setup(MockConfig::default(), "acct-fail-429").await;
    let (s, h, text) = post(
        format!("{}/v1/messages", gw.url),
        r#"{"model":"m-oa/mock-model","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#,
        &[],
    )
    .await;
    assert_eq!(s, 429);
    assert_eq!(h.get("retry-after"), Some("1"));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert!(v["error"]["message"].as_str().unwrap().contains("provider 'm-oa' answered 429: mock failure 429"), "{v}");

    let (s, _, text) = post(
        format!("{}/v1beta/models/m-an/mock-model:generateContent", gw.url),
        r#"{"contents":[{"parts":[{"text":"hi"}]}]}"#,
        &[],
    )
    .await;
    assert_eq!(s, 429);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (v["error"]["code"].as_u64(), v["error"]["status"].as_str()),
        (Some(429), Some("RESOURCE_EXHAUSTED")),
        "{v}"
    );

    let (s, _, text) =
        post(format!("{}/v1/responses", gw.url), r#"{"model":"m-ge/mock-model","input":"hi"}"#, &[]).await;
    assert_eq!(s, 429);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["type"], "rate_limit_error", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_errors_come_back_in_the_clients_shape() {
    let (_mock, _env, gw) = setup(MockConfig::default(), "k").await;
    let (s, _, text) =
        post(format!("{}/v1/messages", gw.url), r#"{"model":"nope/x","max_tokens":9,"messages":[]}"#, &[]).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (s, v["type"].as_str(), v["error"]["type"].as_str()),
        (404, Some("error"), Some("not_found_error")),
        "{v}"
    );
    let (s, _, text) =
        post(format!("{}/v1/messages", gw.url), r#"{"model":"m-oa/mock-model","messages":"nope"}"#, &[]).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((s, v["error"]["type"].as_str()), (400, Some("invalid_request_error")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("messages"), "the message names the field: {v}");
    let (s, _, text) = post(format!("{}/v1beta/models/nope:generateContent", gw.url), "{}", &[]).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((s, v["error"]["status"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    let (s, _, text) = post(format!("{}/v1beta/models/m-oa/mock-model:embedText", gw.url), "{}", &[]).await;
    assert_eq!(s, 404, "{text}");
}

/// Splits an SSE body into (event name, data) pairs.
fn events(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = d.trim().to_string();
                }
            }
            (name, data)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_upstream_stream_ends_with_the_clients_error_event() {
    let config = MockConfig { chunk_delay: Duration::from_millis(20), ..Default::default() };
    let (_mock, _env, gw) = setup(config, "acct-break-4").await;
    // Anthropic client, OpenAI upstream (translated).
    let (s, _, text) = post(
        format!("{}/v1/messages", gw.url),
        r#"{"model":"m-oa/mock-model","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let ev = events(&text);
    let last = ev.last().unwrap();
    assert_eq!(last.0, "error", "{text}");
    assert!(last.1.contains("\"type\":\"error\"") && last.1.contains("broke mid-answer"), "{text}");
    // Anthropic client, Anthropic upstream (relayed).
    let (_, _, text) = post(
        format!("{}/v1/messages", gw.url),
        r#"{"model":"m-an/mock-model","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        &[],
    )
    .await;
    assert_eq!(events(&text).last().unwrap().0, "error", "{text}");
    // Gemini client, Responses upstream.
    let (_, _, text) = post(
        format!("{}/v1beta/models/m-re/mock-model:streamGenerateContent?alt=sse", gw.url),
        r#"{"contents":[{"parts":[{"text":"hi"}]}]}"#,
        &[],
    )
    .await;
    let last: Value = serde_json::from_str(&events(&text).last().unwrap().1).unwrap();
    assert_eq!(last["error"]["status"], "INTERNAL", "{text}");
    // Responses client, Gemini upstream.
    let (_, _, text) =
        post(format!("{}/v1/responses", gw.url), r#"{"model":"m-ge/mock-model","stream":true,"input":"hi"}"#, &[])
            .await;
    let ev = events(&text);
    assert_eq!(ev.last().unwrap().0, "response.failed", "{text}");
    // OpenAI client, Anthropic upstream: the error, then a proper end.
    let (_, _, text) = post(
        format!("{}/v1/chat/completions", gw.url),
        r#"{"model":"m-an/mock-model","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        &[],
    )
    .await;
    assert!(text.contains("\"error\":{") && text.trim_end().ends_with("data: [DONE]"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_paths_models_and_schemas() {
    let (mock, _env, gw) = setup(MockConfig::default(), "k").await;
    let body = r#"{"contents":[{"parts":[{"text":"hi"}]}]}"#;
    for path in [
        "/v1beta/models/m-oa%2Fmock-model:generateContent",
        "/v1/models/m-oa/mock-model:generateContent",
        "/v1beta/models/m-oa/mock-model:generateContent?key=abc",
    ] {
        let (s, _, text) = post(format!("{}{path}", gw.url), body, &[]).await;
        assert_eq!(s, 200, "{path}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["candidates"][0]["content"]["parts"][0]["text"], "w0 w1 w2 w3 w4");
    }
    // Not SSE: a streamed JSON array.
    let (s, h, text) = post(format!("{}/v1beta/models/m-an/mock-model:streamGenerateContent", gw.url), body, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(h.get("content-type"), Some("application/json"));
    let chunks: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
    let text: String =
        chunks.iter().filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str()).collect();
    assert_eq!(text, "w0 w1 w2 w3 w4");

    let list: Value = http().get(format!("{}/v1beta/models", gw.url)).send().await.unwrap().json().await.unwrap();
    assert!(list["models"].as_array().unwrap().iter().any(|m| m["name"] == "models/m-ge/mock-model"), "{list}");

    let tool = json!({"model": "m-ge/mock-model", "messages": [{"role": "user", "content": "use the tool"}], "tools": [{"type": "function", "function": {"name": "f",
        "parameters": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false,
            "properties": {"a": {"type": ["string", "null"], "exclusiveMinimum": 1}}}}}]});
    let (s, _, _) = post(format!("{}/v1/chat/completions", gw.url), &tool.to_string(), &[]).await;
    assert_eq!(s, 200);
    let sent = mock.requests().last().unwrap().json();
    assert_eq!(
        sent["tools"][0]["functionDeclarations"][0]["parameters"],
        json!({"type": "object", "properties": {"a": {"type": "string", "nullable": true}}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_reach_each_provider_in_its_shape() {
    let (mock, _env, gw) = setup(MockConfig::default(), "k").await;
    let content = json!([{"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.jpg"}}]);
    for model in ["m-an/mock-model", "m-re/mock-model", "m-ge/mock-model"] {
        // Gemini gets only the inline image here: URLs are fetched for it (the next test).
        let content = if model.starts_with("m-ge") { json!(content.as_array().unwrap()[..2]) } else { content.clone() };
        let body = json!({"model": model, "messages": [{"role": "user", "content": content}]});
        assert_eq!(post(format!("{}/v1/chat/completions", gw.url), &body.to_string(), &[]).await.0, 200);
    }
    let seen = mock.requests();
    let anthropic = seen[0].json();
    assert_eq!(
        anthropic["messages"][0]["content"][1]["source"],
        json!({"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="})
    );
    assert_eq!(
        anthropic["messages"][0]["content"][2]["source"],
        json!({"type": "url", "url": "https://example.invalid/cat.jpg"})
    );
    let responses = seen[1].json();
    assert_eq!(responses["input"][0]["content"][1]["image_url"], "data:image/png;base64,iVBORw0KGgo=");
    let gemini = seen[2].json();
    assert_eq!(
        gemini["contents"][0]["parts"][1]["inlineData"],
        json!({"mimeType": "image/png", "data": "iVBORw0KGgo="})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_urls_are_fetched_and_inlined_for_gemini() {
    use base64::Engine;
    let (mock, _env, gw) = setup(MockConfig::default(), "k").await;
    let image = |url: String| {
        json!({"model": "m-ge/mock-model", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this"}, {"type": "image_url", "image_url": {"url": url}}]}]})
    };
    let body = image(format!("http://{}/files/cat.png", mock.addr));
    let (s, _, text) = post(format!("{}/v1/chat/completions", gw.url), &body.to_string(), &[]).await;
    assert_eq!(s, 200, "{text}");
    let sent = mock.requests().last().unwrap().json();
    let data = base64::engine::general_purpose::STANDARD.encode(crate::common::mock::CAT_PNG);
    assert_eq!(sent["contents"][0]["parts"][1]["inlineData"], json!({"mimeType": "image/png", "data": data}));

    let body = image(format!("http://{}/files/page.html", mock.addr));
    let (s, _, text) = post(format!("{}/v1/chat/completions", gw.url), &body.to_string(), &[]).await;
    assert_eq!(s, 400, "{text}");
    assert!(text.contains("not an image") && text.contains("image_fetch_failed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_tokens_uses_the_provider_or_a_real_tokenizer() {
    let (mock, _env, gw) = setup(MockConfig::default(), "k").await;
    let long = "tokenization ".repeat(200);
    let body = json!({"model": "m-oa/mock-model", "messages": [{"role": "user", "content": long}]});
    let (s, _, text) = post(format!("{}/v1/messages/count_tokens", gw.url), &body.to_string(), &[]).await;
    assert_eq!(s, 200, "{text}");
    let n = serde_json::from_str::<Value>(&text).unwrap()["input_tokens"].as_u64().unwrap();
    assert!((200..=420).contains(&n), "a BPE count for 200 repeated words, not chars/4 ({}): {n}", long.len() / 4);
    assert_eq!(mock.requests().len(), 0, "counted locally");

    let body = json!({"model": "m-an/mock-model", "messages": [{"role": "user", "content": "hi"}]});
    let (s, _, text) = post(format!("{}/v1/messages/count_tokens", gw.url), &body.to_string(), &[]).await;
    assert_eq!(s, 200, "{text}");
    let n = serde_json::from_str::<Value>(&text).unwrap()["input_tokens"].as_u64().unwrap();
    assert!(n >= 1000, "the Anthropic provider's own count (the mock adds 1000): {n}");
    assert_eq!(mock.requests()[0].path, "/v1/messages/count_tokens");
}
