//! A client that goes away mid-stream cancels the upstream request: the provider's stream is
//! dropped, not run to its end.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{eventually, http, Env};
use futures_util::StreamExt;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_disconnect_closes_the_upstream_stream() {
    let mock =
        MockProvider::start(MockConfig { chunks: 40, chunk_delay: Duration::from_millis(100), ..Default::default() })
            .await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    let gw = env.serve().await;

    let res = http()
        .post(gw.chat_url())
        .json(&serde_json::json!({"model": "mock/m", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    let mut stream = res.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("data: "));
    drop(stream);

    let cut = eventually(Duration::from_secs(2), || mock.counter(|c| &c.streams_cut) == 1).await;
    assert!(cut, "the upstream stream was not closed after the client left");
    assert_eq!(mock.counter(|c| &c.streams_completed), 0, "the upstream ran to its end");

    // The gateway is fine afterwards.
    let res =
        http().post(gw.chat_url()).json(&serde_json::json!({"model": "mock/m", "messages": []})).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
