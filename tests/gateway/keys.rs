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
