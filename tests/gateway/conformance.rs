//! The official SDKs of each inbound API (openai for Chat Completions and Responses,
//! anthropic, google-genai) against the gateway, with one mock provider of each upstream kind
//! behind it: 4 inbound × 4 upstream kinds × streaming and not × text, tool call, tool-result
//! follow-up and reasoning. Each case asserts what the SDK's own objects contain.

use crate::common::mock::{full_answer, MockConfig, MockProvider, THINKING};
use crate::common::Env;
use serde_json::Value;

const UPSTREAMS: [&str; 4] = ["m-oa", "m-an", "m-re", "m-ge"];

fn python_has(module: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

async fn run(inbound: &str, module: &str) {
    if !python_has(module) {
        assert!(std::env::var_os("CI").is_none(), "CI must have the {module} Python SDK (.ci/install installs it)");
        eprintln!("skipped: the {module} Python SDK is not installed (pip install -r tests/sdk/requirements.txt)");
        return;
    }
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_every_kind(&mock, "acct-key");
    let gw = env.serve().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/conformance.py");
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .arg(&gw.url)
        .arg(inbound)
        .args(UPSTREAMS)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let results: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), UPSTREAMS.len() * 2 * 5, "{stdout}");
    let mut failures = Vec::new();
    for r in &results {
        if let Err(why) = check(inbound, r) {
            failures
                .push(format!("{} → {} stream={} {}: {why}\n    {r}", inbound, r["upstream"], r["stream"], r["case"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}\n\ngateway log:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n"),
        gw.log()
    );
}

fn check(inbound: &str, r: &Value) -> Result<(), String> {
    if let Some(e) = r.get("error") {
        return Err(format!("the SDK raised {e}: {}", r["trace"].as_str().unwrap_or_default()));
    }
    let (text_finish, tool_finish) = match inbound {
        "openai-chat" => ("stop", "tool_calls"),
        "anthropic" => ("end_turn", "tool_use"),
        "responses" => ("completed", "completed"),
        _ => ("STOP", "STOP"),
    };
    let expect = |what: &str, got: &Value, want: &Value| {
        if got == want {
            Ok(())
        } else {
            Err(format!("{what}: got {got}, want {want}"))
        }
    };
    match r["case"].as_str().unwrap() {
        "text" | "followup" => {
            expect("text", &r["text"], &Value::from(full_answer(5)))?;
            expect("finish", &r["finish"], &Value::from(text_finish))?;
        }
        "tool" => {
            let calls = r["calls"].as_array().ok_or("no calls")?;
            if calls.len() != 1 {
                return Err(format!("expected one tool call, got {calls:?}"));
            }
            expect("tool name", &calls[0][1], &Value::from("get_weather"))?;
            expect("tool arguments", &calls[0][2], &serde_json::json!({"city": "Paris"}))?;
            if inbound != "gemini" && calls[0][0].as_str().is_none_or(str::is_empty) {
                return Err("the tool call has no id".into());
            }
            expect("finish", &r["finish"], &Value::from(tool_finish))?;
        }
        "parallel" => {
            let calls = r["calls"].as_array().ok_or("no calls")?;
            let names: Vec<&str> = calls.iter().filter_map(|c| c[1].as_str()).collect();
            if names != ["get_weather", "get_time"] {
                return Err(format!("expected calls to get_weather and get_time in order, got {calls:?}"));
            }
            if calls.iter().any(|c| c[2] != serde_json::json!({"city": "Paris"})) {
                return Err(format!("arguments: {calls:?}"));
            }
            if inbound != "gemini" && calls[0][0] == calls[1][0] {
                return Err(format!("the calls share an id: {calls:?}"));
            }
            expect("finish", &r["finish"], &Value::from(tool_finish))?;
        }
        "think" => {
            expect("reasoning", &r["reasoning"], &Value::from(THINKING))?;
            expect("text", &r["text"], &Value::from(full_answer(5)))?;
        }
        other => return Err(format!("unknown case {other}")),
    }
    for field in ["input_tokens", "output_tokens"] {
        if r[field].as_u64().is_none_or(|n| n == 0) {
            return Err(format!("{field} missing: {}", r[field]));
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_chat_sdk_against_every_upstream() {
    run("openai-chat", "openai").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_responses_sdk_against_every_upstream() {
    run("responses", "openai").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_sdk_against_every_upstream() {
    run("anthropic", "anthropic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_sdk_against_every_upstream() {
    run("gemini", "google.genai").await;
}
