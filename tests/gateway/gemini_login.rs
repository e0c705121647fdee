//! Gemini CLI's login end to end against the mock authorization server's Google side
//! (`common::mock_google`) and the mock provider's Code Assist routes: `switchyard login
//! gemini-cli` with the OAuth client secret read from the Gemini CLI installed by npm here,
//! the Code Assist project onboarded through its long-running operation, requests from every
//! client API wrapped for Code Assist and answered unwrapped, a refresh in a gateway that has
//! no Gemini CLI on its PATH, per-model quota buckets resting one model only, and the import of
//! `~/.gemini/oauth_creds.json` (also refused as Google refuses a blocked account).

use super::logins::{accounts, ask, chat, finish, header, line_where, no_redirects, now_ms, point_at, write};
use crate::common::mock::{full_answer, MockConfig, MockProvider};
use crate::common::mock_auth::MockAuth;
use crate::common::mock_google::PROJECT;
use crate::common::{contains, data_files_bytes, http, Env};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

fn node_bin() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/.bin");
    assert!(bin.join("gemini").exists(), "Gemini CLI is not installed: run `npm ci` in the project (.ci/install does)");
    bin
}

/// The PATH of this test without any folder that holds a `gemini` (the gateway must refresh
/// without the CLI).
fn path_without_gemini() -> OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::env::split_paths(&path).filter(|d| !d.join("gemini").exists())).unwrap()
}

fn path_with_gemini() -> OsString {
    let mut dirs = vec![node_bin()];
    dirs.extend(std::env::split_paths(&path_without_gemini()));
    std::env::join_paths(dirs).unwrap()
}

/// The client secret in the installed Gemini CLI, read here on its own.
fn installed_secret() -> String {
    let bundle = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/@google/gemini-cli/bundle");
    for entry in std::fs::read_dir(&bundle).expect("Gemini CLI's bundle") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "js") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        if let Some(at) = text.find("OAUTH_CLIENT_SECRET = \"") {
            let rest = &text[at + "OAUTH_CLIENT_SECRET = \"".len()..];
            return rest[..rest.find('"').unwrap()].to_string();
        }
    }
    panic!("no OAuth client in {}", bundle.display());
}

fn mock_base(mock: &MockProvider) -> String {
    format!("{}/v1internal", mock.root_url())
}

/// The Code Assist requests the mock received, as (path, wrapped body).
fn code_assist_requests(mock: &MockProvider) -> Vec<(String, Value)> {
    mock.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1internal:"))
        .map(|r| (r.path.clone(), serde_json::from_slice(&r.body).unwrap()))
        .collect()
}

/// What Gemini CLI saves after a sign-in, its access token since expired.
fn save_expired_gemini_cli_login(env: &Env) {
    write(
        env,
        ".gemini/oauth_creds.json",
        &json!({"access_token": "ya29.expired", "refresh_token": "1//saved-refresh", "token_type": "Bearer",
            "scope": "https://www.googleapis.com/auth/cloud-platform", "expiry_date": now_ms() - 60_000})
        .to_string(),
    );
}

fn rfc3339_in(seconds: i64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
    at.format(&time::format_description::well_known::Rfc3339).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_cli_signs_in_onboards_code_assist_and_serves_every_client_api() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    // Tokens that expire at once: the gateway's first request refreshes.
    auth.state.expires_in.store(1, Ordering::SeqCst);
    let env = Env::new().with_path(path_without_gemini());
    point_at(&env, &auth, "gemini-cli");
    env.ok(&["provider", "add", "gemini-cli", "--base-url", &mock_base(&mock)]);
    let mut child = env.spawn_with_env(&["login", "gemini-cli", "--no-browser"], &[("PATH", path_with_gemini())]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let terms = line_where(&mut lines, |l| l.starts_with("Terms:")).await;
    assert!(terms.contains("TOS_VIOLATION") && terms.contains("HIGH RISK"), "{terms}");
    let url = line_where(&mut lines, |l| l.trim_start().starts_with("http")).await;
    let url = url.trim();
    assert!(url.contains("access_type=offline") && url.contains("prompt=consent"), "{url}");
    assert!(url.contains("cloud-platform"), "Gemini CLI's scopes: {url}");
    let approved = no_redirects().get(url).send().await.unwrap();
    assert!(approved.status().is_redirection(), "{}", approved.text().await.unwrap_or_default());
    let callback = approved.headers()["location"].to_str().unwrap().to_string();
    assert!(callback.starts_with("http://127.0.0.1:") && callback.contains("/oauth2callback?code="), "{callback}");
    assert!(http().get(&callback).send().await.unwrap().text().await.unwrap().contains("Signed in"));
    let out = finish(child, lines).await;
    assert!(out.contains(PROJECT) && out.contains("signed in: account"), "{out}");
    // The secret of the Gemini CLI installed here, found by the login on its own.
    assert_eq!(auth.state.google.secrets.lock().unwrap().clone(), vec![installed_secret()]);
    let calls: Vec<String> = auth.state.google.calls.lock().unwrap().iter().map(|(m, _)| m.clone()).collect();
    assert_eq!(calls, ["loadCodeAssist", "onboardUser"], "a first sign-in is onboarded on the free tier");
    let account = accounts(&env).into_iter().find(|a| a["provider_id"] == "gemini-cli").expect("an account");
    assert_eq!(
        (account["login"]["email"].as_str(), account["login"]["plan"].as_str()),
        (Some("dev@example.com"), Some("free-tier"))
    );
    for (file, bytes) in data_files_bytes(&env.data_dir()) {
        let clear = contains(&bytes, b"GOCSPX-") || contains(&bytes, b"tok-refresh-1");
        assert!(!clear, "the login is stored sealed, but {} holds it in clear", file.display());
    }

    let gw = env.serve().await;
    // An OpenAI client, answered whole.
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("gemini-cli/gemini-2.5-pro")).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    assert_eq!(body["choices"][0]["message"]["content"], full_answer(5), "{body}");
    assert!(body["usage"]["prompt_tokens"].as_u64() > Some(0), "{body}");
    let (path, sent) = code_assist_requests(&mock).pop().unwrap();
    assert_eq!(path, "/v1internal:generateContent");
    assert_eq!((sent["model"].as_str(), sent["project"].as_str()), (Some("gemini-2.5-pro"), Some(PROJECT)), "{sent}");
    assert_eq!(sent["request"]["contents"][0]["parts"][0]["text"], "hi", "{sent}");
    let last = mock.requests().pop().unwrap();
    assert_eq!(header(&last, "authorization"), "Bearer tok-access-2", "the expired token was refreshed first");
    // The refresh ran in a gateway without Gemini CLI on its PATH: with the secret kept with the login.
    assert_eq!(auth.state.google.secrets.lock().unwrap().len(), 2);

    // A Gemini client streaming SSE: Code Assist's events unwrapped, passed through.
    let r = http()
        .post(format!("{}/v1beta/models/gemini-cli/gemini-2.5-flash:streamGenerateContent?alt=sse", gw.url))
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let events: Vec<Value> =
        text.lines().filter_map(|l| l.strip_prefix("data: ")).map(|d| serde_json::from_str(d).unwrap()).collect();
    assert!(!events.is_empty() && events.iter().all(|e| e.get("response").is_none()), "{text}");
    let streamed: String =
        events.iter().filter_map(|e| e.pointer("/candidates/0/content/parts/0/text").and_then(Value::as_str)).collect();
    assert_eq!(streamed, full_answer(5), "{text}");
    let (path, sent) = code_assist_requests(&mock).pop().unwrap();
    assert_eq!(
        (path.as_str(), sent["model"].as_str()),
        ("/v1internal:streamGenerateContent", Some("gemini-2.5-flash"))
    );
    // A Gemini client streaming a JSON array: translated, since Code Assist streams SSE only.
    let r = http()
        .post(format!("{}/v1beta/models/gemini-cli/gemini-2.5-flash:streamGenerateContent", gw.url))
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let array: Value = serde_json::from_str(&r.text().await.unwrap()).expect("a JSON array");
    let text: String = array
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.pointer("/candidates/0/content/parts/0/text").and_then(Value::as_str))
        .collect();
    assert_eq!(text, full_answer(5));
    // An Anthropic client streaming.
    let r = http()
        .post(format!("{}/v1/messages", gw.url))
        .json(&json!({"model": "gemini-cli/gemini-2.5-pro", "max_tokens": 50, "stream": true,
            "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sse = r.text().await.unwrap();
    assert!(sse.contains("message_stop") && sse.contains("w4"), "{sse}");
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "1", "--json"])).unwrap();
    assert_eq!(log[0]["provider"], "gemini-cli", "{log}");
    assert_eq!(log[0]["cost_usd"].as_f64(), Some(0.0), "a subscription: {log}");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_gemini_login_is_refreshed_set_up_and_rests_only_the_model_whose_quota_is_used_up() {
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    auth.state.google.onboarded.store(true, Ordering::SeqCst);
    let env = Env::new().with_path(path_with_gemini());
    point_at(&env, &auth, "gemini-cli");
    env.ok(&["settings", "set", "quota-refresh-secs", "5"]);
    env.ok(&["provider", "add", "gemini-cli", "--base-url", &mock_base(&mock)]);
    // What Gemini CLI saved: an expired access token and the account in google_accounts.json.
    save_expired_gemini_cli_login(&env);
    write(&env, ".gemini/google_accounts.json", r#"{"active": "dev@example.com", "old": []}"#);
    // A blocked account is refused with Google's reason, and nothing is saved.
    auth.state.google.tos_blocked.store(true, Ordering::SeqCst);
    let refused = env.fails(&["login", "gemini-cli", "--import"]);
    assert!(refused.contains("Terms of Service") && refused.contains("blocked"), "{refused}");
    assert!(accounts(&env).is_empty());
    auth.state.google.tos_blocked.store(false, Ordering::SeqCst);
    let out = env.ok(&["login", "gemini-cli", "--import"]);
    assert!(out.contains("signed in: account"), "{out}");
    assert!(
        auth.state.grants.lock().unwrap().contains(&"refresh_token".to_string()),
        "the expired token was refreshed"
    );
    let account = accounts(&env).into_iter().find(|a| a["provider_id"] == "gemini-cli").expect("an account");
    assert_eq!(account["login"]["email"], "dev@example.com");
    let id = account["id"].as_i64().unwrap().to_string();

    // Code Assist's buckets: gemini-2.5-pro used up for a while, gemini-2.5-flash not.
    *auth.state.google.quota.lock().unwrap() = json!({"buckets": [
        {"remainingAmount": "0", "remainingFraction": 0.0, "resetTime": rfc3339_in(3600), "tokenType": "REQUESTS", "modelId": "gemini-2.5-pro"},
        {"remainingFraction": 0.8, "resetTime": rfc3339_in(3600), "tokenType": "REQUESTS", "modelId": "gemini-2.5-flash"}
    ]});
    let quota: Value = serde_json::from_str(&env.ok(&["account", "quota", &id, "--json"])).unwrap();
    assert_eq!(quota[0]["name"], "gemini-2.5-pro", "{quota}");
    assert_eq!((quota[0]["used_percent"].as_f64(), quota[1]["used_percent"].as_f64()), (Some(100.0), Some(20.0)));
    let gw = env.serve().await;
    // The watch reads the quota at start: pro rests on this account, flash still answers.
    let mut rested = None;
    for _ in 0..25 {
        let (status, body) = ask(&gw, "/v1/chat/completions", chat("gemini-cli/gemini-2.5-pro")).await;
        if status != 200 {
            rested = Some((status, body));
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = rested.unwrap_or_else(|| panic!("gemini-2.5-pro was not rested\n{}", gw.log()));
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("all_cooling_down")), "{body}");
    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "1", "--json"])).unwrap();
    assert!(log[0]["attempts"].to_string().contains("the gemini-2.5-pro window is used up"), "{log}");
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("gemini-cli/gemini-2.5-flash")).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    let retrieve = auth
        .state
        .google
        .calls
        .lock()
        .unwrap()
        .iter()
        .any(|(m, b)| m == "retrieveUserQuota" && b["project"] == PROJECT);
    assert!(retrieve, "the quota was asked for the login's project");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gemini_cli_login_imports_without_the_network_and_is_set_up_when_google_answers() {
    // issue 25: the import looked the email up at Google and gave up when Google could not
    // be reached; the Claude and Codex imports work offline.
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    auth.state.google.onboarded.store(true, Ordering::SeqCst);
    let env = Env::new().with_path(path_with_gemini());
    env.ok(&["provider", "add", "gemini-cli", "--base-url", &mock_base(&mock)]);
    save_expired_gemini_cli_login(&env);
    // Google out of reach: every endpoint on a port where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    for name in ["token-url", "userinfo-url", "code-assist-url"] {
        env.ok(&["settings", "set", &format!("login.gemini-cli.{name}"), &format!("http://{closed}/google")]);
    }
    let out = env.ok(&["login", "gemini-cli", "--import"]);
    assert!(out.contains("signed in: account"), "{out}");
    let account =
        accounts(&env).into_iter().find(|a| a["provider_id"] == "gemini-cli").expect("saved as the file holds it");
    assert!(account["login"]["email"].is_null(), "{account}");

    // Google answers again: the first request refreshes the token, finds the project and
    // the email, and is served.
    point_at(&env, &auth, "gemini-cli");
    let gw = env.serve().await;
    let (status, body) = ask(&gw, "/v1/chat/completions", chat("gemini-cli/gemini-2.5-flash")).await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    let wrapped = code_assist_requests(&mock);
    assert_eq!(wrapped.last().map(|(_, b)| b["project"].clone()), Some(json!(PROJECT)), "{wrapped:?}");
    let account = accounts(&env).into_iter().find(|a| a["provider_id"] == "gemini-cli").unwrap();
    assert!(account["login"]["email"].is_string(), "the email was found and kept: {account}");
}
