//! Usage records when the process dies (issue 27): `serve` under load is killed with SIGKILL
//! and the records on disk are compared with the answers clients received in full. Batched
//! (the default) loses at most what the writer held: answers of the last moments before the
//! kill; `usage-durability strict` loses none, as each record is committed before its
//! answer's last byte. Each request is told apart by its user agent (the record's tool).

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::Env;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Killed {
    answered: usize,
    lost: usize,
    /// How long before the kill the oldest lost answer had arrived.
    oldest_lost: Duration,
    secs: f64,
}

async fn kill_under_load(strict: bool) -> Killed {
    let mock = MockProvider::start(MockConfig { record: false, ..Default::default() }).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "m");
    if strict {
        env.ok(&["settings", "set", "usage-durability", "strict"]);
    }
    let mut gw = env.serve().await;
    let answered: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (answered, stop, next, url) = (answered.clone(), stop.clone(), next.clone(), gw.chat_url());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
            while !stop.load(Ordering::Relaxed) {
                let id = format!("req-{}", next.fetch_add(1, Ordering::Relaxed));
                let sent = client
                    .post(&url)
                    .header("user-agent", format!("{id}/1"))
                    .json(&json!({"model": "mock/m", "messages": [{"role": "user", "content": "hi"}]}))
                    .send()
                    .await;
                let Ok(res) = sent else { return };
                if res.status() != 200 {
                    return;
                }
                // Only an answer received whole counts as served.
                if res.bytes().await.is_ok() {
                    answered.lock().unwrap().push((id, Instant::now()));
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    gw.signal(libc::SIGKILL);
    let killed_at = Instant::now();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }
    gw.wait_exit(Duration::from_secs(10)).await;

    let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "1000000", "--json"])).unwrap();
    let recorded: HashSet<String> =
        log.as_array().unwrap().iter().filter_map(|r| r["tool"].as_str().map(String::from)).collect();
    let answered = answered.lock().unwrap().clone();
    let lost: Vec<&(String, Instant)> = answered.iter().filter(|(id, _)| !recorded.contains(id)).collect();
    let oldest_lost = lost.iter().map(|(_, at)| killed_at.saturating_duration_since(*at)).max().unwrap_or_default();
    Killed { answered: answered.len(), lost: lost.len(), oldest_lost, secs: (killed_at - started).as_secs_f64() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_at_most_what_the_writer_held_and_strict_loses_nothing() {
    let batched = kill_under_load(false).await;
    let rate = batched.answered as f64 / batched.secs;
    eprintln!(
        "SIGKILL, batched: {} answers in {:.1} s ({rate:.0}/s), {} records lost ({:.3} s of traffic), the oldest answered {:?} before the kill",
        batched.answered,
        batched.secs,
        batched.lost,
        batched.lost as f64 / rate,
        batched.oldest_lost
    );
    assert!(batched.answered > 50, "the load did not run: {} answers", batched.answered);
    assert!(
        batched.oldest_lost < Duration::from_secs(1),
        "a record lost was answered {:?} before the kill: more than the writer holds",
        batched.oldest_lost
    );

    let strict = kill_under_load(true).await;
    eprintln!(
        "SIGKILL, strict: {} answers in {:.1} s ({:.0}/s), {} records lost",
        strict.answered,
        strict.secs,
        strict.answered as f64 / strict.secs,
        strict.lost
    );
    assert!(strict.answered > 20, "the load did not run: {} answers", strict.answered);
    assert_eq!(strict.lost, 0, "strict durability lost records of answers received whole");
}
