//! A coding tool's conversation reaches Kiro in the shape Kiro takes: the mock answers Kiro's
//! "Improperly formed request" to any conversation that breaks Kiro's rules, as Kiro does.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::mock_auth::MockAuth;
use crate::common::{http, Env, Gateway};
use crate::logins::{ask, point_at, write};
use serde_json::{json, Value};

/// A gateway with a Kiro login (imported) on `mock`.
async fn kiro_gateway(auth: &MockAuth, mock: &MockProvider) -> (Env, Gateway) {
    let env = Env::new();
    point_at(&env, auth, "kiro");
    env.ok(&["provider", "add", "kiro", "--base-url", &mock.root_url()]);
    write(
        &env,
        ".aws/sso/cache/kiro-auth-token.json",
        &json!({"accessToken": "aoa-1", "refreshToken": "aor-1", "expiresAt": "2099-01-01T00:00:00Z",
        "authMethod": "social", "provider": "Github", "profileArn": "arn:aws:codewhisperer:us-east-1:1:profile/P"})
        .to_string(),
    );
    env.ok(&["login", "kiro", "--import"]);
    let gw = env.serve().await;
    (env, gw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messy_claude_code_conversation_is_sent_as_kiro_takes_it() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let (_env, gw) = kiro_gateway(&auth, &mock).await;
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    // Two user turns in a row, two parallel calls of which one is answered, a result answering
    // nothing, a call of a tool no longer declared, an image, a tool described at length and
    // one not described with a loose schema: each alone is a 400 from Kiro if sent as is.
    let body = json!({
        "model": "kiro/claude-sonnet-4.5", "max_tokens": 200, "system": "You are Claude Code.",
        "tools": [
            {"name": "Bash", "description": "Run a command. ".repeat(900), "input_schema": {"type": "object",
                "properties": {"command": {"type": "string"}}, "required": ["command"]}},
            {"name": "Read", "input_schema": {"$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object", "properties": {"path": {"type": "string"}}, "required": []}}
        ],
        "messages": [
            {"role": "user", "content": "look at the repo"},
            {"role": "user", "content": [{"type": "text", "text": "and the screenshot"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Reading."},
                {"type": "tool_use", "id": "t1", "name": "Read", "input": {"path": "a"}},
                {"type": "tool_use", "id": "t2", "name": "Read", "input": {"path": "b"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "A"}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t0", "content": "old"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t3", "name": "Glob", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t3", "content": "x.rs"},
                {"type": "text", "text": "go on"}]}
        ]
    });
    let (status, answer) = ask(&gw, "/v1/messages", body).await;
    assert_eq!(status, 200, "{answer}\n{}", gw.log());
    let sent: Value = mock.requests().pop().unwrap().json();
    let state = &sent["conversationState"];
    let history = state["history"].as_array().unwrap();
    let kinds: Vec<bool> = history.iter().map(|h| h.get("userInputMessage").is_some()).collect();
    assert_eq!(kinds, [true, false, true, false], "{state}");
    let first = &history[0]["userInputMessage"];
    assert!(first["content"]
        .as_str()
        .unwrap()
        .starts_with("You are Claude Code.\n\nlook at the repo\nand the screenshot"));
    assert_eq!(first["images"][0]["format"], "png");
    let tools = state["currentMessage"]["userInputMessage"]["userInputMessageContext"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["toolSpecification"]["name"].as_str()).collect();
    assert_eq!(names, ["Bash", "Read", "Glob"]);
    assert!(history[2]["userInputMessage"]["content"].as_str().unwrap().contains("[tool result for t0]\nold"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_asked_of_kiro_comes_back_as_thinking() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let (_env, gw) = kiro_gateway(&auth, &mock).await;
    let body = json!({"model": "kiro/claude-sonnet-4.5", "max_tokens": 4000,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "messages": [{"role": "user", "content": "think first"}]});
    let (status, answer) = ask(&gw, "/v1/messages", body.clone()).await;
    assert_eq!(status, 200, "{answer}\n{}", gw.log());
    assert_eq!(answer["content"][0]["type"], "thinking", "{answer}");
    assert_eq!(answer["content"][0]["thinking"], "Weighing it up.");
    assert_eq!(answer["content"][1]["type"], "text");
    assert!(answer["content"][1]["text"].as_str().unwrap().starts_with("w0"), "{answer}");
    let mut streamed = body;
    streamed["stream"] = json!(true);
    let events = http().post(format!("{}/v1/messages", gw.url)).json(&streamed).send().await.unwrap();
    let events = events.text().await.unwrap();
    let thinking_at = events.find("\"thinking_delta\"").unwrap_or_else(|| panic!("no thinking delta: {events}"));
    assert!(thinking_at < events.find("\"text_delta\"").unwrap(), "reasoning first: {events}");
    assert!(!events.contains("<thin"), "no tag reaches the client: {events}");
    let sent = mock.requests().pop().unwrap().json();
    let asked =
        sent["conversationState"]["currentMessage"]["userInputMessage"]["content"].as_str().unwrap().to_string();
    assert!(
        asked.starts_with("<thinking_mode>enabled</thinking_mode><max_thinking_length>2048</max_thinking_length>"),
        "{asked}"
    );
}
