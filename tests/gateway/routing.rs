//! Routing through the real gateway with faults injected by the mock: fallback order,
//! cooldowns with the provider's reset time and their recovery, persistence across restarts,
//! deterministic errors returned at once, accounts set aside on 401, rotation strategies,
//! conversation affinity, timeouts, and combos.

use crate::common::mock::{recorded_key, MockConfig, MockProvider};
use crate::common::{http, Env, Gateway};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn chat(gw: &Gateway, model: &str, headers: &[(&str, &str)]) -> (u16, Option<String>, Value) {
    let mut req =
        http().post(gw.chat_url()).json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, retry_after, res.json().await.unwrap_or(Value::Null))
}

fn keys_seen(mock: &MockProvider) -> Vec<String> {
    mock.requests().iter().map(recorded_key).collect()
}

fn add(env: &Env, id: &str, url: &str, keys: &[&str]) {
    env.add_provider(id, url, keys[0], "m");
    for key in &keys[1..] {
        env.ok(&["account", "add", id, "--api-key", key]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_account_cools_down_and_the_next_candidate_answers() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "a", &mock.base_url(), &["a1-fail-429-ra-60"]);
    add(&env, "b", &mock.base_url(), &["b1-ok"]);
    env.ok(&["combo", "set", "duo", "a/m", "b/m"]);
    let gw = env.serve().await;

    let (s, _, v) = chat(&gw, "duo", &[]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(keys_seen(&mock), ["a1-fail-429-ra-60", "b1-ok"], "in order, fell back once");
    let (s, _, _) = chat(&gw, "duo", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(keys_seen(&mock), ["a1-fail-429-ra-60", "b1-ok", "b1-ok"], "a is cooling down: not asked again");
    assert!(gw.log().contains("fell back after"), "the attempt chain is logged: {}", gw.log());

    let models: Value = http().get(format!("{}/v1/models", gw.url)).send().await.unwrap().json().await.unwrap();
    assert!(models["data"].as_array().unwrap().iter().any(|m| m["id"] == "duo"), "combos are listed: {models}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_cooling_gives_429_with_the_earliest_reset_then_recovers_by_itself() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "a", &mock.base_url(), &["a1-first-429-1-ra-1", "a2-first-429-1-ra-3"]);
    let gw = env.serve().await;

    let (s, retry_after, v) = chat(&gw, "a/m", &[]).await;
    assert_eq!(s, 429, "{v}");
    assert_eq!(v["error"]["code"], "all_cooling_down", "{v}");
    assert_eq!(retry_after.as_deref(), Some("1"), "the earliest reset of the two");
    assert_eq!(mock.requests().len(), 2, "both accounts tried");
    let (s, _, _) = chat(&gw, "a/m", &[]).await;
    assert_eq!(s, 429);
    assert_eq!(mock.requests().len(), 2, "nobody asked while every account cools down");

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (s, _, v) = chat(&gw, "a/m", &[]).await;
    assert_eq!(s, 200, "a1 is back at its reset time: {v}");
    assert_eq!(keys_seen(&mock)[2], "a1-first-429-1-ra-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooldowns_survive_a_restart() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "a", &mock.base_url(), &["a1-fail-429-ra-120"]);
    let mut gw = env.serve().await;
    assert_eq!(chat(&gw, "a/m", &[]).await.0, 429);
    tokio::time::sleep(Duration::from_millis(300)).await;
    gw.signal(libc::SIGTERM);
    gw.wait_exit(Duration::from_secs(10)).await;

    let gw = env.serve().await;
    let (s, retry_after, v) = chat(&gw, "a/m", &[]).await;
    assert_eq!(s, 429, "{v}");
    let wait: u64 = retry_after.unwrap().parse().unwrap();
    assert!((100..=120).contains(&wait), "the known reset is kept: {wait}");
    assert_eq!(mock.requests().len(), 1, "the restarted gateway did not ask the exhausted account again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_mistake_comes_back_at_once_without_fallback_or_cooldown() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "a", &mock.base_url(), &["a1-fail-400"]);
    add(&env, "b", &mock.base_url(), &["b1-ok"]);
    env.ok(&["combo", "set", "duo", "a/m", "b/m"]);
    let gw = env.serve().await;
    for _ in 0..2 {
        let (s, _, v) = chat(&gw, "duo", &[]).await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(v["error"]["message"], "mock failure 400", "the provider's own error, relayed");
    }
    assert_eq!(keys_seen(&mock), ["a1-fail-400", "a1-fail-400"], "no fallback, no cooldown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_then_the_next_account_answers() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "a", &mock.base_url(), &["a1-fail-503", "a2-ok"]);
    let gw = env.serve().await;
    let (s, _, _) = chat(&gw, "a/m", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(keys_seen(&mock), ["a1-fail-503", "a1-fail-503", "a2-ok"], "one retry, then the next account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_sets_the_account_aside_until_the_user_acts() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "a", &mock.base_url(), &["a1-fail-401", "a2-ok"]);
    let gw = env.serve().await;
    assert_eq!(chat(&gw, "a/m", &[]).await.0, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(chat(&gw, "a/m", &[]).await.0, 200);
    assert_eq!(keys_seen(&mock), ["a1-fail-401", "a2-ok", "a2-ok"]);
    let accounts = env.ok(&["account", "list"]);
    assert!(accounts.contains("needs attention: 401"), "{accounts}");
    env.ok(&["account", "set", "1", "--enabled", "true"]);
    assert!(!env.ok(&["account", "list"]).contains("needs attention"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_strategies_spread_requests_as_named() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "p", &mock.base_url(), &["k1", "k2", "k3"]);
    let gw = env.serve().await;
    // Each request its own conversation, so that affinity does not pin them.
    let run = |n: usize| {
        let gw = &gw;
        async move {
            for i in 0..n {
                assert_eq!(
                    chat(gw, "p/m", &[("x-session-id", &format!("conversation-{i}-{:?}", Instant::now()))]).await.0,
                    200
                );
            }
        }
    };
    run(3).await;
    assert_eq!(keys_seen(&mock), ["k1", "k1", "k1"], "fill-first");

    for (strategy, extra, want) in [
        ("round-robin", vec![], vec!["k1", "k2", "k3", "k1", "k2", "k3"]),
        ("sticky-round-robin", vec!["--sticky", "2"], vec!["k1", "k1", "k2", "k2", "k3", "k3"]),
    ] {
        let mut args = vec!["provider", "set", "p", "--strategy", strategy];
        args.extend(extra);
        gw.change(&env, &args).await;
        let before = mock.requests().len();
        run(6).await;
        let seen: Vec<String> = keys_seen(&mock)[before..].to_vec();
        // The rotation may start anywhere; its shape must be the strategy's.
        let offset = want.iter().position(|k| *k == seen[0]).unwrap();
        let mut rotated: Vec<&str> = want.clone();
        rotated.rotate_left(offset);
        if strategy == "sticky-round-robin" && seen[0] != seen[1] {
            rotated.rotate_left(1);
        }
        assert_eq!(seen, rotated[..6].to_vec(), "{strategy}");
    }

    gw.change(&env, &["provider", "set", "p", "--strategy", "least-used"]).await;
    let before = mock.requests().len();
    run(6).await;
    let mut counts = std::collections::HashMap::new();
    for k in &keys_seen(&mock)[before..] {
        *counts.entry(k.clone()).or_insert(0) += 1;
    }
    let total: Vec<usize> =
        ["k1", "k2", "k3"].iter().map(|k| keys_seen(&mock).iter().filter(|s| s == k).count()).collect();
    assert!(
        total.iter().max().unwrap() - total.iter().min().unwrap() <= 1,
        "least-used evens out the totals: {total:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_stays_on_its_account() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "p", &mock.base_url(), &["k1", "k2", "k3"]);
    env.ok(&["provider", "set", "p", "--strategy", "round-robin"]);
    let gw = env.serve().await;
    for _ in 0..4 {
        assert_eq!(chat(&gw, "p/m", &[("x-session-id", "conv-A")]).await.0, 200);
    }
    let seen = keys_seen(&mock);
    assert!(seen.iter().all(|k| *k == seen[0]), "one conversation, one account: {seen:?}");
    // Without a session header, the conversation's beginning identifies it.
    let before = seen.len();
    for i in 0..3 {
        let body = json!({"model": "p/m", "messages": [{"role": "user", "content": "same start"}, {"role": "assistant", "content": format!("turn {i}")}]});
        assert_eq!(http().post(gw.chat_url()).json(&body).send().await.unwrap().status(), 200);
    }
    let seen = keys_seen(&mock)[before..].to_vec();
    assert!(seen.iter().all(|k| *k == seen[0]), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_returns_to_the_first_account_once_it_recovers() {
    // Account 1 (a subscription, say) answers 429 with retry-after 1 once; account 2 (a paid
    // key, priority 5) takes the conversation meanwhile, and gives it back when 1 is ready.
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.add_provider("p", &mock.base_url(), "k1-first-429-1-ra-1", "m");
    env.ok(&["account", "add", "p", "--api-key", "k2-paid", "--priority", "5"]);
    let gw = env.serve().await;
    let conversation = [("x-session-id", "conv-B")];
    assert_eq!(chat(&gw, "p/m", &conversation).await.0, 200);
    assert_eq!(keys_seen(&mock), ["k1-first-429-1-ra-1", "k2-paid"]);
    assert_eq!(chat(&gw, "p/m", &conversation).await.0, 200);
    assert_eq!(keys_seen(&mock).last().unwrap(), "k2-paid", "account 1 still cools down");
    // The cooldown is time: it ends 1 s after the 429.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..3 {
        assert_eq!(chat(&gw, "p/m", &conversation).await.0, 200);
    }
    assert_eq!(keys_seen(&mock)[3..], ["k1-first-429-1-ra-1"; 3], "the conversation went back to account 1");
    // The request log says why each account was chosen.
    let chosen = || -> Vec<String> {
        let log: Value = serde_json::from_str(&env.ok(&["usage", "log", "--limit", "100", "--json"])).unwrap();
        let mut rows: Vec<String> =
            log.as_array().unwrap().iter().map(|r| r["chosen"].as_str().unwrap_or("-").to_string()).collect();
        rows.reverse();
        rows
    };
    let mut seen = chosen();
    for _ in 0..50 {
        if seen.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = chosen();
    }
    assert_eq!(seen[0], "first by priority, after 1 failed or skipped", "{seen:?}");
    assert_eq!(seen[2], "first by priority", "{seen:?}");
    assert_eq!(seen[3], "the conversation's account", "{seen:?}");

    // With a rotating strategy the conversation keeps its account, priorities aside.
    gw.change(&env, &["provider", "set", "p", "--strategy", "round-robin"]).await;
    let before = keys_seen(&mock).len();
    for _ in 0..4 {
        assert_eq!(chat(&gw, "p/m", &[("x-session-id", "conv-C")]).await.0, 200);
    }
    let seen = keys_seen(&mock)[before..].to_vec();
    assert!(seen.iter().all(|k| *k == seen[0]), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_byte_and_stall_timeouts() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let slow_stream =
        MockProvider::start(MockConfig { chunks: 4, chunk_delay: Duration::from_millis(1500), ..Default::default() })
            .await;
    let env = Env::new();
    add(&env, "slow", &mock.base_url(), &["s1-slow-5000"]);
    add(&env, "fast", &mock.base_url(), &["f1"]);
    add(&env, "stally", &slow_stream.base_url(), &["t1"]);
    env.ok(&["combo", "set", "duo", "slow/m", "fast/m"]);
    env.ok(&["settings", "set", "first-byte-timeout-secs", "1"]);
    env.ok(&["settings", "set", "stall-timeout-secs", "1"]);
    let gw = env.serve().await;
    let started = Instant::now();
    let (s, _, _) = chat(&gw, "duo", &[]).await;
    assert_eq!(s, 200);
    assert!(started.elapsed() < Duration::from_secs(4), "gave up on the slow one after ~1 s: {:?}", started.elapsed());

    let res = http()
        .post(gw.chat_url())
        .json(&json!({"model": "stally/m", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("stall-timeout-secs") && text.contains("\"error\""),
        "the stalled stream ends with an error event: {text}"
    );
}

#[test]
fn combos_nest_and_cycles_are_refused() {
    let env = Env::new();
    env.ok(&[
        "provider",
        "add",
        "a",
        "--kind",
        "openai",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--api-key",
        "k-00000000000",
    ]);
    env.ok(&["combo", "set", "inner", "a/x", "a/y"]);
    env.ok(&["combo", "set", "outer", "inner", "a/z", "--strategy", "round-robin"]);
    env.ok(&["alias", "set", "best", "outer"]);
    let err = env.fails(&["combo", "set", "inner", "a/x", "outer"]);
    assert!(err.contains("refers to itself") && err.contains("inner"), "{err}");
    assert!(env.fails(&["combo", "set", "bad", "nope/x"]).contains("unknown provider 'nope'"));
    assert!(env.fails(&["combo", "set", "a/b", "a/x"]).contains("invalid combo name"));
    assert!(env.fails(&["alias", "set", "a", "a/x"]).contains("already a provider"));
    let combos: Value = serde_json::from_str(&env.ok(&["combo", "list", "--json"])).unwrap();
    assert_eq!(combos.as_array().unwrap().len(), 2);
    assert_eq!(combos[1]["strategy"], "round-robin");
    assert!(env.ok(&["alias", "list"]).contains("best"));
    env.ok(&["combo", "remove", "outer"]);
    assert!(env.fails(&["combo", "remove", "outer"]).contains("no combo 'outer'"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_that_cannot_serve_a_request_are_skipped() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.ok(&[
        "provider",
        "add",
        "ds",
        "--kind",
        "openai",
        "--base-url",
        &mock.base_url(),
        "--models",
        "deepseek-chat",
        "--api-key",
        "ds-key",
    ]);
    env.ok(&[
        "provider",
        "add",
        "gm",
        "--kind",
        "openai",
        "--base-url",
        &mock.base_url(),
        "--models",
        "gemini-2.5-pro",
        "--api-key",
        "gm-key",
    ]);
    env.ok(&["combo", "set", "coder", "ds/deepseek-chat", "gm/gemini-2.5-pro"]);
    let gw = env.serve().await;
    let image = json!({"model": "coder", "messages": [{"role": "user", "content": [{"type": "text", "text": "what is it"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]});
    assert_eq!(http().post(gw.chat_url()).json(&image).send().await.unwrap().status(), 200);
    assert_eq!(keys_seen(&mock), ["gm-key"], "the text-only model was skipped");

    let text = json!({"model": "coder", "messages": [{"role": "user", "content": "x".repeat(600_000)}]});
    assert_eq!(http().post(gw.chat_url()).json(&text).send().await.unwrap().status(), 200);
    assert_eq!(keys_seen(&mock), ["gm-key", "gm-key"], "too long for a 128k context");

    let mut only = image.clone();
    only["model"] = json!("ds/deepseek-chat");
    let res = http().post(gw.chat_url()).json(&only).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["code"], "no_capable_model");
    assert!(v["error"]["message"].as_str().unwrap().contains("deepseek-chat takes no images"), "{v}");

    let small = json!({"model": "coder", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(http().post(gw.chat_url()).json(&small).send().await.unwrap().status(), 200);
    assert_eq!(keys_seen(&mock).last().unwrap(), "ds-key", "a plain request goes to the first member");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_the_configured_proxy() {
    // The mock doubles as an HTTP proxy: a proxied request names the absolute URL of a host
    // that does not exist, and the mock answers it by path.
    let proxy = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    env.ok(&[
        "provider",
        "add",
        "far",
        "--kind",
        "openai",
        "--base-url",
        "http://provider.invalid/v1",
        "--models",
        "m",
        "--api-key",
        "far-key",
    ]);
    let gw = env.serve().await;
    let (s, _, _) = chat(&gw, "far/m", &[]).await;
    assert_eq!(s, 502, "no proxy: the host does not resolve");

    gw.change(&env, &["settings", "set", "proxy", &format!("http://{}", proxy.addr)]).await;
    let (s, _, v) = chat(&gw, "far/m", &[]).await;
    assert_eq!(s, 200, "through the global proxy: {v}");
    assert_eq!(keys_seen(&proxy), ["far-key"]);

    gw.change(&env, &["provider", "set", "far", "--proxy", "none"]).await;
    assert_eq!(chat(&gw, "far/m", &[]).await.0, 502, "the provider opted out of the proxy");
    assert!(env.fails(&["provider", "set", "far", "--proxy", "ftp://x"]).contains("invalid --proxy"));
    assert!(env.fails(&["settings", "set", "proxy", "nonsense"]).contains("not a URL"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_can_have_its_own_timeouts() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "slow", &mock.base_url(), &["s1-slow-3000"]);
    add(&env, "fast", &mock.base_url(), &["f1"]);
    env.ok(&["combo", "set", "duo", "slow/m", "fast/m"]);
    env.ok(&["provider", "set", "slow", "--first-byte-timeout", "1"]);
    let gw = env.serve().await;
    let started = Instant::now();
    assert_eq!(chat(&gw, "duo", &[]).await.0, 200);
    assert!(
        started.elapsed() < Duration::from_millis(2800),
        "the provider's own 1 s limit applied: {:?}",
        started.elapsed()
    );
    let providers: Value = serde_json::from_str(&env.ok(&["provider", "list", "--json"])).unwrap();
    let slow = providers.as_array().unwrap().iter().find(|p| p["id"] == "slow").unwrap();
    assert_eq!(slow["first_byte_timeout_secs"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_at_its_concurrency_cap_is_passed_over() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    add(&env, "p", &mock.base_url(), &["k1-slow-600", "k2"]);
    env.ok(&["account", "set", "1", "--max-concurrent", "1"]);
    let gw = env.serve().await;
    let (a, b) = tokio::join!(chat(&gw, "p/m", &[]), async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        chat(&gw, "p/m", &[]).await
    });
    assert_eq!((a.0, b.0), (200, 200));
    assert_eq!(keys_seen(&mock), ["k1-slow-600", "k2"], "the second request went to k2 while k1 was busy");
    // Once the first answer is done, k1 serves again.
    assert_eq!(chat(&gw, "p/m", &[]).await.0, 200);
    assert_eq!(keys_seen(&mock).last().unwrap(), "k1-slow-600");
    gw.change(&env, &["account", "set", "2", "--enabled", "false"]).await;
    let (a, b) = tokio::join!(chat(&gw, "p/m", &[]), async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        chat(&gw, "p/m", &[]).await
    });
    assert_eq!(a.0, 200);
    assert_eq!((b.0, b.1.as_deref(), b.2["error"]["code"].as_str()), (429, Some("1"), Some("all_busy")), "{}", b.2);
}
