//! The usage analytics benchmark: a store of one million generated records over 30 days, then
//! the queries behind `usage summary`, `usage series`, `usage log` and budget checks, timed.
//!
//!     cargo bench --bench usage            # one million records (about a minute to generate)
//!     cargo bench --bench usage -- --quick # 100 000

use std::time::{Duration, Instant, SystemTime};
use switchyard::formats::ir::Usage;
use switchyard::store::{usage, Store};
use switchyard::usage::{Outcome, UsageRecord};

fn record(i: u64, now_ms: i64) -> UsageRecord {
    let span = 30 * 86_400_000i64;
    UsageRecord {
        ts_ms: now_ms - (i as i64 * 7919) % span,
        key_id: Some((i % 50) as i64),
        tool: ["claude-code", "codex", "gemini-cli", "opencode", "openai-python"][(i % 5) as usize].into(),
        inbound: "openai".into(),
        requested_model: format!("p{}/model-{}", i % 10, i % 20),
        provider: Some(format!("p{}", i % 10)),
        account_id: Some((i % 100) as i64),
        model: Some(format!("model-{}", i % 20)),
        attempts: vec![],
        stream: i.is_multiple_of(2),
        status: if i.is_multiple_of(50) { 429 } else { 200 },
        outcome: if i.is_multiple_of(50) { Outcome::Error } else { Outcome::Ok },
        latency_ms: (i % 5000) as i64,
        ttft_ms: Some((i % 900) as i64),
        usage: Usage {
            input: 1000 + i % 4000,
            output: 100 + i % 900,
            cache_read: i % 500,
            cache_write: 0,
            reasoning: i % 100,
        },
        usage_reported: true,
        usage_estimated: false,
        chosen: None,
        cost_usd: 0.001 * (i % 10) as f64,
        priced: true,
        tokens_saved: i % 3000,
        group_id: None,
        api_equivalent_usd: 0.0,
        subscription: false,
        part: None,
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: u64 = if quick { 100_000 } else { 1_000_000 };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).await.expect("store");
        let now_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as i64;
        let started = Instant::now();
        let mut batch = Vec::with_capacity(5000);
        for i in 0..n {
            batch.push(record(i, now_ms));
            if batch.len() == 5000 {
                usage::insert(&store, &batch, false).await.expect("insert");
                batch.clear();
            }
        }
        usage::insert(&store, &batch, false).await.expect("insert");
        println!("generated {n} records in {:.1} s", started.elapsed().as_secs_f64());
        println!();
        println!("| query | median ms | max ms |");
        println!("|---|---|---|");
        let day = 86_400_000i64;
        type Query<'a> =
            (&'a str, Box<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + 'a>> + 'a>);
        let s = &store;
        let queries: Vec<Query> = vec![
            (
                "summary 24h by model",
                Box::new(move || {
                    Box::pin(async move { usage::summary(s, now_ms - day, "model").await.unwrap().len() })
                }),
            ),
            (
                "summary 7d by provider",
                Box::new(move || {
                    Box::pin(async move { usage::summary(s, now_ms - 7 * day, "provider").await.unwrap().len() })
                }),
            ),
            (
                "summary 30d by key",
                Box::new(move || {
                    Box::pin(async move { usage::summary(s, now_ms - 30 * day, "key_id").await.unwrap().len() })
                }),
            ),
            (
                "summary 30d by tool",
                Box::new(move || {
                    Box::pin(async move { usage::summary(s, now_ms - 30 * day, "tool").await.unwrap().len() })
                }),
            ),
            (
                "series 30d per day by provider",
                Box::new(move || {
                    Box::pin(async move { usage::series(s, now_ms - 30 * day, day, "provider").await.unwrap().len() })
                }),
            ),
            (
                "series 7d per hour by model",
                Box::new(move || {
                    Box::pin(async move { usage::series(s, now_ms - 7 * day, 3_600_000, "model").await.unwrap().len() })
                }),
            ),
            ("log: newest 100", Box::new(move || Box::pin(async move { usage::recent(s, 100).await.unwrap().len() }))),
            (
                "a key's spend this month",
                Box::new(move || {
                    Box::pin(async move { usage::spend_since(s, 7, now_ms - 30 * day).await.unwrap() as usize })
                }),
            ),
        ];
        for (name, query) in &queries {
            let mut times = Vec::new();
            for _ in 0..7 {
                let t0 = Instant::now();
                std::hint::black_box(query().await);
                times.push(t0.elapsed());
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!("| {name} | {:.1} | {:.1} |", ms(times[3]), ms(times[6]));
        }
    });
}
