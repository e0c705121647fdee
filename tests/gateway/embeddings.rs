//! Embeddings through the gateway with the project's mock provider behind it: each inbound API
//! (OpenAI `/v1/embeddings`, Gemini `:embedContent` and `:batchEmbedContents`) to each
//! upstream kind that embeds (OpenAI-compatible, Voyage's dialect, Gemini), floats and base64,
//! fallback past a failing account, usage records, the clear 400s (a chat model asked for
//! embeddings and the reverse, bad input), and the official SDKs as clients.

use crate::common::mock::embeddings::vector;
use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{http, Env};
use serde_json::{json, Value};

fn base64_floats(text: &str) -> Vec<f32> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

async fn post(url: String, body: Value) -> (u16, Value) {
    let r = http().post(url).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_inbound_api_embeds_through_every_upstream_kind() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_every_kind(&mock, "acct-key");
    let gw = env.serve().await;
    for upstream in ["m-oa", "m-re", "m-ge"] {
        let model = format!("{upstream}/mock-embed");
        // OpenAI inbound, floats, several inputs and a size.
        let (status, body) = post(
            format!("{}/v1/embeddings", gw.url),
            json!({"model": model, "input": ["alpha", "beta"], "dimensions": 4}),
        )
        .await;
        assert_eq!(status, 200, "{upstream}: {body}");
        assert_eq!(body["object"], "list");
        assert_eq!(body["model"], model);
        assert_eq!(floats(&body["data"][0]["embedding"]), vector("alpha", 4), "{upstream}");
        assert_eq!(floats(&body["data"][1]["embedding"]), vector("beta", 4), "{upstream}");
        assert_eq!(body["data"][1]["index"], 1);
        // base64: little-endian f32, the same values.
        let (status, body) = post(
            format!("{}/v1/embeddings", gw.url),
            json!({"model": model, "input": "alpha", "encoding_format": "base64"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(base64_floats(body["data"][0]["embedding"].as_str().unwrap()), vector("alpha", 8));
        // Gemini inbound: one, then a batch.
        let (status, body) = post(
            format!("{}/v1beta/models/{model}:embedContent", gw.url),
            json!({"content": {"parts": [{"text": "alpha"}]}, "outputDimensionality": 3}),
        )
        .await;
        assert_eq!(status, 200, "{upstream}: {body}");
        assert_eq!(floats(&body["embedding"]["values"]), vector("alpha", 3));
        let (status, body) = post(
            format!("{}/v1beta/models/{model}:batchEmbedContents", gw.url),
            json!({"requests": [{"model": format!("models/{model}"), "content": {"parts": [{"text": "alpha"}]}},
                                {"model": format!("models/{model}"), "content": {"parts": [{"text": "beta"}]}}]}),
        )
        .await;
        assert_eq!(status, 200, "{upstream}: {body}");
        assert_eq!(floats(&body["embeddings"][1]["values"]), vector("beta", 8));
    }
    // What each upstream received: OpenAI-style bodies at /v1/embeddings, Gemini's batch.
    let paths: Vec<String> = mock.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.iter().any(|p| p == "/v1/embeddings"), "{paths:?}");
    assert!(paths.iter().any(|p| p == "/v1beta/models/mock-embed:batchEmbedContents"), "{paths:?}");
    // Anthropic has no embeddings API: a clear 400, not a call.
    let (status, body) =
        post(format!("{}/v1/embeddings", gw.url), json!({"model": "m-an/mock-embed", "input": "x"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("no embeddings API"), "{body}");
    // Usage: one record per request, under the embeddings inbound, with the provider's tokens.
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "100", "--json"])).unwrap();
    let records = log.as_array().unwrap();
    let oa = records.iter().filter(|r| r["inbound"] == "openai-embeddings" && r["status"] == 200).count();
    let ge = records.iter().filter(|r| r["inbound"] == "gemini-embeddings" && r["status"] == 200).count();
    assert_eq!((oa, ge), (6, 6), "{log}");
    assert!(records.iter().any(|r| r["provider"] == "m-oa" && r["input_tokens"].as_u64() > Some(0)), "{log}");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_past_a_failing_account_combos_and_clear_errors() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    // (Voyage is told by its host, which the mock cannot have: its dialect is unit-tested.)
    env.add_provider("emb", &mock.base_url(), "fail-500", "mock-embed");
    env.ok(&["account", "add", "emb", "--api-key", "good-key-1"]);
    let gw = env.serve().await;
    // The first account fails (500, twice with the retry): the second answers.
    let (status, body) =
        post(format!("{}/v1/embeddings", gw.url), json!({"model": "emb/mock-embed", "input": "x"})).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "5", "--json"])).unwrap();
    let attempts = log[0]["attempts"].to_string();
    assert!(attempts.contains("500"), "the failed account is in the attempt chain: {log}");
    // An embeddings combo falls back over its members too.
    env.ok(&["combo", "set", "vectors", "emb/mock-embed", "emb/other-embed"]);
    // A combo that mixes chat and embedding models is refused at once.
    let mixed = env.fails(&["combo", "set", "mixed", "emb/mock-embed", "emb/gpt-5-mini"]);
    assert!(mixed.contains("embedding") && mixed.contains("gpt-5-mini"), "{mixed}");
    // A chat model asked for embeddings, and an embedding model asked for chat: clear 400s.
    let (status, body) =
        post(format!("{}/v1/embeddings", gw.url), json!({"model": "emb/gpt-5-mini", "input": "x"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("is a chat model"), "{body}");
    let (status, body) = post(
        format!("{}/v1/chat/completions", gw.url),
        json!({"model": "emb/text-embedding-3-small", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("is an embedding model"), "{body}");
    // Bad input says what is wrong, in the client's shape.
    let (status, body) =
        post(format!("{}/v1/embeddings", gw.url), json!({"model": "emb/mock-embed", "input": []})).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("at least one"), "{body}");
    let (status, body) =
        post(format!("{}/v1beta/models/emb/mock-embed:embedContent", gw.url), json!({"content": {}})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT", "Gemini's error shape: {body}");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdks_embed_through_the_gateway() {
    let have = |module: &str| {
        std::process::Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("openai") || !have("google.genai") {
        assert!(std::env::var_os("CI").is_none(), "CI must have the openai and google-genai SDKs");
        eprintln!("skipped: the openai / google-genai Python SDKs are not installed");
        return;
    }
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("emb", &mock.base_url(), "acct-key", "mock-embed");
    let gw = env.serve().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/embeddings.py");
    let out =
        tokio::process::Command::new("python3").arg(script).arg(&gw.url).arg("emb/mock-embed").output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let results: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), 3, "{stdout}");
    let round = |v: f32| ((v as f64) * 1e6).round() / 1e6;
    for r in &results {
        assert!(r.get("error").is_none(), "{r}\ngateway log:\n{}", gw.log());
        match r["case"].as_str().unwrap() {
            "openai-base64" | "genai" => {
                assert_eq!(r["sizes"], json!([4, 4]), "{r}");
                assert_eq!(r["first"], json!([round(vector("alpha", 4)[0]), round(vector("beta", 4)[0])]), "{r}");
            }
            _ => assert_eq!(r["sizes"], json!([8]), "{r}"),
        }
    }
    // The openai SDK asked for base64 and decoded it: the gateway sent base64 back.
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "10", "--json"])).unwrap();
    assert_eq!(log.as_array().unwrap().iter().filter(|r| r["status"] == 200).count(), 3, "{log}");
    drop(gw);
}
