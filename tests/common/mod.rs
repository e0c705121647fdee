//! Test support: an isolated data directory per test, the real `switchyard` binary run as a
//! CLI or as `serve`, and the mock provider.

#![allow(dead_code)]

pub mod mock;
pub mod mock_auth;
pub mod mock_google;
pub mod postgres;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

pub const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

/// One isolated Switchyard installation: its own data dir and HOME.
pub struct Env {
    pub dir: tempfile::TempDir,
    /// The PATH its commands run with (None: the test's own).
    path: Option<std::ffi::OsString>,
    /// Team mode: the shared database's URL and the fleet's master key file.
    store: Option<(String, PathBuf)>,
}

impl Env {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir"), path: None, store: None }
    }

    /// Its commands use this database and master key file (team mode) instead of the data dir's.
    pub fn with_store(mut self, database_url: &str, master_key_file: &Path) -> Self {
        self.store = Some((database_url.to_string(), master_key_file.to_path_buf()));
        self
    }

    /// Its commands run with this PATH.
    pub fn with_path(mut self, path: std::ffi::OsString) -> Self {
        self.path = Some(path);
        self
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(BIN);
        cmd.arg("--data-dir").arg(self.data_dir()).env("HOME", self.dir.path()).env("SWITCHYARD_KEYCHAIN", "off");
        cmd.env_remove("SWITCHYARD_DATA_DIR").env_remove("SWITCHYARD_PORT").env_remove("SWITCHYARD_HOST");
        cmd.env_remove("SWITCHYARD_DATABASE_URL").env_remove("SWITCHYARD_MASTER_KEY_FILE");
        if let Some((url, key)) = &self.store {
            cmd.env("SWITCHYARD_DATABASE_URL", url).env("SWITCHYARD_MASTER_KEY_FILE", key);
        }
        if let Some(path) = &self.path {
            cmd.env("PATH", path);
        }
        cmd
    }

    pub fn cli(&self, args: &[&str]) -> Output {
        self.command().args(args).stdin(Stdio::null()).output().expect("run switchyard")
    }

    /// Runs a CLI command with `input` on stdin.
    pub fn cli_stdin(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Starts a CLI command with piped stdin and stdout (an interactive one, such as `login`).
    pub fn spawn(&self, args: &[&str]) -> tokio::process::Child {
        self.spawn_with_env(args, &[])
    }

    /// `spawn` with more environment variables.
    pub fn spawn_with_env(&self, args: &[&str], envs: &[(&str, std::ffi::OsString)]) -> tokio::process::Child {
        let mut cmd = tokio::process::Command::from(self.command());
        cmd.envs(envs.iter().map(|(k, v)| (k, v)));
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        cmd.spawn().expect("spawn switchyard")
    }

    /// Runs a CLI command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(out.status.success(), "switchyard {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a CLI command that must fail; returns its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(!out.status.success(), "switchyard {args:?} should have failed");
        String::from_utf8(out.stderr).unwrap()
    }

    /// Adds four providers on one mock, one per upstream kind (m-oa openai, m-an anthropic,
    /// m-re responses, m-ge gemini), each with model `mock-model` and one account keyed `key`.
    pub fn add_every_kind(&self, mock: &mock::MockProvider, key: &str) {
        for (id, kind, url) in [
            ("m-oa", "openai", mock.base_url()),
            ("m-an", "anthropic", mock.root_url()),
            ("m-re", "responses", mock.base_url()),
            ("m-ge", "gemini", mock.root_url()),
        ] {
            self.ok(&[
                "provider",
                "add",
                id,
                "--kind",
                kind,
                "--base-url",
                &url,
                "--models",
                "mock-model",
                "--api-key",
                key,
            ]);
        }
    }

    /// Adds an OpenAI-kind provider `id` pointing at `base_url` with one account.
    pub fn add_provider(&self, id: &str, base_url: &str, key: &str, models: &str) {
        self.ok(&[
            "provider",
            "add",
            id,
            "--kind",
            "openai",
            "--base-url",
            base_url,
            "--models",
            models,
            "--api-key",
            key,
        ]);
    }

    pub async fn serve(&self) -> Gateway {
        self.serve_with(&[]).await
    }

    /// Starts `switchyard serve --port 0 EXTRA...` and waits for its "listening" line.
    pub async fn serve_with(&self, extra: &[&str]) -> Gateway {
        let log_path = self.dir.path().join(format!("serve-{}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = tokio::process::Command::from(self.command());
        cmd.arg("serve");
        if !extra.contains(&"--port") {
            cmd.args(["--port", "0"]);
        }
        cmd.args(extra).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log).kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap_or_else(|_| {
                panic!("serve did not start; log:\n{}", std::fs::read_to_string(&log_path).unwrap_or_default())
            })
            .unwrap()
            .unwrap_or_else(|| {
                panic!("serve exited; log:\n{}", std::fs::read_to_string(&log_path).unwrap_or_default())
            });
        let url = line.rsplit(' ').next().unwrap().to_string();
        assert!(url.starts_with("http://"), "unexpected first line: {line}");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Gateway { child, url, log_path }
    }
}

/// A running `switchyard serve`.
pub struct Gateway {
    pub child: tokio::process::Child,
    pub url: String,
    pub log_path: PathBuf,
}

impl Gateway {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn pid(&self) -> i32 {
        self.child.id().expect("serve still running") as i32
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: sending a signal to a child process we own.
        unsafe {
            libc::kill(self.pid(), signal);
        }
    }

    pub async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(within, self.child.wait()).await.expect("serve did not exit in time").unwrap()
    }

    pub fn chat_url(&self) -> String {
        format!("{}/v1/chat/completions", self.url)
    }

    /// Runs a CLI change and waits until this gateway has reloaded its configuration (the log
    /// says so), rather than sleeping for a guess that a loaded CI machine can outlast.
    pub async fn change(&self, env: &Env, args: &[&str]) -> String {
        let reloads = || self.log().matches("configuration reloaded").count();
        let before = reloads();
        let out = env.ok(args);
        assert!(eventually(Duration::from_secs(10), || reloads() > before).await, "no reload after {args:?}");
        out
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// Reads an SQLite data dir's files as bytes (db, WAL, shm) to look for leaked secrets.
pub fn data_files_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Polls `check` until it holds or `within` passes.
pub async fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}
