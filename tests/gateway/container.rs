//! The container image as a team runs it: `.ci/container` builds it (FROM scratch, a static
//! binary) and then runs this test, which starts it with podman with a read-only root, as its
//! non-root user, configured by environment alone (a shared PostgreSQL, the fleet's master key
//! as a file), and checks that it serves, answers /ready, and drains on SIGTERM.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::postgres::Postgres;
use crate::common::{http, Env};
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

const IMAGE: &str = "localhost/switchyard:test";
/// The user the image runs as.
const UID: u32 = 65532;

fn podman(args: &[&str]) -> String {
    let out = Command::new("podman").args(["--runtime", "runc"]).args(args).output().expect("run podman");
    assert!(out.status.success(), "podman {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the image: run by .ci/container after it builds localhost/switchyard:test"]
async fn the_image_serves_a_team_from_postgres() {
    let pg = Postgres::start();
    let url = pg.database("team");
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("master.key");
    Env::new().ok(&["master-key", "new", key.to_str().unwrap()]);
    // The image's user reads the key file; nobody else does.
    std::os::unix::fs::chown(&key, Some(UID), Some(UID)).unwrap();
    let mock = MockProvider::start(MockConfig::default()).await;
    let admin = Env::new().with_store(&url, &key);
    admin.add_provider("mock", &mock.base_url(), "upstream-key", "m");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let name = format!("switchyard-test-{}", std::process::id());
    let mount = format!("{}:/run/secrets/master.key:ro", key.display());
    let started = Instant::now();
    let id = podman(&[
        "run",
        "-d",
        "--name",
        &name,
        "--network",
        "host",
        "--read-only",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        "-v",
        &mount,
        "-e",
        &format!("SWITCHYARD_DATABASE_URL={url}"),
        "-e",
        "SWITCHYARD_MASTER_KEY_FILE=/run/secrets/master.key",
        "-e",
        "SWITCHYARD_HOST=127.0.0.1",
        "-e",
        &format!("SWITCHYARD_PORT={port}"),
        IMAGE,
    ]);
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = Value::Null;
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = http().get(format!("{base}/ready")).send().await {
            ready = r.json().await.unwrap_or_default();
            if ready["status"] == "ready" {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logs = || podman(&["logs", &name]);
    assert_eq!(ready["status"], "ready", "{ready}\n{}", logs());
    println!("container: ready {} ms after `podman run`", started.elapsed().as_millis());
    let user = podman(&["inspect", "--format", "{{.Config.User}}", &id]);
    assert_eq!(user, format!("{UID}:{UID}"));
    let body = json!({"model": "mock/m", "messages": [{"role": "user", "content": "hi"}]});
    let answer = http().post(format!("{base}/v1/chat/completions")).json(&body).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{}", logs());
    // The configuration lives in PostgreSQL: what the admin CLI changes, the container serves.
    admin.add_provider("second", &mock.base_url(), "upstream-key-2", "m2");
    let waiting = Instant::now();
    loop {
        let models = http().get(format!("{base}/v1/models")).send().await.unwrap().text().await.unwrap();
        if models.contains("second/m2") {
            break;
        }
        assert!(waiting.elapsed() < Duration::from_secs(5), "{models}\n{}", logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let records: i64 = pg.sql("team", "SELECT COUNT(*) FROM usage_records").parse().unwrap();
    assert_eq!(records, 1, "the request was recorded in PostgreSQL");
    // SIGTERM: it drains and exits cleanly.
    podman(&["stop", "-t", "20", &name]);
    let code = podman(&["inspect", "--format", "{{.State.ExitCode}}", &name]);
    podman(&["rm", &name]);
    assert_eq!(code, "0", "a clean exit after SIGTERM");
}
