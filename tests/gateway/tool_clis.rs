//! The coding tools' own CLIs against Switchyard, set up by `switchyard tools apply` alone:
//! Claude Code, Codex, Gemini CLI, OpenCode, Qwen Code, Factory Droid and Continue (npm
//! packages pinned in package.json) and Aider (pip, tests/tools/requirements.txt) each run one non-interactive
//! prompt in an isolated HOME, through `serve`, to
//! the mock provider, and the mock's answer must come back in the tool's output.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::Env;
use std::path::Path;
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// (tool id, program from the project root, arguments of a one-shot prompt).
const TOOLS: &[(&str, &str, &[&str])] = &[
    ("claude-code", "node_modules/.bin/claude", &["-p", "say hello"]),
    ("codex", "node_modules/.bin/codex", &["exec", "--skip-git-repo-check", "say hello"]),
    ("gemini-cli", "node_modules/.bin/gemini", &["-p", "say hello"]),
    ("opencode", "node_modules/.bin/opencode", &["run", "say hello"]),
    ("qwen-code", "node_modules/.bin/qwen", &["-p", "say hello"]),
    ("factory-droid", "node_modules/.bin/droid", &["exec", "say hello"]),
    ("continue", "node_modules/.bin/cn", &["-p", "say hello"]),
    (
        "aider",
        ".venv/aider/bin/aider",
        &[
            "--message",
            "say hello",
            "--yes-always",
            "--no-git",
            "--no-check-update",
            "--no-show-model-warnings",
            "--no-pretty",
        ],
    ),
];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_coding_cli_answers_through_switchyard_after_tools_apply() {
    let root = Path::new(ROOT);
    let missing: Vec<&str> = TOOLS.iter().map(|t| t.1).filter(|p| !root.join(p).exists()).collect();
    if !missing.is_empty() {
        // .ci/install installs them (npm, .venv/aider); only a developer machine gets here.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the coding CLIs: {missing:?} missing (bash .ci/install)"
        );
        eprintln!("skipped: {missing:?} not installed (bash .ci/install: npm install, .venv/aider)");
        return;
    }
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mockai", &mock.base_url(), "mock-key-1234567890", "mock-model");
    // The tools are pointed at the `port` setting: a free one, where serve then listens.
    let port = free_port().to_string();
    env.ok(&["settings", "set", "port", &port]);
    let gw = env.serve_with(&["--port", &port]).await;
    let work = env.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let mut failures = Vec::new();
    for (id, program, args) in TOOLS {
        env.ok(&["tools", "apply", id, "--model", "mockai/mock-model"]);
        let run = tokio::process::Command::new(root.join(program))
            .args(*args)
            .current_dir(&work)
            .env("HOME", env.dir.path())
            .env("NO_COLOR", "1")
            // Gemini CLI reads ~/.gemini/.env in trusted folders only; this one is the test's.
            .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
            .env("DISABLE_AUTOUPDATER", "1")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .env_remove("GEMINI_API_KEY")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = match tokio::time::timeout(Duration::from_secs(120), run).await {
            Ok(out) => out.expect("run the tool"),
            Err(_) => {
                failures.push(format!("{id}: no answer in 120 s"));
                continue;
            }
        };
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        eprintln!("{id}: exit {:?}, {} bytes of output", out.status.code(), text.len());
        if !text.contains("w0 w1 w2") {
            failures.push(format!("{id}: the mock's answer is not in its output:\n{text}"));
        }
    }
    assert!(failures.is_empty(), "{}\nserve log:\n{}", failures.join("\n\n"), gw.log());
    // Each tool's requests are in the usage log, under the key made for it.
    let log: serde_json::Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "500", "--json"])).unwrap();
    let keys: serde_json::Value = serde_json::from_str(&env.ok(&["key", "list", "--json"])).unwrap();
    let keys = keys.as_array().unwrap();
    for name in
        ["Claude Code", "Codex CLI", "Gemini CLI", "OpenCode", "Qwen Code", "Aider", "Factory Droid", "Continue"]
    {
        let key = keys.iter().find(|k| k["name"] == format!("{name} (tool setup)")).expect("a key per tool");
        let used = log.as_array().unwrap().iter().filter(|r| r["key_id"] == key["id"] && r["status"] == 200).count();
        assert!(used > 0, "no successful request under {name}'s key");
    }
}
