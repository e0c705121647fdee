//! The gateway benchmark: added latency and throughput of `switchyard serve` against calling
//! the same mock provider directly, plus RSS idle and under load and the time from start to
//! the first served request, the cost of translation, embeddings, and a synthesis combo. Runs
//! from the project alone:
//!
//!     cargo bench --bench gateway             # full run (about two minutes)
//!     cargo bench --bench gateway -- --quick  # a smoke run
//!
//! The mock provider (tests/common/mock.rs) and the load driver (below: one keep-alive
//! HTTP/1.1 connection per worker, each body read to its end) run in this process on one core's
//! worth of threads each; the gateway is the release binary in its own process. Direct (A) and
//! gateway (B) runs alternate, A B A B, and medians over rounds are reported, so slow drifts of
//! the machine cancel out.

#[path = "load.rs"]
mod load;
#[path = "../common/mock/mod.rs"]
mod mock;

use bytes::Bytes;
use load::{load, median, LoadResult};
use mock::{MockConfig, MockProvider};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
const CHUNKS: usize = 20;

fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

struct Gateway {
    child: tokio::process::Child,
    addr: SocketAddr,
}

fn cli(data_dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("SWITCHYARD_KEYCHAIN", "off")
        .output()
        .expect("run switchyard");
    assert!(out.status.success(), "switchyard {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

async fn start_gateway(data_dir: &std::path::Path) -> Gateway {
    let mut child = tokio::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--port", "0"])
        .env("SWITCHYARD_KEYCHAIN", "off")
        .env("SWITCHYARD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines.next_line().await.expect("read").expect("serve printed nothing");
    let addr = line.rsplit("http://").next().expect("url").parse().expect("addr");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Gateway { child, addr }
}

/// Time from spawning `serve` to the first answered chat completion, median of `runs`.
async fn startup_ms(data_dir: &std::path::Path, runs: usize) -> f64 {
    let first = body("instant/mock-model", false);
    let mut samples = Vec::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut gw = start_gateway(data_dir).await;
        let r = load(gw.addr, "/v1/chat/completions", first.clone(), "w19", 1, 1).await;
        assert_eq!(r.ok, 1, "first request failed");
        samples.push(t0.elapsed().as_secs_f64() * 1000.0);
        let _ = gw.child.kill().await;
    }
    median(samples)
}

struct Scenario {
    streaming: bool,
    /// Against the paced mock (20 ms to first byte, 1 ms between chunks) rather than the
    /// instant one.
    paced: bool,
    concurrency: usize,
    requests: usize,
}

fn body(model: &str, stream: bool) -> Bytes {
    Bytes::from(format!(
        r#"{{"model":"{model}","stream":{stream},"messages":[{{"role":"system","content":"You are a helpful coding assistant."}},{{"role":"user","content":"Write a haiku about gateways."}}],"max_tokens":64}}"#
    ))
}

fn anthropic_body(model: &str, stream: bool) -> Bytes {
    Bytes::from(format!(
        r#"{{"model":"{model}","stream":{stream},"max_tokens":64,"system":"You are a helpful coding assistant.","messages":[{{"role":"user","content":"Write a haiku about gateways."}}]}}"#
    ))
}

/// What translation costs: one client format against a same-format upstream (pass-through)
/// and against another format (translated), same mock, same answer.
async fn translation(gw: &Gateway, rounds: usize, requests: usize) {
    println!("| client → upstream | answer | pass-through p50 µs | translated p50 µs | translation adds p50 µs | pass-through p99 µs | translated p99 µs |");
    println!("|---|---|---|---|---|---|---|");
    for stream in [false, true] {
        let cases = [
            (
                "Anthropic → OpenAI",
                "/v1/messages",
                anthropic_body("instant-an/mock-model", stream),
                anthropic_body("instant/mock-model", stream),
                if stream { "message_stop" } else { "w19" },
            ),
            (
                "OpenAI → Anthropic",
                "/v1/chat/completions",
                body("instant/mock-model", stream),
                body("instant-an/mock-model", stream),
                if stream { "[DONE]" } else { "w19" },
            ),
        ];
        for (name, path, same, translated, expect) in cases {
            load(gw.addr, path, same.clone(), expect, 200, 1).await;
            load(gw.addr, path, translated.clone(), expect, 200, 1).await;
            let mut rows: Vec<[f64; 4]> = Vec::new();
            for _ in 0..rounds {
                let a = load(gw.addr, path, same.clone(), expect, requests, 1).await;
                let b = load(gw.addr, path, translated.clone(), expect, requests, 1).await;
                assert_eq!(a.errors + b.errors, 0, "{name}: errors");
                let q = |r: &LoadResult, q: f64| r.total_us.value_at_quantile(q) as f64;
                rows.push([q(&a, 0.5), q(&b, 0.5), q(&a, 0.99), q(&b, 0.99)]);
            }
            let m: Vec<f64> = (0..4).map(|i| median(rows.iter().map(|r| r[i]).collect())).collect();
            let answer = if stream { "stream, 20 chunks" } else { "JSON" };
            println!(
                "| {name} | {answer} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
                m[0],
                m[1],
                m[1] - m[0],
                m[2],
                m[3]
            );
        }
    }
}

/// Embeddings (16 texts a request) direct and through the gateway, and a synthesis combo
/// (two members and a judge, all the instant mock) against one plain request.
async fn embeddings_and_synthesis(gw: &Gateway, mock: &MockProvider, rounds: usize, requests: usize) {
    let texts: Vec<String> = (0..16).map(|i| format!("fn item_{i}() -> u32 {{ {i} }}")).collect();
    let embed = |model: &str| Bytes::from(serde_json::json!({"model": model, "input": texts}).to_string());
    println!("| request | c | direct p50 µs | gateway p50 µs | added p50 µs | direct p99 µs | gateway p99 µs | gateway req/s |");
    println!("|---|---|---|---|---|---|---|---|");
    for c in [1, 16] {
        let (direct, through) = (embed("mock-embed"), embed("instant/mock-embed"));
        load(mock.addr, "/v1/embeddings", direct.clone(), "embedding", 200, c).await;
        load(gw.addr, "/v1/embeddings", through.clone(), "embedding", 200, c).await;
        let mut rows: Vec<[f64; 5]> = Vec::new();
        for _ in 0..rounds {
            let d = load(mock.addr, "/v1/embeddings", direct.clone(), "embedding", requests, c).await;
            let g = load(gw.addr, "/v1/embeddings", through.clone(), "embedding", requests, c).await;
            assert_eq!(d.errors + g.errors, 0, "embeddings: errors");
            let q = |r: &LoadResult, q: f64| r.total_us.value_at_quantile(q) as f64;
            rows.push([q(&d, 0.5), q(&g, 0.5), q(&d, 0.99), q(&g, 0.99), g.rps()]);
        }
        let m: Vec<f64> = (0..5).map(|i| median(rows.iter().map(|r| r[i]).collect())).collect();
        println!(
            "| embeddings, 16 texts | {c} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
            m[0],
            m[1],
            m[1] - m[0],
            m[2],
            m[3],
            m[4]
        );
    }
    let (single, synth) = (body("instant/mock-model", false), body("bench-trio", false));
    load(gw.addr, "/v1/chat/completions", synth.clone(), "w19", 50, 1).await;
    let mut rows: Vec<[f64; 2]> = Vec::new();
    for _ in 0..rounds {
        let a = load(gw.addr, "/v1/chat/completions", single.clone(), "w19", requests / 4, 1).await;
        let b = load(gw.addr, "/v1/chat/completions", synth.clone(), "w19", requests / 4, 1).await;
        assert_eq!(a.errors + b.errors, 0, "synthesis: errors");
        rows.push([a.total_us.value_at_quantile(0.5) as f64, b.total_us.value_at_quantile(0.5) as f64]);
    }
    let m: Vec<f64> = (0..2).map(|i| median(rows.iter().map(|r| r[i]).collect())).collect();
    println!(
        "| synthesis: 2 members + judge vs one request (gateway p50 µs) | 1 | {:.0} | {:.0} | {:.0} | | | |",
        m[0],
        m[1],
        m[1] - m[0]
    );
}

/// What `usage-durability strict` costs: each answer ends only once its record is committed
/// and synced (group commit across concurrent requests), against the default batched writer.
async fn durability(gw: &Gateway, mock: &MockProvider, data_dir: &std::path::Path, rounds: usize, requests: usize) {
    println!("| usage-durability | c | gateway p50 µs | gateway p99 µs | added p50 µs vs direct | gateway req/s |");
    println!("|---|---|---|---|---|---|");
    let gw_body = body("instant/mock-model", false);
    let direct_body = body("mock-model", false);
    for mode in ["batched", "strict"] {
        cli(data_dir, &["settings", "set", "usage-durability", mode]);
        // The gateway reloads its configuration within 250 ms.
        tokio::time::sleep(Duration::from_millis(600)).await;
        for c in [1, 16] {
            load(gw.addr, "/v1/chat/completions", gw_body.clone(), "w19", 100, c).await;
            let mut rows = Vec::new();
            for _ in 0..rounds {
                let d = load(mock.addr, "/v1/chat/completions", direct_body.clone(), "w19", requests, c).await;
                let g = load(gw.addr, "/v1/chat/completions", gw_body.clone(), "w19", requests, c).await;
                let p50 = g.total_us.value_at_quantile(0.5) as f64;
                rows.push([
                    p50,
                    g.total_us.value_at_quantile(0.99) as f64,
                    p50 - d.total_us.value_at_quantile(0.5) as f64,
                    g.rps(),
                ]);
            }
            let m: Vec<f64> = (0..4).map(|i| median(rows.iter().map(|r| r[i]).collect())).collect();
            println!("| {mode} | {c} | {:.0} | {:.0} | {:.0} | {:.0} |", m[0], m[1], m[2], m[3]);
        }
    }
    cli(data_dir, &["settings", "set", "usage-durability", "batched"]);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 1 } else { 3 };
    let scale = if quick { 10 } else { 1 };
    // The mocks and the driver each get one worker thread: on a 2-core machine they share the
    // CPU with the gateway, so the instant-mock numbers are bounded by the machine.
    let mock_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("mock runtime");
    let instant =
        mock_rt.block_on(MockProvider::start(MockConfig { chunks: CHUNKS, record: false, ..Default::default() }));
    let paced = mock_rt.block_on(MockProvider::start(MockConfig {
        chunks: CHUNKS,
        record: false,
        first_byte_delay: Duration::from_millis(20),
        chunk_delay: Duration::from_millis(1),
    }));
    let driver =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("driver runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    for (id, mock) in [("instant", &instant), ("paced", &paced)] {
        let base = mock.base_url();
        let args = [
            "provider",
            "add",
            id,
            "--kind",
            "openai",
            "--base-url",
            &base,
            "--models",
            "mock-model",
            "--api-key",
            "bench-key",
        ];
        cli(&data_dir, &args);
    }
    let root = instant.root_url();
    let args = [
        "provider",
        "add",
        "instant-an",
        "--kind",
        "anthropic",
        "--base-url",
        &root,
        "--models",
        "mock-model",
        "--api-key",
        "bench-key",
    ];
    cli(&data_dir, &args);
    let synthesis = [
        "combo",
        "set",
        "bench-trio",
        "instant/mock-model",
        "instant-an/mock-model",
        "--strategy",
        "synthesize",
        "--judge",
        "instant/mock-model",
    ];
    cli(&data_dir, &synthesis);

    driver.block_on(async {
        let startup = startup_ms(&data_dir, if quick { 3 } else { 11 }).await;
        let mut gw = start_gateway(&data_dir).await;
        let pid = gw.child.id().expect("pid");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle_rss = rss_kb(pid, "VmRSS:");

        let scenarios = [
            Scenario { streaming: false, paced: false, concurrency: 1, requests: 3000 / scale },
            Scenario { streaming: true, paced: false, concurrency: 1, requests: 2000 / scale },
            Scenario { streaming: false, paced: false, concurrency: 64, requests: 30000 / scale },
            Scenario { streaming: true, paced: false, concurrency: 64, requests: 15000 / scale },
            Scenario { streaming: false, paced: true, concurrency: 64, requests: 6000 / scale },
            Scenario { streaming: true, paced: true, concurrency: 64, requests: 3000 / scale },
        ];
        println!("| upstream | answer | c | direct p50 µs | gateway p50 µs | added p50 µs | direct p99 µs | gateway p99 µs | added p99 µs | added TTFB p50 µs | direct req/s | gateway req/s | ratio | errors |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        let mut peak_rss = 0;
        for s in scenarios {
            let (mock, provider) = if s.paced { (&paced, "paced") } else { (&instant, "instant") };
            let gw_body = body(&format!("{provider}/mock-model"), s.streaming);
            let direct_body = body("mock-model", s.streaming);
            let expect = if s.streaming { "[DONE]" } else { "w19" };
            // Warm both paths (connection pools, allocator).
            load(mock.addr, "/v1/chat/completions", direct_body.clone(), expect, 200, s.concurrency.min(16)).await;
            load(gw.addr, "/v1/chat/completions", gw_body.clone(), expect, 200, s.concurrency.min(16)).await;
            let mut rows: Vec<[f64; 10]> = Vec::new();
            let mut errors = 0;
            for _ in 0..rounds {
                let d = load(mock.addr, "/v1/chat/completions", direct_body.clone(), expect, s.requests, s.concurrency).await;
                let g = load(gw.addr, "/v1/chat/completions", gw_body.clone(), expect, s.requests, s.concurrency).await;
                peak_rss = peak_rss.max(rss_kb(pid, "VmHWM:"));
                errors += d.errors + g.errors;
                let q = |r: &LoadResult, q: f64| r.total_us.value_at_quantile(q) as f64;
                rows.push([
                    q(&d, 0.5),
                    q(&g, 0.5),
                    q(&g, 0.5) - q(&d, 0.5),
                    q(&d, 0.99),
                    q(&g, 0.99),
                    q(&g, 0.99) - q(&d, 0.99),
                    g.ttfb_us.value_at_quantile(0.5) as f64 - d.ttfb_us.value_at_quantile(0.5) as f64,
                    d.rps(),
                    g.rps(),
                    g.rps() / d.rps(),
                ]);
            }
            let m: Vec<f64> = (0..10).map(|i| median(rows.iter().map(|r| r[i]).collect())).collect();
            println!(
                "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {} |",
                if s.paced { "paced (20 ms TTFB)" } else { "instant" },
                if s.streaming { "stream, 20 chunks" } else { "JSON" },
                s.concurrency, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], errors
            );
        }
        println!();
        translation(&gw, rounds, 2000 / scale).await;
        println!();
        embeddings_and_synthesis(&gw, &instant, rounds, 2000 / scale).await;
        println!();
        durability(&gw, &instant, &data_dir, rounds, 2000 / scale).await;
        println!();
        println!("gateway RSS idle: {:.1} MB; peak under load: {:.1} MB", idle_rss as f64 / 1024.0, peak_rss as f64 / 1024.0);
        println!("start to first served request: {startup:.1} ms (median)");
        println!("rounds: {rounds}; machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
        let _ = gw.child.kill().await;
    });
    drop((instant, paced));
}
