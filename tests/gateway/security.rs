//! A web page must not be able to use the gateway (issue 27): requests naming another host
//! (DNS rebinding), requests from other origins (no-cors fetch, forms, beacons) and the body
//! types a page sends without a preflight are refused before anything is routed, in the
//! client's API shape; the mock provider sees none of them. Clients that send no Origin, as
//! every coding CLI and SDK, are unaffected. An allowed origin gets CORS. Then the same in a
//! real browser: headless Chromium on a page of another local origin (tests/ui/cross_site.mjs).

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{eventually, http, Env};
use serde_json::{json, Value};
use std::time::Duration;

fn chat_body(marker: &str) -> String {
    json!({"model": "mock/m", "messages": [{"role": "user", "content": marker}]}).to_string()
}

fn seen_by_mock(mock: &MockProvider, marker: &str) -> usize {
    mock.requests().iter().filter(|r| String::from_utf8_lossy(&r.body).contains(marker)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_pages_and_rebound_hosts_are_refused_before_routing() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    let gw = env.serve().await;
    let client = http();
    let chat = gw.chat_url();

    // What the issue found: a no-preflight cross-site POST, and a rebinding Host.
    let res = client
        .post(&chat)
        .header("content-type", "text/plain")
        .header("origin", "https://evil.example")
        .body(chat_body("attack-origin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("allowed-origins https://evil.example"), "{body}");

    let res = client
        .post(&chat)
        .header("host", "evil.example:1234")
        .header("content-type", "application/json")
        .body(chat_body("attack-host"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "host_not_allowed", "{body}");

    // Each API's refusal in its own shape.
    let res = client
        .post(format!("{}/v1/messages", gw.url))
        .header("origin", "http://127.0.0.1:9")
        .header("content-type", "application/json")
        .body(
            json!({"model": "mock/m", "max_tokens": 5, "messages": [{"role": "user", "content": "attack-anthropic"}]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "error", "Anthropic's shape: {body}");
    let res = client
        .post(format!("{}/v1beta/models/mock/m:generateContent", gw.url))
        .header("host", "rebound.example")
        .body(json!({"contents": [{"parts": [{"text": "attack-gemini"}]}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["status"], "PERMISSION_DENIED", "Gemini's shape: {body}");

    // A no-cors GET from another site (an <img> or <script>), and the dashboard under a
    // rebound name.
    let res = client
        .get(format!("{}/v1/models", gw.url))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "no-cors")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client.get(format!("{}/api/session", gw.url)).header("host", "evil.example").send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = client.get(format!("{}/", gw.url)).header("host", "evil.example").send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("allowed-hosts"));
    // A link from another site still opens the dashboard.
    let res = client
        .get(format!("{}/", gw.url))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 403);

    // The gateway's own dashboard: same origin, but a page's body must say it is JSON.
    let own = gw.url.trim_start_matches("http://").to_string();
    let res = client
        .post(format!("{}/api/session/login", gw.url))
        .header("origin", &gw.url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("password=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = client
        .post(format!("{}/api/session/login", gw.url))
        .header("origin", &gw.url)
        .header("host", &own)
        .json(&json!({"password": "not set yet"}))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 403, "the dashboard's own origin passes");
    assert_ne!(res.status(), 415);

    assert_eq!(mock.requests().len(), 0, "the provider saw a refused request");

    // A coding tool or SDK: no Origin, any content type, loopback names.
    for host in [own.clone(), own.replace("127.0.0.1", "localhost")] {
        let res = client
            .post(&chat)
            .header("host", host)
            .header("content-type", "text/plain")
            .body(chat_body("tool-request"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(seen_by_mock(&mock, "tool-request"), 2);

    // The user lets a browser-based client and a host name in.
    gw.change(&env, &["settings", "set", "allowed-origins", "https://app.example, http://localhost:5173/"]).await;
    gw.change(&env, &["settings", "set", "allowed-hosts", ".corp.example"]).await;
    let res = client
        .request(reqwest::Method::OPTIONS, &chat)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example");
    assert_eq!(res.headers()["access-control-allow-headers"], "content-type, authorization");
    let res = client
        .post(&chat)
        .header("origin", "http://localhost:5173")
        .header("content-type", "application/json")
        .body(chat_body("allowed-origin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "http://localhost:5173");
    let res = client
        .post(&chat)
        .header("host", "gw.corp.example")
        .header("content-type", "application/json")
        .body(chat_body("allowed-host"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .request(reqwest::Method::OPTIONS, &chat)
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let out = env.fails(&["settings", "set", "allowed-origins", "https://app.example/path"]);
    assert!(out.contains("scheme://host[:port]"), "{out}");
    assert_eq!(seen_by_mock(&mock, "allowed-origin") + seen_by_mock(&mock, "allowed-host"), 2);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_in_a_real_browser_cannot_use_the_gateway() {
    if let Err(why) = crate::dashboard_ui::browser_ready() {
        assert!(std::env::var_os("CI").is_none(), "CI must run the browser test: {why}");
        eprintln!("skipped: {why}");
        return;
    }
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    let (attacker, trusted) = (free_port(), free_port());
    env.ok(&["settings", "set", "allowed-origins", &format!("http://127.0.0.1:{trusted}")]);
    let gw = env.serve().await;
    let root = env!("CARGO_MANIFEST_DIR");
    let out = tokio::process::Command::new("node")
        .arg(format!("{root}/tests/ui/cross_site.mjs"))
        .env("SWITCHYARD_URL", &gw.url)
        .env("ATTACKER_PORT", attacker.to_string())
        .env("TRUSTED_PORT", trusted.to_string())
        .current_dir(root)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}\nserve log:\n{}", String::from_utf8_lossy(&out.stderr), gw.log());
    let result: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("a JSON line");
    eprintln!("cross-site browser test: {result}");
    // The trusted page read its answer through CORS; the rebound page was told why.
    assert_eq!(result["trusted"]["status"], 200, "{result}");
    assert!(result["trusted"]["text"].as_str().unwrap().contains("chat.completion"), "{result}");
    assert_eq!(result["rebound"]["post"], 403, "{result}");
    assert_eq!(result["rebound"]["get"], 403, "{result}");
    // The browser did send each attack (the gateway refused it), and the provider saw only
    // the trusted page's request.
    let refused = |code: &str| gw.log().matches(&format!("refused: {code}")).count();
    assert!(
        eventually(Duration::from_secs(5), || refused("origin_not_allowed") >= 3).await,
        "fetch, form and beacon not all refused:\n{}",
        gw.log()
    );
    assert!(refused("host_not_allowed") >= 2, "{}", gw.log());
    for attack in ["no-cors-fetch", "form-post", "beacon", "rebound-post"] {
        assert_eq!(seen_by_mock(&mock, attack), 0, "{attack} reached the provider");
    }
    assert_eq!(seen_by_mock(&mock, "trusted-page"), 1);
}
