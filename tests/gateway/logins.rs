//! Subscription logins end to end against the project's mock authorization server
//! (`common::mock_auth`) and mock provider: `switchyard login` for each flow (Claude's browser
//! callback, Codex's fixed port taken → the pasted address, Copilot's and Qwen's device codes
//! through `authorization_pending` and `slow_down`), imports from the official CLIs' files in
//! an isolated HOME, the token lifecycle on the request path (refresh ahead of expiry, one
//! refresh for 50 concurrent requests, a refresh after a 401, a refused refresh setting the
//! account aside), quotas (a used-up window skips the account until its reset), and the
//! dashboard's sign-in through /api.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::mock_auth::{jwt, MockAuth};
use crate::common::{http, Env, Gateway};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::ChildStdout;

pub(crate) fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Points every endpoint of `provider`'s login at the mock.
pub(crate) fn point_at(env: &Env, auth: &MockAuth, provider: &str) {
    let endpoints: &[(&str, &str)] = match provider {
        "claude" => &[("authorize-url", "/authorize"), ("token-url", "/token"), ("usage-url", "/claude/usage")],
        "codex" => &[("authorize-url", "/authorize"), ("token-url", "/token"), ("usage-url", "/codex/usage")],
        "copilot" => &[
            ("device-code-url", "/device/code"),
            ("token-url", "/token"),
            ("copilot-token-url", "/copilot/token"),
            ("usage-url", "/copilot/user"),
        ],
        "kiro" => &[
            ("oidc-url", "/oidc"),
            ("social-refresh-url", "/kiro/refreshToken"),
            ("usage-url", "/kiro/getUsageLimits"),
            ("profiles-url", "/kiro/profiles"),
        ],
        "gemini-cli" => &[
            ("authorize-url", "/authorize"),
            ("token-url", "/token"),
            ("userinfo-url", "/google/userinfo"),
            ("code-assist-url", "/codeassist/v1internal"),
        ],
        _ => &[("device-code-url", "/device/code"), ("token-url", "/token")],
    };
    for (name, path) in endpoints {
        env.ok(&["settings", "set", &format!("login.{provider}.{name}"), &auth.url(path)]);
    }
}

/// Reads stdout lines until one satisfies `want`; returns it.
pub(crate) async fn line_where(lines: &mut Lines<BufReader<ChildStdout>>, want: impl Fn(&str) -> bool) -> String {
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if want(&line) {
                return line;
            }
        }
        panic!("the login ended without the expected line");
    };
    tokio::time::timeout(Duration::from_secs(60), read).await.expect("the expected line within 60 s")
}

pub(crate) async fn finish(mut child: tokio::process::Child, mut lines: Lines<BufReader<ChildStdout>>) -> String {
    let mut rest = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push_str(&line);
        rest.push('\n');
    }
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await.expect("login ends").unwrap();
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = stderr.read_to_string(&mut err).await;
    }
    assert!(status.success(), "login failed: {rest}\n{err}");
    rest
}

pub(crate) fn accounts(env: &Env) -> Vec<Value> {
    serde_json::from_str::<Value>(&env.ok(&["account", "list", "--json"])).unwrap().as_array().unwrap().clone()
}

pub(crate) async fn ask(gw: &Gateway, path: &str, body: Value) -> (u16, Value) {
    let r = http().post(format!("{}{path}", gw.url)).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

pub(crate) fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

pub(crate) fn header(r: &crate::common::mock::Recorded, name: &str) -> String {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_signs_in_through_the_browser_callback_and_its_requests_carry_the_oauth_bearer() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    point_at(&env, &auth, "claude");
    env.ok(&["provider", "add", "claude", "--base-url", &mock.root_url()]);
    let refused = env.fails(&["account", "add", "claude", "--api-key", "sk-ant-api03-xxxxxxxxxxxx"]);
    assert!(refused.contains("switchyard login claude"), "{refused}");
    let mut child = env.spawn(&["login", "claude", "--no-browser"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let terms = line_where(&mut lines, |l| l.starts_with("Terms:")).await;
    assert!(terms.contains("Anthropic"), "{terms}");
    let url = line_where(&mut lines, |l| l.trim_start().starts_with("http")).await;
    // The browser: the authorization server approves and sends it to the callback.
    let approved = no_redirects().get(url.trim()).send().await.unwrap();
    assert!(approved.status().is_redirection(), "{}", approved.text().await.unwrap_or_default());
    let callback = approved.headers()["location"].to_str().unwrap().to_string();
    assert!(callback.starts_with("http://localhost:") && callback.contains("/callback?code="), "{callback}");
    let page = http().get(callback.replace("localhost", "127.0.0.1")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Signed in"));
    let out = finish(child, lines).await;
    assert!(out.contains("signed in: account"), "{out}");
    let account = accounts(&env).into_iter().find(|a| a["provider_id"] == "claude").expect("a claude account");
    assert_eq!(account["login"]["email"], "dev@example.com");
    assert!(!env.ok(&["account", "list"]).contains("tok-access"), "no token is shown");
    let gw = env.serve().await;
    let (status, body) = ask(
        &gw,
        "/v1/messages",
        json!({"model": "claude/claude-sonnet-4-5", "max_tokens": 20,
        "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    let sent = mock.requests().pop().unwrap();
    assert_eq!(header(&sent, "authorization"), "Bearer tok-access-1");
    assert!(header(&sent, "anthropic-beta").contains("oauth-2025-04-20"), "{:?}", sent.headers);
    assert!(sent.headers.get("x-api-key").is_none());
    // The subscription costs nothing more per request; the record says what the API would have charged.
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "1", "--json"])).unwrap();
    assert_eq!(log[0]["cost_usd"].as_f64(), Some(0.0), "{log}");
    assert!(log[0]["api_equivalent_usd"].as_f64() > Some(0.0), "{log}");
    let summary: Value = serde_json::from_str(&env.ok(&["usage", "summary", "--by", "provider", "--json"])).unwrap();
    assert!(summary[0]["api_equivalent_usd"].as_f64() > summary[0]["cost_usd"].as_f64(), "{summary}");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_with_its_fixed_port_taken_takes_the_pasted_address() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    point_at(&env, &auth, "codex");
    // Another program holds the callback port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    env.ok(&["settings", "set", "login.codex.callback-port", &port]);
    env.ok(&["provider", "add", "codex", "--base-url", &mock.base_url()]);
    let mut child = env.spawn(&["login", "codex", "--no-browser"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = line_where(&mut lines, |l| l.trim_start().starts_with("http")).await;
    assert!(url.contains(&format!("localhost%3A{port}%2Fauth%2Fcallback")), "{url}");
    line_where(&mut lines, |l| l.contains("is taken")).await;
    let approved = no_redirects().get(url.trim()).send().await.unwrap();
    let callback = approved.headers()["location"].to_str().unwrap().to_string();
    stdin.write_all(format!("{callback}\n").as_bytes()).await.unwrap();
    finish(child, lines).await;
    drop(taken);
    let account = accounts(&env).into_iter().find(|a| a["provider_id"] == "codex").expect("a codex account");
    assert_eq!(
        (account["login"]["email"].as_str(), account["login"]["plan"].as_str()),
        (Some("dev@example.com"), Some("plus"))
    );
    let quota: Value =
        serde_json::from_str(&env.ok(&["account", "quota", &account["id"].to_string(), "--json"])).unwrap();
    assert_eq!((quota[0]["name"].as_str(), quota[0]["used_percent"].as_f64()), (Some("5h"), Some(12.0)), "{quota}");
    let gw = env.serve().await;
    let (status, body) = ask(&gw, "/v1/responses", json!({"model": "codex/gpt-5.1-codex", "input": "hi"})).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    let sent = mock.requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(header(&sent, "chatgpt-account-id"), "acct-123");
    // The backend's terms: it only streams and stores nothing; the client still got one JSON answer.
    let upstream_body = sent.json();
    assert_eq!(
        (upstream_body["stream"].as_bool(), upstream_body["store"].as_bool()),
        (Some(true), Some(false)),
        "{upstream_body}"
    );
    assert_eq!(upstream_body["input"][0]["content"][0]["text"], "hi");
    assert_eq!(body["object"], "response", "{body}");
    assert!(body.to_string().contains("w0 w1"), "{body}");
    assert_eq!(header(&sent, "authorization"), "Bearer tok-access-1");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copilot_and_qwen_device_logins_poll_through_pending_and_slow_down() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    *auth.state.resource_url.lock().unwrap() = mock.root_url();
    let env = Env::new();
    for provider in ["copilot", "qwen"] {
        point_at(&env, &auth, provider);
    }
    env.ok(&["provider", "add", "copilot", "--base-url", &mock.base_url()]);
    for provider in ["copilot", "qwen"] {
        let mut child = env.spawn(&["login", provider, "--no-browser"]);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        line_where(&mut lines, |l| l.contains("enter the code")).await;
        let code = lines.next_line().await.unwrap().unwrap();
        assert!(code.trim().starts_with("WXYZ-"), "{code}");
        finish(child, lines).await;
    }
    let grants = auth.state.grants.lock().unwrap().clone();
    let polls = grants.iter().filter(|g| g.ends_with("device_code")).count();
    assert_eq!(polls, 6, "pending, slow_down, then the tokens, for each: {grants:?}");
    assert_eq!(auth.state.exchanges.load(Ordering::SeqCst), 1, "one Copilot token minted");
    let gw = env.serve().await;
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("copilot/gpt-4.1")).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    let sent = mock.requests().pop().unwrap();
    assert_eq!(header(&sent, "authorization"), "Bearer copilot-1");
    assert_eq!(header(&sent, "copilot-integration-id"), "vscode-chat");
    // Qwen's requests go to the host its token names (the mock), not the catalog's.
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("qwen/qwen3-coder-plus")).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    let sent = mock.requests().pop().unwrap();
    assert_eq!(
        (sent.path.as_str(), header(&sent, "authorization").as_str()),
        ("/v1/chat/completions", "Bearer tok-access-2")
    );
    drop(gw);
}

pub(crate) fn write(env: &Env, relative: &str, text: &str) {
    let path = env.dir.path().join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_then_refresh_ahead_once_for_50_requests_after_a_401_and_a_refused_refresh() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    for provider in ["claude", "codex", "qwen", "copilot"] {
        point_at(&env, &auth, provider);
    }
    env.ok(&["provider", "add", "claude", "--base-url", &mock.root_url()]);
    env.ok(&["provider", "add", "codex", "--base-url", &mock.base_url()]);
    env.ok(&["provider", "add", "qwen", "--base-url", &mock.base_url()]);
    // What the official CLIs saved: Claude's token expires in a minute (inside its lead time).
    write(
        &env,
        ".claude/.credentials.json",
        &json!({"claudeAiOauth": {"accessToken": "old-claude", "refreshToken": "rt-claude",
        "expiresAt": now_ms() + 60_000, "scopes": ["user:inference"], "subscriptionType": "max"}})
        .to_string(),
    );
    let codex_access = format!("{}-first-401-1", jwt(&json!({"exp": now_ms() / 1000 + 30 * 86400})));
    write(
        &env,
        ".codex/auth.json",
        &json!({"OPENAI_API_KEY": null, "tokens": {"access_token": codex_access,
        "refresh_token": "rt-codex", "account_id": "acct-9", "id_token": jwt(&json!({"email": "c@example.com"}))}})
        .to_string(),
    );
    write(
        &env,
        ".qwen/oauth_creds.json",
        &json!({"access_token": "old-qwen", "refresh_token": "rt-dead",
        "resource_url": mock.root_url(), "expiry_date": now_ms() - 1000})
        .to_string(),
    );
    write(
        &env,
        ".config/github-copilot/apps.json",
        &json!({"github.com:Iv1.b507a08c87ecfe98": {"user": "octo", "oauth_token": "ghu_x"}}).to_string(),
    );
    for provider in ["claude", "codex", "qwen", "copilot"] {
        let out = env.ok(&["login", provider, "--import"]);
        assert!(out.contains("signed in"), "{provider}: {out}");
    }
    // Nothing saved by Gemini CLI here: the import says where it looked.
    let nothing = env.fails(&["login", "gemini", "--import"]);
    assert!(nothing.contains("~/.gemini/oauth_creds.json"), "{nothing}");
    let list = accounts(&env);
    assert_eq!(list.len(), 4, "{list:?}");
    let claude = list.iter().find(|a| a["provider_id"] == "claude").unwrap();
    assert_eq!(claude["login"]["plan"], "max");
    auth.state.revoked.lock().unwrap().push("rt-dead".into());
    let gw = env.serve().await;

    // 50 requests at once on a token about to expire: one refresh, every request on the new token.
    let requests = (0..50).map(|_| {
        ask(&gw, "/v1/messages", json!({"model": "claude/claude-sonnet-4-5", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}))
    });
    let answers = futures_util::future::join_all(requests).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}\n{}", gw.log());
    assert_eq!(auth.refreshes(), 1, "one refresh for 50 concurrent requests");
    let claude_tokens: Vec<String> =
        mock.requests().iter().filter(|r| r.path == "/v1/messages").map(|r| header(r, "authorization")).collect();
    assert!(claude_tokens.iter().all(|t| t == "Bearer tok-access-1"), "{claude_tokens:?}");
    // The refreshed login is stored sealed: the data dir holds no token in clear.
    for (path, bytes) in crate::common::data_files_bytes(&env.data_dir()) {
        assert!(
            !crate::common::contains(&bytes, b"tok-refresh-1") && !crate::common::contains(&bytes, b"tok-access-1"),
            "{path:?}"
        );
    }

    // Codex's token is refused once (revoked early): one refresh, then the request goes through.
    let (status, body) = ask(&gw, "/v1/responses", json!({"model": "codex/gpt-5.1-codex", "input": "hi"})).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    assert_eq!(auth.refreshes(), 2);
    let sent = mock.requests().pop().unwrap();
    // The account id comes with the token: the refreshed id token's (the mock names acct-123).
    assert_eq!(
        (header(&sent, "authorization").as_str(), header(&sent, "chatgpt-account-id").as_str()),
        ("Bearer tok-access-2", "acct-123")
    );
    let first = mock.requests().iter().find(|r| r.path == "/v1/responses").map(|r| header(r, "chatgpt-account-id"));
    assert_eq!(first.as_deref(), Some("acct-9"), "the imported account id went with the imported token");

    // Qwen's refresh token is refused: the account needs a new login, and the client is told.
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("qwen/qwen3-coder-plus")).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("switchyard login qwen"), "{body}");
    let set_aside = crate::common::eventually(Duration::from_secs(5), || {
        let qwen = accounts(&env).into_iter().find(|a| a["provider_id"] == "qwen").unwrap();
        qwen["needs_attention"].as_str().is_some_and(|w| w.contains("sign in again"))
    })
    .await;
    assert!(set_aside, "the qwen account is set aside: {:?}", accounts(&env));
    assert!(env.ok(&["account", "list"]).contains("needs login"));
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_up_quota_skips_the_account_until_its_reset() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    point_at(&env, &auth, "claude");
    env.ok(&["settings", "set", "quota-refresh-secs", "5"]);
    env.ok(&["provider", "add", "claude", "--base-url", &mock.root_url()]);
    env.add_provider("backup", &mock.base_url(), "backup-key", "mock-model");
    env.ok(&["combo", "set", "sub", "claude/claude-sonnet-4-5", "backup/mock-model"]);
    write(
        &env,
        ".claude/.credentials.json",
        &json!({"claudeAiOauth": {"accessToken": "claude-at", "refreshToken": "rt",
        "expiresAt": now_ms() + 86_400_000}})
        .to_string(),
    );
    env.ok(&["login", "claude", "--import"]);
    let resets = time::OffsetDateTime::now_utc() + time::Duration::seconds(4);
    let resets = resets.format(&time::format_description::well_known::Rfc3339).unwrap();
    *auth.state.claude_usage.lock().unwrap() = json!({"five_hour": {"utilization": 100.0, "resets_at": resets},
        "seven_day": {"utilization": 60.0, "resets_at": resets}});
    let claude = accounts(&env).into_iter().find(|a| a["provider_id"] == "claude").unwrap();
    let id = claude["id"].as_i64().unwrap().to_string();
    let quota: Value = serde_json::from_str(&env.ok(&["account", "quota", &id, "--json"])).unwrap();
    assert_eq!((quota[0]["name"].as_str(), quota[0]["used_percent"].as_f64()), (Some("5h"), Some(100.0)), "{quota}");
    let gw = env.serve().await;
    // The watch reads the quota at start: the used-up account is passed over for the backup.
    let mut skipped = false;
    for _ in 0..20 {
        let (status, _) = ask(&gw, "/v1/chat/completions", chat("sub")).await;
        assert_eq!(status, 200);
        if header(&mock.requests().pop().unwrap(), "authorization") == "Bearer backup-key" {
            skipped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(skipped, "the used-up account was not skipped\n{}", gw.log());
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "1", "--json"])).unwrap();
    assert!(log[0]["attempts"].to_string().contains("subscription quota"), "{log}");
    // The window resets (and the provider says so): the account is used again by itself.
    *auth.state.claude_usage.lock().unwrap() = json!({"five_hour": {"utilization": 3.0, "resets_at": resets}});
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (status, _) = ask(&gw, "/v1/chat/completions", chat("sub")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&mock.requests().pop().unwrap(), "authorization"), "Bearer claude-at", "{}", gw.log());
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_signs_in_through_the_same_operations() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    point_at(&env, &auth, "codex");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    env.ok(&["settings", "set", "login.codex.callback-port", &taken.local_addr().unwrap().port().to_string()]);
    env.ok(&["provider", "add", "codex", "--base-url", &mock.base_url()]);
    let gw = env.serve().await;
    let setup =
        http().post(format!("{}/api/session/setup", gw.url)).json(&json!({"password": "correct horse battery"}));
    let r = setup.send().await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let api = |method: reqwest::Method, path: &str| {
        http().request(method, format!("{}{path}", gw.url)).header("cookie", &cookie)
    };
    // The choices carry each provider's terms risk.
    let choices: Value = api(reqwest::Method::GET, "/api/logins").send().await.unwrap().json().await.unwrap();
    let codex = choices.as_array().unwrap().iter().find(|c| c["provider"] == "codex").unwrap().clone();
    assert!(codex["terms_risk"].as_str().unwrap().contains("OpenAI"), "{codex}");
    // A login's own settings come with their values now.
    let kiro = choices.as_array().unwrap().iter().find(|c| c["provider"] == "kiro").unwrap().clone();
    let options: Vec<&str> =
        kiro["options"].as_array().unwrap().iter().map(|o| o["setting"].as_str().unwrap()).collect();
    assert_eq!(options, ["login.kiro.start-url", "login.kiro.region"], "{kiro}");
    // Start: the address to open comes back at once; the port is taken, so the page asks for the pasted address.
    let started: Value = api(reqwest::Method::POST, "/api/logins/codex").send().await.unwrap().json().await.unwrap();
    let id = started["id"].as_u64().unwrap();
    let url = started["url"].as_str().expect("the sign-in address").to_string();
    let approved = no_redirects().get(&url).send().await.unwrap();
    let callback = approved.headers()["location"].to_str().unwrap().to_string();
    let mut view = Value::Null;
    for _ in 0..50 {
        view =
            api(reqwest::Method::GET, &format!("/api/logins/pending/{id}")).send().await.unwrap().json().await.unwrap();
        if view["needs_paste"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(view["needs_paste"], true, "{view}");
    let pasted = api(reqwest::Method::POST, &format!("/api/logins/pending/{id}/paste")).json(&json!({"url": callback}));
    assert_eq!(pasted.send().await.unwrap().status(), 200);
    for _ in 0..50 {
        view =
            api(reqwest::Method::GET, &format!("/api/logins/pending/{id}")).send().await.unwrap().json().await.unwrap();
        if !view["account"].is_null() || !view["error"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(view["account"]["provider_id"], "codex", "{view}");
    assert_eq!(view["account"]["login"]["email"], "dev@example.com", "{view}");
    // The saved login serves at once (the configuration reloads by itself).
    let mut status = 0;
    for _ in 0..20 {
        status = ask(&gw, "/v1/responses", json!({"model": "codex/gpt-5.1-codex", "input": "hi"})).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "{}", gw.log());
    drop((gw, taken));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiro_signs_in_with_a_builder_id_device_code_and_answers_through_its_event_stream() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    point_at(&env, &auth, "kiro");
    env.ok(&["provider", "add", "kiro", "--base-url", &mock.root_url()]);
    let mut child = env.spawn(&["login", "kiro", "--no-browser"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    line_where(&mut lines, |l| l.contains("enter the code")).await;
    assert!(lines.next_line().await.unwrap().unwrap().trim().starts_with("AWSX-"));
    finish(child, lines).await;
    let grants = auth.state.grants.lock().unwrap().clone();
    assert_eq!(grants.len(), 3, "pending, slow_down, then the token: {grants:?}");
    // Kiro's monthly requests, from getUsageLimits as the Kiro IDE asks for them.
    *auth.state.kiro_usage.lock().unwrap() = json!({"nextDateReset": 1798761600.0,
        "subscriptionInfo": {"subscriptionTitle": "KIRO FREE"}, "userInfo": {"email": "dev@example.com"},
        "usageBreakdownList": [{"resourceType": "AGENTIC_REQUEST", "currentUsage": 25, "usageLimit": 50,
            "nextDateReset": 1798761600.0}]});
    let id = accounts(&env)[0]["id"].as_i64().unwrap().to_string();
    let quota: Value = serde_json::from_str(&env.ok(&["account", "quota", &id, "--json"])).unwrap();
    assert_eq!(
        (quota[0]["name"].as_str(), quota[0]["used_percent"].as_f64()),
        (Some("monthly"), Some(50.0)),
        "{quota}"
    );
    assert_eq!(quota[0]["resets_at_ms"], 1798761600000i64);
    let asked = auth.state.kiro_usage_queries.lock().unwrap()[0].clone();
    assert_eq!((asked["origin"].as_str(), asked["resourceType"].as_str()), ("AI_EDITOR", "AGENTIC_REQUEST"));
    let gw = env.serve().await;
    // OpenAI client, one JSON answer, gathered from the event stream.
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("kiro/claude-sonnet-4.5")).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    assert_eq!(body["choices"][0]["message"]["content"], "w0 w1 w2 w3 w4", "{body}");
    let sent = mock.requests().pop().unwrap();
    assert_eq!(
        (sent.path.as_str(), header(&sent, "authorization").as_str()),
        ("/generateAssistantResponse", "Bearer aoa-access-1")
    );
    assert_eq!(header(&sent, "x-amzn-codewhisperer-optout"), "true");
    // The tokens Kiro reports (metadataEvent) reach the client and the usage record.
    assert_eq!(body["usage"]["completion_tokens"], 5, "{body}");
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "1", "--json"])).unwrap();
    assert_eq!((log[0]["output_tokens"].as_u64(), log[0]["usage_reported"].as_bool()), (Some(5), Some(true)), "{log}");
    let state = &sent.json()["conversationState"];
    assert_eq!(state["currentMessage"]["userInputMessage"]["content"], "hi", "{state}");
    assert_eq!(state["currentMessage"]["userInputMessage"]["modelId"], "claude-sonnet-4.5");
    // Anthropic client, streamed, with a tool call in pieces.
    let tools = json!([{"name": "get_weather", "description": "weather", "input_schema": {"type": "object"}}]);
    let r = http()
        .post(format!("{}/v1/messages", gw.url))
        .json(&json!({"model": "kiro/claude-sonnet-4.5", "max_tokens": 100, "stream": true, "tools": tools,
            "messages": [{"role": "user", "content": "please use the tool"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("\"tool_use\"") && text.contains("get_weather") && text.contains("message_stop"), "{text}");
    let arguments: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| v.pointer("/delta/partial_json").and_then(Value::as_str).map(String::from))
        .collect();
    assert_eq!(arguments, r#"{"city":"Paris"}"#, "{text}");
    assert!(text.contains("\"stop_reason\":\"tool_use\""), "{text}");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiro_ides_saved_login_is_imported_and_refreshed_through_kiro() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    point_at(&env, &auth, "kiro");
    env.ok(&["provider", "add", "kiro", "--base-url", &mock.root_url()]);
    // A social (GitHub) login about to expire: refreshed through Kiro's own endpoint.
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::seconds(30))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    write(
        &env,
        ".aws/sso/cache/kiro-auth-token.json",
        &json!({"accessToken": "aoa-old", "refreshToken": "aor-old",
        "expiresAt": expires, "authMethod": "social", "provider": "Github",
        "profileArn": "arn:aws:codewhisperer:us-east-1:123:profile/OLD"})
        .to_string(),
    );
    env.ok(&["login", "kiro", "--import"]);
    let gw = env.serve().await;
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("kiro/claude-sonnet-4.5")).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    assert_eq!(auth.refreshes(), 1);
    let sent = mock.requests().pop().unwrap();
    assert_eq!(header(&sent, "authorization"), "Bearer aoa-social-1");
    assert_eq!(
        sent.json()["profileArn"],
        "arn:aws:codewhisperer:us-east-1:123:profile/SOCIAL",
        "the refreshed profile"
    );
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiro_signs_in_through_an_identity_center_and_names_its_profile() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    point_at(&env, &auth, "kiro");
    env.ok(&["settings", "set", "login.kiro.start-url", "https://d-1234567890.awsapps.com/start"]);
    env.ok(&["settings", "set", "login.kiro.region", "eu-central-1"]);
    assert!(env.fails(&["settings", "set", "login.kiro.region", "Frankfurt"]).contains("AWS region"));
    env.ok(&["provider", "add", "kiro", "--base-url", &mock.root_url()]);
    let mut child = env.spawn(&["login", "kiro", "--no-browser"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    line_where(&mut lines, |l| l.contains("enter the code")).await;
    let out = finish(child, lines).await;
    assert!(out.contains("profile/IDC"), "{out}");
    assert_eq!(auth.state.start_urls.lock().unwrap().clone(), ["https://d-1234567890.awsapps.com/start"]);
    let gw = env.serve().await;
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("kiro/claude-sonnet-4.5")).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    let sent = mock.requests().pop().unwrap();
    assert_eq!(sent.json()["profileArn"], "arn:aws:codewhisperer:eu-central-1:123:profile/IDC");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copilot_login_imports_without_the_network_and_mints_its_token_on_first_use() {
    // issue 25: an import saves what the file holds; the calls that enrich it wait for the network.
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let env = Env::new();
    env.ok(&["provider", "add", "copilot", "--base-url", &mock.base_url()]);
    write(
        &env,
        ".config/github-copilot/apps.json",
        r#"{"github.com:Iv1.b507a08c87ecfe98": {"user": "octo", "oauth_token": "ghu_saved"}}"#,
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    env.ok(&["settings", "set", "login.copilot.copilot-token-url", &format!("http://{closed}/copilot/token")]);
    let out = env.ok(&["login", "copilot", "--import"]);
    assert!(out.contains("signed in: account"), "{out}");
    assert_eq!(auth.state.exchanges.load(Ordering::SeqCst), 0, "nothing minted yet");
    // GitHub answers again: the first request mints the Copilot token and is served with it.
    point_at(&env, &auth, "copilot");
    let gw = env.serve().await;
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("copilot/gpt-4.1")).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    assert_eq!(auth.state.exchanges.load(Ordering::SeqCst), 1, "minted on first use");
    assert!(header(&mock.requests().pop().unwrap(), "authorization").starts_with("Bearer copilot-"));
}
