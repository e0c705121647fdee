//! SIGTERM and SIGINT stop `serve` gracefully: a stream in flight finishes, then the process
//! exits 0.

use crate::common::mock::{full_answer, MockConfig, MockProvider};
use crate::common::{http, Env};
use futures_util::StreamExt;
use std::time::Duration;

async fn in_flight_stream_survives(signal: i32) {
    let mock =
        MockProvider::start(MockConfig { chunks: 8, chunk_delay: Duration::from_millis(150), ..Default::default() })
            .await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    let mut gw = env.serve().await;

    let res = http()
        .post(gw.chat_url())
        .json(&serde_json::json!({"model": "mock/m", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    let mut stream = res.bytes_stream();
    let mut text = String::from_utf8_lossy(&stream.next().await.unwrap().unwrap()).to_string();
    gw.signal(signal);
    while let Some(chunk) = stream.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.expect("stream cut by shutdown")));
    }
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let content: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(String::from))
        .collect();
    assert_eq!(content, full_answer(8));
    let status = gw.wait_exit(Duration::from_secs(10)).await;
    assert!(status.success(), "exit {status:?}; log:\n{}", gw.log());
    assert!(gw.log().contains("shutting down"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_streams_finish() {
    in_flight_stream_survives(libc::SIGTERM).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_lets_in_flight_streams_finish() {
    in_flight_stream_survives(libc::SIGINT).await;
}
