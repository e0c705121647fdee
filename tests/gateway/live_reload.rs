//! Changes made with the CLI while `serve` runs take effect within a second, no restart.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{http, Env};
use std::time::{Duration, Instant};

async fn status_until(url: &str, model: &str, want: u16) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let res = http().post(url).json(&serde_json::json!({"model": model, "messages": []})).send().await.unwrap();
        if res.status().as_u16() == want {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_changes_reach_a_running_gateway_within_a_second() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    let gw = env.serve().await;
    let url = gw.chat_url();
    assert!(status_until(&url, "live/m", 404).await.is_some(), "unknown before it is added");

    env.add_provider("live", &mock.base_url(), "k", "m");
    let took = status_until(&url, "live/m", 200).await.expect("new provider never served");
    assert!(took < Duration::from_secs(1), "took {took:?}");

    let accounts: serde_json::Value = serde_json::from_str(&env.ok(&["account", "list", "--json"])).unwrap();
    let id = accounts[0]["id"].as_i64().unwrap().to_string();
    env.ok(&["account", "remove", &id]);
    let took = status_until(&url, "live/m", 503).await.expect("removed account still used");
    assert!(took < Duration::from_secs(1), "took {took:?}");

    env.ok(&["provider", "remove", "live"]);
    let took = status_until(&url, "live/m", 404).await.expect("removed provider still routed");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(gw.log().contains("configuration reloaded"));
}
