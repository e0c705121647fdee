//! The management CLI: catalog providers need only a key, custom ones say what they lack,
//! lists have --json, and a taken port is reported clearly.

use crate::common::Env;

#[test]
fn catalog_account_needs_no_base_url_and_lists_show_it() {
    let env = Env::new();
    let out = env.ok(&[
        "account",
        "add",
        "openai",
        "--api-key",
        "sk-test-000000000000",
        "--label",
        "work",
        "--priority",
        "2",
    ]);
    assert!(out.contains("added account 1 to openai"), "{out}");
    let providers: serde_json::Value = serde_json::from_str(&env.ok(&["provider", "list", "--json"])).unwrap();
    assert_eq!(providers[0]["id"], "openai");
    assert_eq!(providers[0]["base_url"], "https://api.openai.com/v1");
    assert_eq!(providers[0]["kind"], "openai");
    let accounts: serde_json::Value = serde_json::from_str(&env.ok(&["account", "list", "--json"])).unwrap();
    assert_eq!(accounts[0]["label"], "work");
    assert_eq!(accounts[0]["priority"], 2);
    assert_eq!(accounts[0]["key_hint"], "sk-…0000");
    let table = env.ok(&["provider", "list"]);
    assert!(table.starts_with("ID") && table.contains("https://api.openai.com/v1"), "{table}");
    let catalog = env.ok(&["provider", "catalog", "--json"]);
    for id in ["anthropic", "gemini", "openrouter", "deepseek", "ollama", "azure"] {
        assert!(catalog.contains(&format!("\"id\": \"{id}\"")), "{id} missing from catalog");
    }
}

#[test]
fn mistakes_are_explained() {
    let env = Env::new();
    assert!(env.fails(&["provider", "add", "mine"]).contains("--kind"));
    assert!(env.fails(&["provider", "add", "mine", "--kind", "openai"]).contains("--base-url"));
    assert!(env
        .fails(&["provider", "add", "mine", "--kind", "chat", "--base-url", "http://x"])
        .contains("unknown provider kind"));
    assert!(env
        .fails(&["provider", "add", "Bad Id", "--kind", "openai", "--base-url", "http://x"])
        .contains("invalid provider id"));
    assert!(env
        .fails(&["provider", "add", "mine", "--kind", "openai", "--base-url", "localhost:8080"])
        .contains("invalid base URL"));
    assert!(env
        .fails(&["provider", "add", "mine", "--kind", "openai", "--base-url", "http://x", "--auth", "login"])
        .contains("subscription providers"));
    assert!(env.fails(&["account", "add", "nosuch", "--api-key", "k"]).contains("no provider 'nosuch'"));
    assert!(env.fails(&["account", "add", "openai"]).contains("--api-key"));
    assert!(env.fails(&["account", "add", "azure", "--api-key", "k"]).contains("--base-url"));
    assert!(env.fails(&["account", "remove", "42"]).contains("no account 42"));
    assert!(env.fails(&["key", "revoke", "42"]).contains("no active gateway key 42"));
    assert!(env.fails(&["settings", "set", "require-key", "maybe"]).contains("true or false"));
    assert!(env.fails(&["settings", "set", "colour", "red"]).contains("unknown setting"));
    env.ok(&["provider", "add", "mine", "--kind", "openai", "--base-url", "http://127.0.0.1:1/v1/"]);
    assert!(env
        .fails(&["provider", "add", "mine", "--kind", "openai", "--base-url", "http://x"])
        .contains("already exists"));
}

#[test]
fn removing_a_provider_removes_its_accounts() {
    let env = Env::new();
    env.ok(&[
        "provider",
        "add",
        "mine",
        "--kind",
        "openai",
        "--base-url",
        "http://127.0.0.1:1/v1",
        "--api-key",
        "k-000000000001",
    ]);
    env.ok(&["account", "add", "mine", "--api-key", "k-000000000002"]);
    env.ok(&["account", "add", "deepseek", "--api-key", "k-000000000003"]);
    env.ok(&["provider", "remove", "mine"]);
    let accounts: serde_json::Value = serde_json::from_str(&env.ok(&["account", "list", "--json"])).unwrap();
    assert_eq!(accounts.as_array().unwrap().len(), 1);
    assert_eq!(accounts[0]["provider_id"], "deepseek");
    assert!(env.fails(&["provider", "remove", "mine"]).contains("no provider 'mine'"));
}

#[test]
fn settings_and_keys_round_trip() {
    let env = Env::new();
    env.ok(&["settings", "set", "require-key", "true"]);
    let settings: serde_json::Value = serde_json::from_str(&env.ok(&["settings", "list", "--json"])).unwrap();
    assert_eq!(settings["require_key"], true);
    assert_eq!(settings["max_body_mb"], 32);
    let key = env.ok(&["key", "create", "--name", "ci"]);
    let listed = env.ok(&["key", "list"]);
    assert!(listed.contains("ci") && listed.contains("active") && !listed.contains(key.trim()), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_reported_clearly() {
    let env = Env::new();
    let first = env.serve().await;
    let port = first.url.rsplit(':').next().unwrap().to_string();
    let other = Env::new();
    let out = other.cli(&["serve", "--port", &port]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("port {port}")) && stderr.contains("already in use") && stderr.contains("--port"),
        "{stderr}"
    );
}
