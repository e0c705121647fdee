//! Secrets at rest: no API key or gateway key is ever written in clear to the data directory
//! or to the log.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{contains, data_files_bytes, http, Env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_and_logs_never_hold_a_secret_in_clear() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    let api_key = "sk-proj-CANARY-7f3a9c21e8b44d0f";
    env.add_provider("mock", &mock.base_url(), api_key, "m");
    env.ok(&["account", "add", "openai", "--api-key", "sk-CANARY-second-0123456789"]);
    let out = env.cli_stdin(&["account", "add", "groq", "--api-key", "-"], "gsk_CANARY_from_stdin_0123\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let gateway_key = env.ok(&["key", "create"]).trim().to_string();

    let gw = env.serve_with(&[]).await;
    let res = http()
        .post(gw.chat_url())
        .header("authorization", format!("Bearer {gateway_key}"))
        .json(&serde_json::json!({"model": "mock/m", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap();
    assert_eq!(
        mock.requests()[0].headers["authorization"],
        format!("Bearer {api_key}"),
        "the sealed key opens for use"
    );

    let files = data_files_bytes(&env.data_dir());
    assert!(files.iter().any(|(p, _)| p.ends_with("switchyard.db")));
    for (path, bytes) in &files {
        for secret in
            [api_key, "sk-CANARY-second-0123456789", "gsk_CANARY_from_stdin_0123", gateway_key.as_str(), "CANARY"]
        {
            assert!(!contains(bytes, secret.as_bytes()), "{} holds {secret} in clear", path.display());
        }
    }
    for listing in
        [env.ok(&["account", "list"]), env.ok(&["account", "list", "--json"]), env.ok(&["provider", "list", "--json"])]
    {
        assert!(!listing.contains("CANARY"), "{listing}");
    }
    assert!(!gw.log().contains("CANARY") && !gw.log().contains(&gateway_key));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["master.key", "switchyard.db"] {
            let mode = std::fs::metadata(env.data_dir().join(name)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} is readable by others: {mode:o}");
        }
    }
}
