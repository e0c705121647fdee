//! The dashboard in headless Chromium (tests/ui/dashboard.mjs, playwright-core) against the
//! real `serve` and the mock provider; then the CLI sees what the browser configured.
//! Screenshots of every page land in target/ui-screenshots (kept by CI as artifacts).

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::mock_auth::MockAuth;
use crate::common::Env;
use serde_json::json;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

pub fn browser_ready() -> Result<(), String> {
    let root = std::path::Path::new(ROOT);
    if !root.join("ui/dist/index.html").exists() {
        return Err("ui/dist is not built (bash .ci/ui)".into());
    }
    if !root.join("node_modules/playwright-core").exists() {
        return Err("playwright-core is not installed (npm install)".into());
    }
    if !std::path::Path::new("/usr/bin/chromium").exists() {
        return Err("Chromium is not installed (apt-get install chromium)".into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_configures_and_watches_the_gateway_in_a_browser() {
    if let Err(why) = browser_ready() {
        // .ci/test builds the UI and installs the browser; only a developer machine gets here.
        assert!(std::env::var_os("CI").is_none(), "CI must run the browser test: {why}");
        eprintln!("skipped: {why}");
        return;
    }
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    // A Claude Code login saved on this machine, for the page's import, and its usage endpoint
    // answering a used-up 5-hour window.
    let auth = MockAuth::start().await;
    env.ok(&["settings", "set", "login.claude.usage-url", &auth.url("/claude/usage")]);
    let day_ms = 86_400_000i64;
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let saved = json!({"claudeAiOauth": {"accessToken": "sk-ant-oat01-ui", "refreshToken": "sk-ant-ort01-ui",
        "expiresAt": now_ms + day_ms, "subscriptionType": "max"}});
    std::fs::create_dir_all(env.dir.path().join(".claude")).unwrap();
    std::fs::write(env.dir.path().join(".claude/.credentials.json"), saved.to_string()).unwrap();
    *auth.state.claude_usage.lock().unwrap() = json!({
        "five_hour": {"utilization": 100.0, "resets_at": "2099-01-01T00:00:00Z"},
        "seven_day": {"utilization": 41.0, "resets_at": "2099-01-05T00:00:00Z"}});
    let gw = env.serve().await;
    let shots = format!("{ROOT}/target/ui-screenshots");
    let out = tokio::process::Command::new("node")
        .arg(format!("{ROOT}/tests/ui/dashboard.mjs"))
        .env("SWITCHYARD_URL", &gw.url)
        .env("MOCK_URL", mock.base_url())
        .env("SHOTS_DIR", &shots)
        .current_dir(ROOT)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}\nserve log:\n{}", String::from_utf8_lossy(&out.stderr), gw.log());
    let measured = stdout.lines().last().unwrap_or_default();
    eprintln!("dashboard: {measured}");
    assert!(measured.contains("\"result\":\"ok\""), "{stdout}");

    // What the browser did is what the store holds.
    assert!(env.ok(&["provider", "list"]).contains("mockai"));
    assert!(env.ok(&["account", "list"]).contains("max"), "the imported Claude login");
    assert!(env.ok(&["combo", "list"]).contains("coding"));
    let keys = env.ok(&["key", "list"]);
    assert!(keys.contains("browser") && keys.contains("revoked"), "{keys}");
    for page in
        ["login-setup", "providers", "keys", "combos", "usage", "overview", "tools", "settings", "usage-dark", "login"]
    {
        assert!(std::path::Path::new(&format!("{shots}/{page}.png")).exists(), "no screenshot of {page}");
    }
}
