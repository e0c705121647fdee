//! Coding-tool setup through the CLI, each case in an isolated HOME holding realistic configs
//! (comments, keys of the user's own): apply changes only the keys Switchyard owns, twice is
//! the same as once, a dry run writes nothing, drift is reported, restore is byte for byte,
//! a malformed file gives a clear error and stays untouched, and the key made for a tool works
//! at the gateway and is revoked on restore.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::Env;
use std::path::PathBuf;

/// Realistic existing configs, one per file Switchyard writes.
const EXISTING: &[(&str, &str)] = &[
    (
        ".claude/settings.json",
        "{\n  // my permissions\n  \"permissions\": {\"allow\": [\"Bash(git diff:*)\"]},\n  \"env\": {\n    \"DISABLE_TELEMETRY\": \"1\"\n  },\n  \"theme\": \"dark\"\n}\n",
    ),
    (
        ".codex/config.toml",
        "# my Codex settings\nmodel = \"gpt-5-codex\" # the default\napproval_policy = \"on-request\"\n\n[mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", \"docs-mcp\"]\n",
    ),
    (".gemini/.env", "# my keys\nGOOGLE_CLOUD_PROJECT=my-project\n"),
    (".gemini/settings.json", "{\n  \"ui\": {\"theme\": \"GitHub\"},\n  \"security\": {\"auth\": {\"selectedType\": \"oauth-personal\"}}\n}\n"),
    (
        ".config/opencode/opencode.json",
        "{\n  \"$schema\": \"https://opencode.ai/config.json\",\n  // my providers\n  \"provider\": {\n    \"ollama\": {\"npm\": \"@ai-sdk/openai-compatible\", \"options\": {\"baseURL\": \"http://localhost:11434/v1\"}}\n  },\n  \"autoupdate\": false,\n}\n",
    ),
    (".qwen/settings.json", "{\n  \"general\": {\"vimMode\": true}\n}\n"),
    (".aider.conf.yml", "# my aider settings\nmodel: gpt-4o  # the usual\nauto-commits: false\nread:\n  - CONVENTIONS.md\n"),
    (
        ".factory/settings.json",
        "{\n  // my droid settings\n  \"model\": \"claude-sonnet-4-5\",\n  \"customModels\": [\n    {\"model\": \"qwen3-coder\", \"displayName\": \"Local Qwen\", \"baseUrl\": \"http://localhost:11434/v1\", \"apiKey\": \"none\", \"provider\": \"generic-chat-completion-api\"}\n  ],\n  \"autonomyMode\": \"auto-low\"\n}\n",
    ),
    (
        ".continue/config.yaml",
        "# my Continue config\nname: Local Config\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: Local Qwen # ollama\n    provider: ollama\n    model: qwen2.5-coder:7b\n    roles:\n      - chat\n      - autocomplete\n  # more models here later\ncontext:\n  - provider: code\n  - provider: diff\n",
    ),
];

fn home(env: &Env, relative: &str) -> PathBuf {
    env.dir.path().join(relative)
}

fn seed(env: &Env) {
    for (path, text) in EXISTING {
        let path = home(env, path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A JSON-with-comments text as a value (comments and trailing commas allowed).
fn jsonc_value(text: &str) -> serde_json::Value {
    let stripped: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    serde_json::from_str(&stripped).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn read(env: &Env, relative: &str) -> Option<String> {
    std::fs::read_to_string(home(env, relative)).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_is_set_up_and_put_back_exactly() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mockai", &mock.base_url(), "mock-key-1234567890", "mock-model");
    seed(&env);
    let listed = env.ok(&["tools", "list"]);
    for id in ["claude-code", "codex", "gemini-cli", "opencode", "qwen-code", "aider", "factory-droid", "continue"] {
        assert!(listed.contains(id), "{listed}");

        // A dry run shows the change and writes nothing.
        let prior: Vec<Option<String>> = EXISTING.iter().map(|(p, _)| read(&env, p)).collect();
        let dry = env.ok(&["tools", "apply", id, "--model", "mockai/mock-model", "--dry-run"]);
        assert!(dry.contains("(dry run: nothing written)") && dry.contains("+"), "{dry}");
        let now: Vec<Option<String>> = EXISTING.iter().map(|(p, _)| read(&env, p)).collect();
        assert_eq!(now, prior, "{id}: the dry run wrote something");

        env.ok(&["tools", "apply", id, "--model", "mockai/mock-model"]);
        let applied: Vec<Option<String>> = EXISTING.iter().map(|(p, _)| read(&env, p)).collect();
        // Twice is the same as once: same files, same key.
        env.ok(&["tools", "apply", id, "--model", "mockai/mock-model"]);
        let again: Vec<Option<String>> = EXISTING.iter().map(|(p, _)| read(&env, p)).collect();
        assert_eq!(applied, again, "{id}: a second apply changed the files");
        let status = env.ok(&["tools", "status", id, "--json"]);
        let status: serde_json::Value = serde_json::from_str(&status).unwrap();
        assert_eq!(status[0]["applied"], true, "{status}");
        assert_eq!(status[0]["drift"], serde_json::json!([]), "{status}");
        assert_eq!(status[0]["model"], "mockai/mock-model", "{status}");
    }

    // The user's own content is all still there.
    let claude = read(&env, ".claude/settings.json").unwrap();
    assert!(claude.contains("// my permissions") && claude.contains("\"DISABLE_TELEMETRY\": \"1\""), "{claude}");
    assert!(claude.contains("\"ANTHROPIC_BASE_URL\"") && claude.contains("sk-sy-"), "{claude}");
    let codex = read(&env, ".codex/config.toml").unwrap();
    assert!(codex.starts_with("# my Codex settings\nmodel = \"mockai/mock-model\" # the default\n"), "{codex}");
    assert!(codex.contains("[mcp_servers.docs]") && codex.contains("wire_api = \"responses\""), "{codex}");
    let opencode = read(&env, ".config/opencode/opencode.json").unwrap();
    assert!(opencode.contains("// my providers") && opencode.contains("\"ollama\""), "{opencode}");
    assert!(opencode.contains("\"switchyard/mockai/mock-model\""), "{opencode}");
    let gemini_env = read(&env, ".gemini/.env").unwrap();
    assert!(gemini_env.starts_with("# my keys\nGOOGLE_CLOUD_PROJECT=my-project\n"), "{gemini_env}");
    assert!(read(&env, ".qwen/.env").unwrap().contains("OPENAI_MODEL=mockai/mock-model"));
    let aider = read(&env, ".aider.conf.yml").unwrap();
    assert!(aider.starts_with("# my aider settings\nmodel: \"openai/mockai/mock-model\"\nauto-commits: false\nread:\n  - CONVENTIONS.md\n"), "{aider}");
    assert!(aider.contains("openai-api-base: \"http://127.0.0.1:"), "{aider}");
    let droid: serde_json::Value = jsonc_value(&read(&env, ".factory/settings.json").unwrap());
    assert_eq!(droid["model"], "custom:Switchyard-0", "{droid}");
    assert_eq!(droid["autonomyMode"], "auto-low", "{droid}");
    let models = droid["customModels"].as_array().unwrap();
    assert_eq!(models[0]["displayName"], "Local Qwen", "{droid}");
    assert_eq!(models[1]["displayName"], "Switchyard", "{droid}");
    assert_eq!(models[1]["model"], "mockai/mock-model", "{droid}");
    assert!(read(&env, ".factory/settings.json").unwrap().contains("// my droid settings"));
    let cont = read(&env, ".continue/config.yaml").unwrap();
    assert!(
        cont.starts_with(
            "# my Continue config\nname: Local Config\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: \"Switchyard\"\n"
        ),
        "{cont}"
    );
    assert!(
        cont.ends_with("  - name: Local Qwen # ollama\n    provider: ollama\n    model: qwen2.5-coder:7b\n    roles:\n      - chat\n      - autocomplete\n  # more models here later\ncontext:\n  - provider: code\n  - provider: diff\n"),
        "{cont}"
    );
    assert!(
        cont.contains("    model: \"mockai/mock-model\"\n") && cont.contains("    apiBase: \"http://127.0.0.1:"),
        "{cont}"
    );

    // The key written into a tool's config is a working gateway key of its own.
    env.ok(&["settings", "set", "require-key", "on"]);
    let gw = env.serve().await;
    let key = claude.split('"').find(|s| s.starts_with("sk-sy-")).expect("a key in Claude Code's settings");
    let answer = crate::common::http()
        .post(gw.chat_url())
        .bearer_auth(key)
        .json(&serde_json::json!({"model": "mockai/mock-model", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(env.ok(&["key", "list"]).contains("Claude Code (tool setup)"));

    // Drift: the user changes a key Switchyard owns; status says so.
    let edited = read(&env, ".codex/config.toml").unwrap().replace("model = \"mockai/mock-model\"", "model = \"o3\"");
    std::fs::write(home(&env, ".codex/config.toml"), &edited).unwrap();
    let status = env.ok(&["tools", "status", "codex"]);
    assert!(status.contains("changed: ~/.codex/config.toml: model"), "{status}");

    // Restore: byte for byte where the file is as Switchyard left it; Switchyard's keys only
    // where the user changed it since.
    for id in ["claude-code", "gemini-cli", "opencode", "qwen-code", "aider", "factory-droid", "continue", "codex"] {
        env.ok(&["tools", "restore", id]);
    }
    for ((path, text), now) in EXISTING.iter().zip(EXISTING.iter().map(|(p, _)| read(&env, p))) {
        if *path == ".codex/config.toml" {
            let now = now.unwrap();
            assert!(now.contains("model = \"o3\"") && !now.contains("switchyard"), "{now}");
        } else {
            assert_eq!(now.as_deref(), Some(*text), "{path} not put back byte for byte");
        }
    }
    assert!(read(&env, ".qwen/.env").is_none(), "the .env Switchyard created stays");
    let keys = env.ok(&["key", "list", "--json"]);
    let keys: serde_json::Value = serde_json::from_str(&keys).unwrap();
    assert!(keys.as_array().unwrap().iter().all(|k| !k["revoked_at"].is_null()), "{keys}");
    assert!(env.fails(&["tools", "restore", "codex"]).contains("not set up by Switchyard"));
    drop(gw);
}

#[test]
fn a_malformed_config_is_reported_and_left_untouched() {
    let env = Env::new();
    env.add_provider("mockai", "http://127.0.0.1:9/v1", "mock-key-1234567890", "mock-model");
    let broken = "{\n  \"env\": {\n    \"A\": \"1\",\n";
    std::fs::create_dir_all(home(&env, ".claude")).unwrap();
    std::fs::write(home(&env, ".claude/settings.json"), broken).unwrap();
    let error = env.fails(&["tools", "apply", "claude-code", "--model", "mockai/mock-model"]);
    assert!(error.contains("~/.claude/settings.json") && error.contains("not valid JSON"), "{error}");
    assert!(error.contains("left untouched"), "{error}");
    assert_eq!(read(&env, ".claude/settings.json").as_deref(), Some(broken));
    // No key was left behind for the failed setup.
    assert!(!env.ok(&["key", "list"]).contains("tool setup"));
    let broken_yaml = "name: Local\nmodels:\n  - name: [unclosed\n";
    std::fs::create_dir_all(home(&env, ".continue")).unwrap();
    std::fs::write(home(&env, ".continue/config.yaml"), broken_yaml).unwrap();
    let error = env.fails(&["tools", "apply", "continue", "--model", "mockai/mock-model"]);
    assert!(error.contains("~/.continue/config.yaml") && error.contains("not valid YAML"), "{error}");
    assert_eq!(read(&env, ".continue/config.yaml").as_deref(), Some(broken_yaml));
    assert!(env.fails(&["tools", "apply", "nope"]).contains("no tool 'nope'"));
    assert!(env.fails(&["tools", "apply", "codex", "--model", "nowhere/x"]).contains("cannot be used here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_points_at_the_running_gateway_not_at_the_port_setting() {
    // issue 25: `serve --port N` then `tools apply` configured the tool for the `port` setting.
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mockai", &mock.base_url(), "mock-key-1234567890", "mock-model");
    seed(&env);
    let mut gw = env.serve().await;
    let served = gw.url.clone();
    assert!(!served.ends_with(":20130"), "serve --port 0 took a port of its own: {served}");
    let out = env.cli(&["tools", "apply", "claude-code", "--model", "mockai/mock-model"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("note:"), "a gateway runs: nothing to note");
    let claude = read(&env, ".claude/settings.json").unwrap();
    assert!(claude.contains(&format!("\"ANTHROPIC_BASE_URL\": \"{served}\"")), "{claude}");

    // With no gateway running (this one stopped), the port setting, and the user is told.
    gw.signal(libc::SIGTERM);
    assert!(gw.wait_exit(std::time::Duration::from_secs(10)).await.success());
    let out = env.cli(&["tools", "apply", "claude-code", "--model", "mockai/mock-model"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no gateway is running") && stderr.contains("20130"), "{stderr}");
    let claude = read(&env, ".claude/settings.json").unwrap();
    assert!(claude.contains("\"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:20130\""), "{claude}");
}
