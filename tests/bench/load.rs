//! The benchmarks' load driver: `n` requests over `c` keep-alive HTTP/1.1 connections, each
//! answer read to its end and checked, with histograms of total latency and time to first
//! byte. Shared by the gateway and fleet benchmarks.

#![allow(dead_code)]

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct LoadResult {
    pub ok: usize,
    pub errors: usize,
    pub elapsed: Duration,
    pub total_us: Histogram<u64>,
    /// Time to the first body bytes.
    pub ttfb_us: Histogram<u64>,
}

impl LoadResult {
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Sends `n` requests over `c` keep-alive connections and records each one's total latency.
pub async fn load(addr: SocketAddr, path: &str, body: Bytes, expect: &'static str, n: usize, c: usize) -> LoadResult {
    load_keyed(addr, path, body, expect, n, c, None).await
}

/// `load` with a gateway key on every request.
pub async fn load_keyed(
    addr: SocketAddr,
    path: &str,
    body: Bytes,
    expect: &'static str,
    n: usize,
    c: usize,
    key: Option<&str>,
) -> LoadResult {
    let bearer: Option<Arc<str>> = key.map(|k| Arc::from(format!("Bearer {k}")));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    let path: Arc<str> = Arc::from(path);
    for _ in 0..c {
        let next = next.clone();
        let path = path.clone();
        let body = body.clone();
        let bearer = bearer.clone();
        workers.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let mut ttfb = hist.clone();
            let (mut ok, mut errors) = (0usize, 0usize);
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
            tokio::spawn(conn);
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let mut req = hyper::Request::post(&*path)
                    .header("host", addr.to_string())
                    .header("content-type", "application/json");
                if let Some(bearer) = &bearer {
                    req = req.header("authorization", &**bearer);
                }
                let req = req.body(Full::new(body.clone())).expect("request");
                let t0 = Instant::now();
                let Ok(res) = sender.send_request(req).await else {
                    errors += 1;
                    break;
                };
                let status = res.status();
                let mut body = res.into_body();
                let mut bytes = Vec::new();
                let mut first_bytes = None;
                let mut broken = false;
                while let Some(frame) = body.frame().await {
                    let Ok(frame) = frame else {
                        broken = true;
                        break;
                    };
                    if let Some(data) = frame.data_ref() {
                        if first_bytes.is_none() && !data.is_empty() {
                            first_bytes = Some(t0.elapsed());
                        }
                        bytes.extend_from_slice(data);
                    }
                }
                if broken {
                    errors += 1;
                    break;
                }
                let elapsed = t0.elapsed();
                if status.is_success() && bytes.windows(expect.len()).any(|w| w == expect.as_bytes()) {
                    ok += 1;
                    hist.record(elapsed.as_micros().max(1) as u64).ok();
                    ttfb.record(first_bytes.unwrap_or(elapsed).as_micros().max(1) as u64).ok();
                } else {
                    errors += 1;
                }
            }
            (hist, ttfb, ok, errors)
        }));
    }
    let mut total_us = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut ttfb_us = total_us.clone();
    let (mut ok, mut errors) = (0, 0);
    for w in workers {
        let (h, t, o, e) = w.await.expect("worker");
        total_us.add(h).expect("merge");
        ttfb_us.add(t).expect("merge");
        ok += o;
        errors += e;
    }
    LoadResult { ok, errors, elapsed: started.elapsed(), total_us, ttfb_us }
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
