//! A login's early refresh when the token endpoint is down for a moment: the token that still
//! works keeps serving, and the endpoint is not asked again on every request.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::mock_auth::MockAuth;
use crate::common::Env;
use crate::logins::{ask, header, now_ms, point_at, write};
use serde_json::json;
use std::sync::atomic::Ordering;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_early_refresh_keeps_the_working_token_in_use() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    point_at(&env, &auth, "claude");
    env.ok(&["provider", "add", "claude", "--base-url", &mock.root_url()]);
    // Ten minutes left: inside Claude's four-hour lead, so every request wants a refresh.
    write(
        &env,
        ".claude/.credentials.json",
        &json!({"claudeAiOauth": {"accessToken": "still-good", "refreshToken": "rt-claude",
        "expiresAt": now_ms() + 600_000, "scopes": ["user:inference"]}})
        .to_string(),
    );
    env.ok(&["login", "claude", "--import"]);
    auth.state.refresh_outage.store(1, Ordering::SeqCst);
    let gw = env.serve().await;
    let body =
        json!({"model": "claude/claude-sonnet-4-5", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]});

    for _ in 0..3 {
        let (status, answer) = ask(&gw, "/v1/messages", body.clone()).await;
        assert_eq!(status, 200, "{answer}\n{}", gw.log());
    }
    let tokens: Vec<String> = mock.requests().iter().map(|r| header(r, "authorization")).collect();
    assert_eq!(tokens, ["Bearer still-good"; 3], "the working token served while the refresh failed");
    let refresh_tries = auth.state.grants.lock().unwrap().iter().filter(|g| *g == "refresh_token").count();
    assert_eq!(refresh_tries, 1, "one failed try, then a pause: not one try per request");
    assert_eq!(auth.refreshes(), 0);
    assert!(gw.log().contains("early token refresh failed"), "{}", gw.log());
    let list = env.ok(&["account", "list"]);
    assert!(!list.contains("needs login"), "a passing failure does not ask for a new login: {list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_watch_renews_an_idle_accounts_expired_token() {
    let auth = MockAuth::start().await;
    let env = Env::new();
    point_at(&env, &auth, "claude");
    env.ok(&["provider", "add", "claude"]);
    write(
        &env,
        ".claude/.credentials.json",
        &json!({"claudeAiOauth": {"accessToken": "expired", "refreshToken": "rt-claude",
        "expiresAt": now_ms() - 60_000, "scopes": ["user:inference"]}})
        .to_string(),
    );
    env.ok(&["login", "claude", "--import"]);
    *auth.state.claude_usage.lock().unwrap() =
        json!({"five_hour": {"utilization": 12.0, "resets_at": "2030-01-01T00:00:00Z"}});
    let gw = env.serve().await;
    // No request at all: the watch (at start) renews the token and reads the quota with it.
    let read = crate::common::eventually(std::time::Duration::from_secs(10), || {
        !auth.state.usage_bearers.lock().unwrap().is_empty()
    })
    .await;
    assert!(read, "the quota was not read\n{}", gw.log());
    assert_eq!(auth.state.usage_bearers.lock().unwrap()[0], "Bearer tok-access-1");
    assert_eq!(auth.refreshes(), 1);
}
