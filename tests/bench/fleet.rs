//! The team-mode benchmark: what PostgreSQL costs against SQLite on one gateway, and what three
//! gateways on one PostgreSQL database serve against one, at 64 concurrent requests. Runs from
//! the project alone (a private PostgreSQL cluster is started, as in the tests):
//!
//!     cargo bench --bench fleet             # full run
//!     cargo bench --bench fleet -- --quick  # a smoke run
//!
//! Chat completions, JSON answers, against the instant mock provider in this process (so the
//! figures are the gateway's own work, and on a 2-core machine the load driver, the mock,
//! PostgreSQL and the gateways share the cores). "keyed rpm" sends every request with a
//! gateway key that has an rpm limit: on PostgreSQL each request is then counted in the
//! database (the fleet-wide limit's cost).

#[path = "load.rs"]
mod load;
#[path = "../common/mock/mod.rs"]
mod mock;
#[path = "../common/postgres.rs"]
mod postgres;

use bytes::Bytes;
use load::{load_keyed, median, LoadResult};
use mock::{MockConfig, MockProvider};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
const BODY: &str = r#"{"model":"instant/mock-model","messages":[{"role":"user","content":"hi"}]}"#;

/// Where a gateway's store is: its data dir, and a database URL with the master key.
struct StoreAt {
    data_dir: PathBuf,
    database: Option<(String, PathBuf)>,
}

impl StoreAt {
    fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(BIN);
        cmd.arg("--data-dir").arg(&self.data_dir).env("SWITCHYARD_KEYCHAIN", "off");
        if let Some((url, key)) = &self.database {
            cmd.env("SWITCHYARD_DATABASE_URL", url).env("SWITCHYARD_MASTER_KEY_FILE", key);
        }
        cmd
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("run switchyard");
        assert!(out.status.success(), "switchyard {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    async fn serve(&self) -> (tokio::process::Child, SocketAddr) {
        let mut cmd = tokio::process::Command::from(self.command());
        cmd.args(["serve", "--port", "0"]).env("SWITCHYARD_LOG", "warn");
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true).spawn().expect("serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = lines.next_line().await.expect("read").expect("serve printed nothing");
        let addr = line.rsplit("http://").next().expect("url").parse().expect("addr");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        (child, addr)
    }
}

/// Configures a store: the mock provider, a gateway key with an rpm limit far above the load.
fn configure(at: &StoreAt, mock: &MockProvider) -> String {
    at.cli(&[
        "provider",
        "add",
        "instant",
        "--kind",
        "openai",
        "--base-url",
        &mock.base_url(),
        "--models",
        "mock-model",
        "--api-key",
        "k",
    ]);
    let key = at.cli(&["key", "create", "--name", "bench"]);
    at.cli(&["key", "set", "1", "--rpm", "10000000"]);
    key
}

struct Row {
    label: String,
    c: usize,
    p50_us: f64,
    p99_us: f64,
    rps: f64,
}

/// Runs `rounds` of `n` requests at concurrency `c` spread over `gateways`; medians.
async fn measure(label: &str, gateways: &[SocketAddr], key: Option<&str>, n: usize, c: usize, rounds: usize) -> Row {
    let (mut p50, mut p99, mut rps) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let per = c.div_ceil(gateways.len());
        let runs = gateways.iter().map(|addr| {
            load_keyed(
                *addr,
                "/v1/chat/completions",
                Bytes::from_static(BODY.as_bytes()),
                "mock-model",
                n / gateways.len(),
                per,
                key,
            )
        });
        let results: Vec<LoadResult> = futures_util::future::join_all(runs).await;
        let mut all = results[0].total_us.clone();
        for r in &results[1..] {
            all.add(&r.total_us).expect("merge");
        }
        let errors: usize = results.iter().map(|r| r.errors).sum();
        assert_eq!(errors, 0, "{label}: every request must succeed");
        let elapsed = results.iter().map(|r| r.elapsed).max().unwrap_or_default();
        let ok: usize = results.iter().map(|r| r.ok).sum();
        p50.push(all.value_at_quantile(0.5) as f64);
        p99.push(all.value_at_quantile(0.99) as f64);
        rps.push(ok as f64 / elapsed.as_secs_f64());
    }
    Row { label: label.to_string(), c, p50_us: median(p50), p99_us: median(p99), rps: median(rps) }
}

fn key_file(dir: &Path) -> PathBuf {
    let path = dir.join("fleet.key");
    let out = std::process::Command::new(BIN).args(["master-key", "new"]).arg(&path).output().expect("master-key");
    assert!(out.status.success());
    path
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (n1, n64, rounds) = if quick { (200, 1000, 1) } else { (2000, 12000, 3) };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let mock = MockProvider::start(MockConfig::default()).await;
        let pg = postgres::Postgres::start();
        let dir = tempfile::tempdir().expect("temp dir");
        let master = key_file(dir.path());
        let sqlite = StoreAt { data_dir: dir.path().join("sqlite"), database: None };
        let shared =
            |name: &str| StoreAt { data_dir: dir.path().join(name), database: Some((pg.url("fleet"), master.clone())) };
        pg.database("fleet");
        let sqlite_key = configure(&sqlite, &mock);
        let fleet_key = configure(&shared("pg-0"), &mock);

        let mut rows = Vec::new();
        let direct = mock.addr;
        rows.push(measure("direct to the mock", &[direct], None, n1, 1, rounds).await);
        rows.push(measure("direct to the mock", &[direct], None, n64, 64, rounds).await);
        {
            let (_child, addr) = sqlite.serve().await;
            rows.push(measure("1 gateway, SQLite", &[addr], None, n1, 1, rounds).await);
            rows.push(measure("1 gateway, SQLite", &[addr], None, n64, 64, rounds).await);
            rows.push(measure("1 gateway, SQLite, keyed rpm", &[addr], Some(&sqlite_key), n64, 64, rounds).await);
        }
        let mut fleet = Vec::new();
        for i in 0..3 {
            fleet.push(shared(&format!("pg-{i}")).serve().await);
        }
        let addrs: Vec<SocketAddr> = fleet.iter().map(|(_, a)| *a).collect();
        rows.push(measure("1 gateway, PostgreSQL", &addrs[..1], None, n1, 1, rounds).await);
        rows.push(measure("1 gateway, PostgreSQL", &addrs[..1], None, n64, 64, rounds).await);
        rows.push(measure("1 gateway, PostgreSQL, keyed rpm", &addrs[..1], Some(&fleet_key), n64, 64, rounds).await);
        rows.push(measure("3 gateways, PostgreSQL", &addrs, None, n64, 64, rounds).await);
        rows.push(measure("3 gateways, PostgreSQL, keyed rpm", &addrs, Some(&fleet_key), n64, 64, rounds).await);

        let direct_p50 =
            |c: usize| rows.iter().find(|r| r.label.starts_with("direct") && r.c == c).map_or(0.0, |r| r.p50_us);
        println!("\n| setup | concurrency | p50 µs | added p50 µs | p99 µs | req/s |");
        println!("|---|---|---|---|---|---|");
        for r in &rows {
            let added = if r.label.starts_with("direct") {
                "".to_string()
            } else {
                format!("{:.0}", r.p50_us - direct_p50(r.c))
            };
            println!("| {} | {} | {:.0} | {} | {:.0} | {:.0} |", r.label, r.c, r.p50_us, added, r.p99_us, r.rps);
        }
        let records: i64 = pg.sql("fleet", "SELECT COUNT(*) FROM usage_records").parse().unwrap_or(0);
        println!(
            "\nrecords in PostgreSQL: {records}; rounds: {rounds}; machine: {} cores",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    });
}
