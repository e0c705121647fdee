//! Gateway keys: required when the setting says so, always beyond loopback; hashed at rest;
//! revocation applies to a running gateway.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{http, Env};
use std::time::Duration;

async fn status_with(url: &str, header: Option<(&str, &str)>) -> (u16, serde_json::Value) {
    let mut req = http().post(url).json(&serde_json::json!({"model": "mock/m", "messages": []}));
    if let Some((k, v)) = header {
        req = req.header(k, v);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_key_is_checked_and_revocation_applies_live() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    env.ok(&["settings", "set", "require-key", "true"]);
    let key = env.ok(&["key", "create", "--name", "laptop"]).trim().to_string();
    assert!(key.starts_with("sk-sy-"), "{key}");
    let gw = env.serve().await;
    let url = gw.chat_url();

    let (s, v) = status_with(&url, None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("missing_api_key")));
    assert!(v["error"]["message"].as_str().unwrap().contains("switchyard key create"));
    let (s, v) = status_with(&url, Some(("authorization", "Bearer sk-sy-wrong"))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("invalid_api_key")));
    assert_eq!(status_with(&url, Some(("authorization", &format!("Bearer {key}")))).await.0, 200);
    assert_eq!(status_with(&url, Some(("x-api-key", &key))).await.0, 200);
    let models = http().get(format!("{}/v1/models", gw.url)).send().await.unwrap();
    assert_eq!(models.status(), 401, "the model list needs the key too");
    assert_eq!(mock.requests().len(), 2);
    assert!(
        mock.requests().iter().all(|r| !format!("{:?}", r.headers).contains(&key)),
        "the gateway key never reaches the provider"
    );

    let listed = env.ok(&["key", "list", "--json"]);
    assert!(!listed.contains(&key), "key list shows only a hint");
    let id = serde_json::from_str::<serde_json::Value>(&listed).unwrap()[0]["id"].as_i64().unwrap();
    env.ok(&["key", "revoke", &id.to_string()]);
    let header = format!("Bearer {key}");
    let mut revoked = false;
    for _ in 0..50 {
        if status_with(&url, Some(("authorization", &header))).await.0 == 401 {
            revoked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(revoked, "revocation did not reach the running gateway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_needed_on_loopback_by_default_but_always_beyond_it() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    let local = env.serve().await;
    assert_eq!(status_with(&local.chat_url(), None).await.0, 200);
    drop(local);

    let exposed = env.serve_with(&["--host", "0.0.0.0"]).await;
    let port = exposed.url.rsplit(':').next().unwrap().to_string();
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let (s, v) = status_with(&url, None).await;
    assert_eq!(s, 401, "{v}");
    assert!(exposed.log().contains("no gateway key"), "a warning says every request is refused: {}", exposed.log());
    let key = env.ok(&["key", "create"]).trim().to_string();
    let header = format!("Bearer {key}");
    let mut accepted = false;
    for _ in 0..50 {
        if status_with(&url, Some(("authorization", &header))).await.0 == 200 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(accepted, "a key created while serving works within a second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_budgets_and_limits_are_enforced_in_the_clients_shape() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    env.add_provider("other", &mock.base_url(), "k2", "m");
    env.ok(&["price", "set", "mock/m", "--input", "1000", "--output", "1000"]);
    let rpm = env.ok(&["key", "create", "--name", "rpm"]).trim().to_string();
    let scoped = env.ok(&["key", "create", "--name", "scoped"]).trim().to_string();
    let old = env.ok(&["key", "create", "--name", "old"]).trim().to_string();
    let thrifty = env.ok(&["key", "create", "--name", "thrifty"]).trim().to_string();
    env.ok(&["key", "set", "1", "--rpm", "2"]);
    env.ok(&["key", "set", "2", "--models", "mock/*"]);
    env.ok(&["key", "set", "3", "--expires", "2020-01-01"]);
    env.ok(&["key", "set", "4", "--budget-daily", "0.0001"]);
    assert!(env.fails(&["key", "set", "4", "--expires", "soon"]).contains("invalid --expires"));
    let gw = env.serve().await;
    let bearer = |k: &str| format!("Bearer {k}");

    assert_eq!(status_with(&gw.chat_url(), Some(("authorization", &bearer(&rpm)))).await.0, 200);
    assert_eq!(status_with(&gw.chat_url(), Some(("authorization", &bearer(&rpm)))).await.0, 200);
    let res = http()
        .post(gw.chat_url())
        .header("authorization", bearer(&rpm))
        .json(&serde_json::json!({"model": "mock/m", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let v: serde_json::Value = res.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("2 requests per minute"), "{v}");

    assert_eq!(status_with(&gw.chat_url(), Some(("authorization", &bearer(&scoped)))).await.0, 200);
    let res = http()
        .post(format!("{}/v1/messages", gw.url))
        .header("x-api-key", &scoped)
        .json(
            &serde_json::json!({"model": "other/m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["error"]["type"], "permission_error", "Anthropic's shape: {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("may not use model 'other/m'"), "{v}");

    let (s, v) = status_with(&gw.chat_url(), Some(("authorization", &bearer(&old)))).await;
    assert_eq!(s, 403);
    assert!(v["error"]["message"].as_str().unwrap().contains("expired"), "{v}");

    assert_eq!(
        status_with(&gw.chat_url(), Some(("authorization", &bearer(&thrifty)))).await.0,
        200,
        "nothing spent yet"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (s, v) = status_with(&gw.chat_url(), Some(("authorization", &bearer(&thrifty)))).await;
    assert_eq!(s, 403, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("daily budget"), "{v}");
    let keys = env.ok(&["key", "list", "--json"]);
    assert!(keys.contains("\"rpm\": 2") && keys.contains("\"budget_daily_usd\": 0.0001"), "{keys}");
}
