//! The dashboard's management API (/api) over real HTTP: the login gate (first-visit setup
//! only from this machine, wrong passwords, the per-address rate limit, logout), errors in the
//! /api shape, configuration round trips with the CLI, the live usage feed, the password kept
//! only as a hash, and the UI files served at /.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{contains, data_files_bytes, http, Env};
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// Sets the first password through the API; returns the session cookie.
async fn setup(url: &str) -> String {
    let r = http().post(format!("{url}/api/session/setup")).json(&json!({"password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    cookie_of(&r)
}

fn cookie_of(r: &reqwest::Response) -> String {
    let set = r.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().unwrap().to_string()
}

async fn get(url: &str, cookie: &str, path: &str) -> (u16, Value) {
    let r = http().get(format!("{url}{path}")).header("cookie", cookie).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn send(url: &str, cookie: &str, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let r = http().request(method, format!("{url}{path}")).header("cookie", cookie).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn message(v: &Value) -> &str {
    v["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_needs_a_session_and_the_first_password_is_set_locally() {
    let env = Env::new();
    let gw = env.serve().await;
    let url = &gw.url;
    let (status, body) = get(url, "", "/api/overview").await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("log in"), "{body}");
    let (_, s) = get(url, "", "/api/session").await;
    assert_eq!(s["password_set"], false);
    assert_eq!(s["setup_allowed"], true);

    // A page that reached us under another host name (DNS rebinding) cannot claim the dashboard.
    let r = http()
        .post(format!("{url}/api/session/setup"))
        .header("host", "evil.example")
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Too short a password says why.
    let r = http().post(format!("{url}/api/session/setup")).json(&json!({"password": "short"})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(message(&r.json().await.unwrap()).contains("at least 8"));

    let cookie = setup(url).await;
    let (status, body) = get(url, &cookie, "/api/overview").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["endpoint"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    // Setting it again is refused; logging in works; logout ends the session.
    let r = http()
        .post(format!("{url}/api/session/setup"))
        .json(&json!({"password": "another one!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = http().post(format!("{url}/api/session/logout")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get(url, &cookie, "/api/overview").await.0, 401);

    // Only an Argon2 hash is stored.
    for (path, bytes) in data_files_bytes(&env.data_dir()) {
        assert!(!contains(&bytes, PASSWORD.as_bytes()), "password in clear in {}", path.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_refused_then_rate_limited() {
    let env = Env::new();
    // Set from the CLI, reading stdin (a password never goes on the command line).
    let out = env.cli_stdin(&["settings", "set", "dashboard-password", "-"], PASSWORD);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSWORD));
    let gw = env.serve().await;
    let url = &gw.url;
    let (_, s) = get(url, "", "/api/session").await;
    assert_eq!(s["password_set"], true);
    for _ in 0..5 {
        let r = http()
            .post(format!("{url}/api/session/login"))
            .json(&json!({"password": "nope nope"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = http().post(format!("{url}/api/session/login")).json(&json!({"password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), 429, "the sixth attempt in a minute is refused, even with the right password");
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=61).contains(&retry));
    assert!(message(&r.json().await.unwrap()).contains("too many failed logins"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_round_trips_with_the_cli_and_bad_input_says_what_is_wrong() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    let gw = env.serve().await;
    let url = &gw.url;
    let cookie = setup(url).await;
    use reqwest::Method;

    // Not JSON, a missing field, an unknown field, an unknown kind, an unknown route.
    let r = http().post(format!("{url}/api/providers")).header("cookie", &cookie).body("{").send().await.unwrap();
    assert!(r.status().is_client_error());
    let (status, body) = send(url, &cookie, Method::POST, "/api/providers", json!({"kind": "openai"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(message(&body).contains("id"), "{body}");
    let (status, body) = send(url, &cookie, Method::POST, "/api/providers", json!({"id": "x", "colour": "red"})).await;
    assert_eq!(status, 422);
    assert!(message(&body).contains("colour"), "{body}");
    let (status, body) =
        send(url, &cookie, Method::POST, "/api/providers", json!({"id": "x", "kind": "cobol", "base_url": "http://a"}))
            .await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("unknown provider kind"), "{body}");
    assert_eq!(get(url, &cookie, "/api/nothing-here").await.0, 404);

    let (status, body) = send(
        url,
        &cookie,
        Method::POST,
        "/api/providers",
        json!({"id": "mockai", "kind": "openai", "base_url": mock.base_url(), "models": ["mock-model"], "api_key": "key-secret-123456"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let listed = env.ok(&["provider", "list"]);
    assert!(listed.contains("mockai"), "{listed}");
    let (_, accounts) = get(url, &cookie, "/api/accounts").await;
    assert!(!accounts.to_string().contains("key-secret-123456"), "the API never shows a whole secret");
    let account = accounts[0]["id"].as_i64().unwrap();
    let (status, _) =
        send(url, &cookie, Method::PATCH, &format!("/api/accounts/{account}"), json!({"priority": 3})).await;
    assert_eq!(status, 204);
    let (status, body) =
        send(url, &cookie, Method::PUT, "/api/combos/coding", json!({"members": ["mockai/mock-model", "nope/none"]}))
            .await;
    assert_eq!(status, 400, "an unknown member is refused: {body}");
    let (status, _) =
        send(url, &cookie, Method::PUT, "/api/combos/coding", json!({"members": ["mockai/mock-model"]})).await;
    assert_eq!(status, 204);
    assert!(env.ok(&["combo", "list"]).contains("coding"));
    let (_, models) = get(url, &cookie, "/api/models").await;
    assert_eq!(models, json!(["coding", "mockai/mock-model"]));
    let (status, body) = send(url, &cookie, Method::PUT, "/api/settings/max-body-mb", json!({"value": "0"})).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("1 to 1024"), "{body}");
    let (status, body) = send(url, &cookie, Method::PUT, "/api/settings/retention-days", json!({"value": "30"})).await;
    assert_eq!((status, body["retention_days"].as_u64()), (200, Some(30)));

    // A key made in the dashboard works for clients; revoked, it stops within a second.
    let (status, created) = send(url, &cookie, Method::POST, "/api/keys", json!({"name": "tester"})).await;
    assert_eq!(status, 201);
    let key = created["key"].as_str().unwrap().to_string();
    send(url, &cookie, Method::PUT, "/api/settings/require-key", json!({"value": "true"})).await;
    let chat = |key: String| {
        let url = gw.chat_url();
        async move {
            http()
                .post(url)
                .bearer_auth(key)
                .json(&json!({"model": "coding", "messages": [{"role": "user", "content": "hi"}]}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Dashboard changes are in force when their answer returns: no waiting for a reload.
    assert_eq!(chat(String::new()).await, 401, "require-key is on at once");
    assert_eq!(chat(key.clone()).await, 200);
    let id = created["record"]["id"].as_i64().unwrap();
    let r = http().delete(format!("{url}/api/keys/{id}")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(chat(key.clone()).await, 401, "a revoked key stops at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_tells_each_finished_request_and_ends_at_shutdown() {
    use futures_util::StreamExt;
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "mock-model");
    let mut gw = env.serve().await;
    let cookie = setup(&gw.url).await;
    let feed = http().get(format!("{}/api/usage/events", gw.url)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(feed.status(), 200);
    assert!(feed.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut body = feed.bytes_stream();
    let r = http()
        .post(gw.chat_url())
        .json(&json!({"model": "mock/mock-model", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(chunk)) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("\n\n") && seen.contains("event: usage") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "no usage event: {seen}");
    let data = seen.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let event: Value = serde_json::from_str(data).unwrap();
    assert_eq!(event["requested_model"], "mock/mock-model");
    assert_eq!(event["status"], 200);
    assert!(event["usage"]["output"].as_u64().unwrap() > 0, "{event}");

    // An open feed does not hold the shutdown up.
    let started = std::time::Instant::now();
    gw.signal(libc::SIGTERM);
    let status = gw.wait_exit(Duration::from_secs(10)).await;
    assert!(status.success());
    assert!(started.elapsed() < Duration::from_secs(5), "shutdown took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_page_is_served_at_the_root_with_a_strict_policy() {
    let env = Env::new();
    let gw = env.serve().await;
    let r = http().get(format!("{}/", gw.url)).send().await.unwrap();
    let built = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/dist/index.html")).exists();
    if built {
        assert_eq!(r.status(), 200);
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(r.text().await.unwrap().contains("boot.js"));
        let js = http().get(format!("{}/boot.js", gw.url)).send().await.unwrap();
        assert_eq!(js.status(), 200);
        assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    } else {
        assert!(std::env::var_os("CI").is_none(), "CI builds ui/dist (.ci/ui) before the tests");
        assert_eq!(r.status(), 503);
        assert!(r.text().await.unwrap().contains(".ci/ui"));
    }
    // Unknown files are a 404 in the gateway's shape, not the page.
    let r = http().get(format!("{}/no-such-file.js", gw.url)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_tested_against_the_provider_and_cooldowns_are_listed() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("good", &mock.base_url(), "key-works", "mock-model");
    env.add_provider("bad", &mock.base_url(), "fail-401", "mock-model");
    env.add_provider("busy", &mock.base_url(), "fail-429-ra-120", "mock-model");
    let gw = env.serve().await;
    let url = &gw.url;
    let cookie = setup(url).await;
    let (_, accounts) = get(url, &cookie, "/api/accounts").await;
    let id_of = |provider: &str| {
        accounts.as_array().unwrap().iter().find(|a| a["provider_id"] == provider).unwrap()["id"].as_i64().unwrap()
    };
    let test = |id: i64| {
        let path = format!("/api/accounts/{id}/test");
        let cookie = cookie.clone();
        async move { send(url, &cookie, reqwest::Method::POST, &path, Value::Null).await }
    };
    let (status, good) = test(id_of("good")).await;
    assert_eq!(status, 200, "{good}");
    assert_eq!(
        (good["ok"].as_bool(), good["status"].as_u64(), good["models"].as_u64()),
        (Some(true), Some(200), Some(1))
    );
    let (_, bad) = test(id_of("bad")).await;
    assert_eq!((bad["ok"].as_bool(), bad["status"].as_u64()), (Some(false), Some(401)), "{bad}");
    assert!(bad["error"].as_str().unwrap().contains("mock failure 401"), "{bad}");
    // The model list went out with the account's own key.
    let listed = mock.requests().into_iter().filter(|r| r.path == "/v1/models").count();
    assert_eq!(listed, 2);
    assert_eq!(test(999).await.0, 404);

    // A 429 with retry-after 120 cools the account; the dashboard sees until when and why.
    let r = http()
        .post(gw.chat_url())
        .json(&json!({"model": "busy/mock-model", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let mut cooling = Value::Null;
    for _ in 0..50 {
        cooling = get(url, &cookie, "/api/cooldowns").await.1;
        if cooling.as_array().is_some_and(|c| !c.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = &cooling[0];
    assert_eq!(first["account_id"].as_i64(), Some(id_of("busy")), "{cooling}");
    let left_ms = first["until_ms"].as_i64().unwrap()
        - std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!((100_000..=121_000).contains(&left_ms), "{left_ms} ms left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_test_goes_through_the_real_request_path_without_a_key() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("good", &mock.base_url(), "key-works", "mock-model");
    env.add_provider("down", &mock.base_url(), "fail-500", "mock-model");
    env.ok(&["combo", "set", "coding", "down/mock-model", "good/mock-model"]);
    env.ok(&["settings", "set", "require-key", "true"]);
    let gw = env.serve().await;
    let url = &gw.url;
    let cookie = setup(url).await;
    let test = |model: &'static str| {
        let cookie = cookie.clone();
        async move { send(url, &cookie, reqwest::Method::POST, "/api/models/test", json!({"model": model})).await }
    };
    // The combo falls back past the failing member; no gateway key was needed.
    let (status, ok) = test("coding").await;
    assert_eq!(status, 200);
    assert_eq!((ok["ok"].as_bool(), ok["status"].as_u64()), (Some(true), Some(200)), "{ok}");
    assert_eq!(ok["answered_model"], "mock-model");
    assert!(ok["answer"].as_str().unwrap().starts_with("w0"), "{ok}");
    // A combo saved in the dashboard is in force when the save returns: no wait.
    let (status, _) =
        send(url, &cookie, reqwest::Method::PUT, "/api/combos/fresh", json!({"members": ["good/mock-model"]})).await;
    assert_eq!(status, 204);
    let (_, fresh) = test("fresh").await;
    assert_eq!(fresh["ok"], true, "{fresh}");
    let (_, failed) = test("down/mock-model").await;
    assert_eq!(failed["ok"], false);
    assert!(failed["status"].as_u64().unwrap() >= 500, "{failed}");
    let (_, unknown) = test("nope/none").await;
    assert_eq!((unknown["ok"].as_bool(), unknown["status"].as_u64()), (Some(false), Some(404)), "{unknown}");
    assert!(unknown["answer"].as_str().unwrap().contains("nope"), "{unknown}");
    // Each test is a request like any other: recorded, tagged as the dashboard's.
    let mut log = Value::Null;
    for _ in 0..60 {
        log = get(url, &cookie, "/api/usage/log?limit=10").await.1;
        if log.as_array().is_some_and(|l| l.len() >= 4) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = log.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{log}");
    assert!(rows.iter().all(|r| r["tool"] == "switchyard-test"), "{log}");
    // Outside the dashboard, the same request still needs a key.
    let r = http()
        .post(gw.chat_url())
        .json(&json!({"model": "coding", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Every route of the contract crate (`switchyard_api::routes`) is served: none falls to the
/// "no management route" answer, and the answers the dashboard decodes are the contract's types.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_contract_route_is_served_and_answers_its_type() {
    use switchyard_api::routes::{self, Method, Route};
    let env = Env::new();
    let gw = env.serve().await;
    let url = &gw.url;
    let cookie = setup(url).await;
    for (method, template) in routes::ALL {
        if *template == routes::LogOut::TEMPLATE {
            continue; // would end this test's session; the logout test covers it
        }
        let mut path = String::new();
        let mut in_param = false;
        for c in template.chars() {
            match c {
                '{' => in_param = true,
                '}' => {
                    in_param = false;
                    path.push('1');
                }
                _ if in_param => {}
                c => path.push(c),
            }
        }
        let method = match method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let (status, body) = send(url, &cookie, method.clone(), &path, json!({})).await;
        assert!(!message(&body).starts_with("no management route"), "{method} {path}: {status} {body}");
        assert_ne!(status, 405, "{method} {path}");
        assert!(status < 500, "{method} {path}: {status} {body}");
    }
    // The list answers decode as the contract's types (what the dashboard does).
    async fn decoded<R: Route>(url: &str, cookie: &str, route: R) -> R::Answer {
        let (status, body) = get(url, cookie, &route.path()).await;
        assert_eq!(status, 200, "{}: {body}", route.path());
        serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{}: {e}: {body}", route.path()))
    }
    let settings = decoded(url, &cookie, routes::GetSettings {}).await;
    assert_eq!(settings.usage_durability, switchyard_api::Durability::Batched);
    assert!(!decoded(url, &cookie, routes::ListCatalog {}).await.is_empty());
    assert!(decoded(url, &cookie, routes::ListLogins {}).await.len() >= 6);
    decoded(url, &cookie, routes::ListTools {}).await;
    decoded(url, &cookie, routes::UsageLog { limit: Some(5) }).await;
    decoded(url, &cookie, routes::UsageSummary { since: Some("7d".into()), by: Some("model".into()) }).await;
    decoded(url, &cookie, routes::GetOverview {}).await;
}
