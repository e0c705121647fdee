//! The dashboard benchmark: the built UI's size (raw and gzipped), the /api answer time of the
//! overview and the usage series (the calls every page view makes), and the time to first
//! render in Debian's Chromium, cold, against the release binary.
//!
//!     bash .ci/ui && cargo bench --bench dashboard            # 20 cold loads, 500 API calls
//!     bash .ci/ui && cargo bench --bench dashboard -- --quick # 3 and 50

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PASSWORD: &str = "benchmark password";

fn gzipped_len(path: &std::path::Path) -> usize {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(path).output().expect("gzip");
    out.stdout.len()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (loads, calls) = if quick { (3, 50) } else { (20, 500) };
    let dist = std::path::Path::new(ROOT).join("ui/dist");
    assert!(dist.join("index.html").exists(), "build the dashboard first: bash .ci/ui");

    println!("== dashboard files (ui/dist)");
    let (mut raw, mut gz) = (0, 0);
    let mut files: Vec<_> = std::fs::read_dir(&dist).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in &files {
        let (r, g) = (std::fs::metadata(f).unwrap().len() as usize, gzipped_len(f));
        raw += r;
        gz += g;
        println!("{:<28} {:>8} KiB  {:>6} KiB gzipped", f.file_name().unwrap().to_string_lossy(), r / 1024, g / 1024);
    }
    println!("{:<28} {:>8} KiB  {:>6} KiB gzipped (target: 1536 KiB gzipped)", "all", raw / 1024, gz / 1024);

    let dir = tempfile::tempdir().unwrap();
    let mut set = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["settings", "set", "dashboard-password", "-"])
        .env("SWITCHYARD_KEYCHAIN", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    set.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
    assert!(set.wait().unwrap().success());
    let mut child = tokio::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--port", "0"])
        .env("SWITCHYARD_KEYCHAIN", "off")
        .env("SWITCHYARD_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next_line().await.unwrap().unwrap().rsplit(' ').next().unwrap().to_string();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let http = reqwest::Client::new();
    let login = http.post(format!("{url}/api/session/login")).json(&serde_json::json!({"password": PASSWORD}));
    let answer = login.send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let cookie = answer.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    println!("== /api answer time (sequential, {calls} calls each)");
    for path in ["/api/overview", "/api/usage/series?since=7d&bucket=hour&by=provider", "/api/providers"] {
        let mut samples = Vec::with_capacity(calls);
        for _ in 0..calls {
            let t0 = Instant::now();
            let r = http.get(format!("{url}{path}")).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
            samples.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        samples.sort_by(f64::total_cmp);
        println!("{path:<52} p50 {:.2} ms  p99 {:.2} ms", percentile(&samples, 0.5), percentile(&samples, 0.99));
    }

    println!("== time to first render in Chromium ({loads} cold loads)");
    let out = Command::new("node")
        .arg(format!("{ROOT}/tests/ui/first_render.mjs"))
        .args([url.as_str(), PASSWORD, &loads.to_string()])
        .current_dir(ROOT)
        .output()
        .expect("node");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let _ = child.kill().await;
}
