//! Connections a client cannot hold forever (issue 27): half-sent requests (slowloris), a
//! trickle of header bytes and silent connections are closed after the header and idle
//! timeouts while real requests are served and a long stream is never cut; beyond
//! `max-connections` and `max-in-flight` a client gets a 503 with `retry-after` in its API's
//! shape.

use crate::common::mock::{full_answer, MockConfig, MockProvider};
use crate::common::{eventually, http, Env};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr_of(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// Waits until the server closes `conn` (EOF or reset), up to `within`; how long it took.
async fn closed_within(conn: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((started + within).into(), conn.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_and_silent_connections_are_closed_while_real_requests_are_served() {
    let mock =
        MockProvider::start(MockConfig { chunks: 10, chunk_delay: Duration::from_millis(500), ..Default::default() })
            .await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    env.ok(&["settings", "set", "header-timeout-secs", "2"]);
    env.ok(&["settings", "set", "idle-timeout-secs", "3"]);
    let gw = env.serve().await;
    let addr = addr_of(&gw.url);
    let fds_before = open_fds(gw.pid());

    // A stream that lasts 5 s, longer than both timeouts.
    let stream = tokio::spawn({
        let url = gw.chat_url();
        async move {
            let res = http()
                .post(url)
                .json(&json!({"model": "mock/m", "stream": true, "messages": [{"role": "user", "content": "long"}]}))
                .send()
                .await
                .unwrap();
            let mut body = res.bytes_stream();
            let mut text = String::new();
            while let Some(chunk) = body.next().await {
                text.push_str(&String::from_utf8_lossy(&chunk.expect("the stream was cut")));
            }
            text
        }
    });

    // 300 half-sent request heads, 100 silent connections, 20 that trickle a byte every 300 ms.
    let mut half_sent = Vec::new();
    for _ in 0..300 {
        let mut conn = TcpStream::connect(&addr).await.unwrap();
        conn.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty").await.unwrap();
        half_sent.push(conn);
    }
    let mut silent = Vec::new();
    for _ in 0..100 {
        silent.push(TcpStream::connect(&addr).await.unwrap());
    }
    let mut tricklers = Vec::new();
    for _ in 0..20 {
        let addr = addr.clone();
        tricklers.push(tokio::spawn(async move {
            let mut conn = TcpStream::connect(&addr).await.unwrap();
            let started = Instant::now();
            for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
                if conn.write_all(&[*byte]).await.is_err() {
                    return started.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Duration::MAX
        }));
    }
    let pid = gw.pid();
    assert!(
        eventually(Duration::from_secs(3), || open_fds(pid) >= fds_before + 400).await,
        "the connections were accepted"
    );

    // Real requests are served meanwhile.
    let client = http();
    for i in 0..5 {
        let res = client
            .post(gw.chat_url())
            .json(&json!({"model": "mock/m", "messages": [{"role": "user", "content": format!("real {i}")}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }

    let mut closed_after = Vec::new();
    for conn in half_sent.iter_mut() {
        closed_after
            .push(closed_within(conn, Duration::from_secs(6)).await.expect("a half-sent request was kept open"));
    }
    for conn in silent.iter_mut() {
        closed_within(conn, Duration::from_secs(6)).await.expect("a silent connection was kept open");
    }
    for trickler in tricklers {
        let cut = trickler.await.unwrap();
        assert!(cut < Duration::from_secs(5), "a trickled request head was kept open for {cut:?}");
    }
    let text = stream.await.unwrap();
    let content: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(String::from))
        .collect();
    assert_eq!(content, full_answer(10), "the long stream arrived whole");
    let slowest = closed_after.iter().max().unwrap();
    eprintln!("slowloris: 300 half-sent requests closed within {slowest:?} (header-timeout-secs 2)");
    assert!(open_fds(gw.pid()) <= fds_before + 10, "descriptors released: {} vs {fds_before}", open_fds(gw.pid()));

    // A keep-alive connection is idle after its answer: closed after idle-timeout-secs.
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 512];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle =
        closed_within(&mut conn, Duration::from_secs(8)).await.expect("an idle keep-alive connection stayed open");
    assert!(idle >= Duration::from_millis(1500), "closed too early: {idle:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_gets_a_408_and_the_connection_ends() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    env.ok(&["settings", "set", "header-timeout-secs", "2"]);
    let gw = env.serve().await;
    // The dashboard's login route, which needs no session, bounds its body too.
    let login = tokio::spawn({
        let addr = addr_of(&gw.url);
        async move {
            let mut conn = TcpStream::connect(addr).await.unwrap();
            conn.write_all(b"POST /api/session/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"pass").await.unwrap();
            let mut answer = Vec::new();
            tokio::time::timeout(Duration::from_secs(25), conn.read_to_end(&mut answer))
                .await
                .expect("answered")
                .unwrap();
            String::from_utf8_lossy(&answer).into_owned()
        }
    });
    let mut conn = TcpStream::connect(addr_of(&gw.url)).await.unwrap();
    // The head whole, then 10 of the 100 bytes announced, then nothing (a slow POST).
    conn.write_all(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(8), conn.read_to_end(&mut answer))
        .await
        .expect("answered and closed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout") && answer.contains("header-timeout-secs"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(mock.requests().len(), 0);
    let login = login.await.unwrap();
    assert!(login.starts_with("HTTP/1.1 408") && login.contains("request_timeout"), "{login}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_caps_clients_get_a_503_in_their_shape() {
    let mock =
        MockProvider::start(MockConfig { chunks: 6, chunk_delay: Duration::from_millis(300), ..Default::default() })
            .await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    env.ok(&["settings", "set", "max-in-flight", "1"]);
    env.ok(&["settings", "set", "max-connections", "8"]);
    let gw = env.serve().await;
    let addr = addr_of(&gw.url);

    // One stream in flight fills max-in-flight 1: the next request is told to retry.
    let res = http()
        .post(gw.chat_url())
        .json(&json!({"model": "mock/m", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let res = http()
        .post(format!("{}/v1/messages", gw.url))
        .json(&json!({"model": "mock/m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "error", "Anthropic's shape: {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("max-in-flight"), "{body}");
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.expect("the stream in flight is never cut")));
    }
    assert!(text.trim_end().ends_with("data: [DONE]"));
    let res = http().post(gw.chat_url()).json(&json!({"model": "mock/m", "messages": []})).send().await.unwrap();
    assert_eq!(res.status(), 200, "its place is free again once the stream ended");

    // Eight open connections fill max-connections 8: a ninth gets a 503 and is closed.
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ninth = TcpStream::connect(&addr).await.unwrap();
    ninth
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), ninth.read_to_end(&mut answer))
        .await
        .expect("answered and closed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("max-connections") && answer.contains("\"error\""), "{answer}");
    drop(held);
    let reopened = async {
        loop {
            let res = http().get(format!("{}/health", gw.url)).send().await.unwrap();
            if res.status() == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), reopened).await.expect("served again once connections closed");
}
