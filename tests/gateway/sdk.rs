//! The official OpenAI Python SDK as a client: chat completions streamed and not, model list,
//! and an error surfacing as the SDK's own exception type.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::Env;

fn python_has_openai() -> bool {
    std::process::Command::new("python3").args(["-c", "import openai"]).output().is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_talks_to_the_gateway() {
    if !python_has_openai() {
        // .ci/run installs the SDK; only a developer machine without it gets here.
        assert!(std::env::var_os("CI").is_none(), "CI must have the openai Python SDK (.ci/run installs it)");
        eprintln!("skipped: the openai Python SDK is not installed (pip install openai)");
        return;
    }
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("mock", &mock.base_url(), "k", "mock-model");
    let gw = env.serve().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/openai_chat.py");
    let url = format!("{}/v1", gw.url);
    let out = tokio::process::Command::new("python3").arg(script).arg(&url).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for line in
        ["non-stream: w0 w1 w2 w3 w4", "stream: w0 w1 w2 w3 w4", "models: mock/mock-model", "error: NotFoundError 404"]
    {
        assert!(stdout.contains(line), "missing '{line}' in:\n{stdout}");
    }
}
