//! Team mode: three `serve` processes on one PostgreSQL database, as behind a load balancer.
//! A change made through any of them reaches the others within a second (configuration, a
//! revoked key, a dashboard login and logout); each request is recorded exactly once, by the
//! gateway that served it; one gateway killed with SIGKILL costs the others nothing; /ready
//! answers for the load balancer; a gateway started with another master key is refused.

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::mock_auth::MockAuth;
use crate::common::postgres::Postgres;
use crate::common::{http, Env, Gateway};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// One chat request, its answer read to the end (with strict durability the end comes after
/// the record's commit).
async fn chat(gw: &Gateway, key: &str, model: &str) -> u16 {
    send_chat(&gw.url, key, model).await
}

async fn send_chat(url: &str, key: &str, model: &str) -> u16 {
    let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    let answer = http().post(format!("{url}/v1/chat/completions")).bearer_auth(key).json(&body).send().await.unwrap();
    let status = answer.status().as_u16();
    answer.bytes().await.expect("the whole answer");
    status
}

/// How long until `check` holds on every gateway (panics after 5 s).
async fn within_all<F, Fut>(gws: &[&Gateway], what: &str, check: F) -> Duration
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    for gw in gws {
        while !check(gw.url.clone()).await {
            assert!(started.elapsed() < Duration::from_secs(5), "{what}: not seen on {} after 5 s", gw.url);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    started.elapsed()
}

/// Waits until every gateway runs on the configuration revision the database holds now.
async fn caught_up(gws: &[&Gateway], pg: &Postgres) {
    let rev: i64 = pg.sql("fleet", "SELECT value FROM meta WHERE key = 'config_rev'").parse().unwrap();
    within_all(gws, "the latest configuration", |u| async move {
        let ready: Value = http().get(format!("{u}/ready")).send().await.unwrap().json().await.unwrap_or_default();
        ready["config_rev"].as_i64().unwrap_or(0) >= rev
    })
    .await;
}

async fn models(url: String, key: String) -> Vec<String> {
    let r = http().get(format!("{url}/v1/models")).bearer_auth(key).send().await.unwrap();
    let v: Value = r.json().await.unwrap_or_default();
    v["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_gateways_share_one_database() {
    let pg = Postgres::start();
    let url = pg.database("fleet");
    let keys = tempfile::tempdir().unwrap();
    let master = keys.path().join("fleet.key");
    Env::new().ok(&["master-key", "new", master.to_str().unwrap()]);
    let mock = MockProvider::start(MockConfig::default()).await;
    let envs: Vec<Env> = (0..3).map(|_| Env::new().with_store(&url, &master)).collect();
    envs[0].add_provider("mock", &mock.base_url(), "upstream-key", "m");
    envs[0].ok(&["settings", "set", "require-key", "true"]);
    envs[0].ok(&["settings", "set", "usage-durability", "strict"]);
    let key = envs[1].ok(&["key", "create", "--name", "team"]).trim().to_string();
    let old_key = envs[2].ok(&["key", "create", "--name", "leaver"]).trim().to_string();
    let limited_key = envs[1].ok(&["key", "create", "--name", "limited"]).trim().to_string();
    let listed: Value = serde_json::from_str(&envs[1].ok(&["key", "list", "--json"])).unwrap();
    let limited_id =
        listed.as_array().unwrap().iter().find(|k| k["name"] == "limited").unwrap()["id"].as_i64().unwrap();
    envs[2].ok(&["key", "set", &limited_id.to_string(), "--rpm", "6"]);
    // A larger limit, whose requests each gateway takes from the shared count two at a time.
    let bulk_key = envs[1].ok(&["key", "create", "--name", "bulk"]).trim().to_string();
    envs[2].ok(&["key", "set", &(limited_id + 1).to_string(), "--rpm", "200"]);
    // An account that may serve two requests at once, each taking 700 ms.
    envs[0].add_provider("capped", &mock.base_url(), "slow-700", "m");
    let accounts: Value = serde_json::from_str(&envs[0].ok(&["account", "list", "--json"])).unwrap();
    let capped =
        accounts.as_array().unwrap().iter().find(|a| a["provider_id"] == "capped").unwrap()["id"].as_i64().unwrap();
    envs[1].ok(&["account", "set", &capped.to_string(), "--max-concurrent", "2"]);
    let mut gws = Vec::new();
    for env in &envs {
        gws.push(env.serve().await);
    }
    let all: Vec<&Gateway> = gws.iter().collect();
    let mut sent = 0;
    for gw in &all {
        let ready: Value = http().get(format!("{}/ready", gw.url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(ready["status"], "ready", "{ready}");
        assert_eq!(chat(gw, &key, "mock/m").await, 200);
        assert_eq!(chat(gw, &old_key, "mock/m").await, 200);
        sent += 2;
    }

    // Configuration made through one reaches every gateway.
    envs[2].add_provider("second", &mock.base_url(), "upstream-key-2", "m2");
    let key_for_models = key.clone();
    let took = within_all(&all, "a new provider", |u| {
        let k = key_for_models.clone();
        async move { models(u, k).await.contains(&"second/m2".to_string()) }
    })
    .await;
    assert!(took < Duration::from_secs(1), "a new provider reached every gateway in {took:?}");

    // A 429 with a reset learnt by one gateway: within a second the others skip that account
    // too (they go straight to the next one) until the reset.
    envs[0].add_provider("cool", &mock.base_url(), "fail-429-ra-30", "m");
    envs[0].ok(&["account", "add", "cool", "--api-key", "spare-key", "--priority", "1"]);
    caught_up(&all, &pg).await;
    let limited = || mock.requests().iter().filter(|r| format!("{:?}", r.headers).contains("fail-429-ra-30")).count();
    assert_eq!(chat(&gws[0], &key, "cool/m").await, 200, "served by the spare account");
    sent += 1;
    assert_eq!(limited(), 1, "the first gateway met the 429");
    tokio::time::sleep(Duration::from_secs(1)).await; // the bound under test
    for gw in &gws[1..] {
        assert_eq!(chat(gw, &key, "cool/m").await, 200);
        sent += 1;
    }
    assert_eq!(limited(), 1, "the other gateways skipped the cooling account");

    // A key's rpm holds across the fleet: 18 requests at once, 6 on each gateway, and exactly
    // the limit is served.
    let burst = (0..18).map(|i| chat(all[i % 3], &limited_key, "mock/m"));
    let statuses = futures_util::future::join_all(burst).await;
    let served = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((served, refused), (6, 12), "rpm 6 across three gateways: {statuses:?}");
    sent += served as i64;
    let mut bulk_served = 0;
    for i in 0..210 {
        match chat(all[i % 3], &bulk_key, "mock/m").await {
            200 => bulk_served += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert!((197..=200).contains(&bulk_served), "rpm 200 over three gateways served {bulk_served}");
    sent += bulk_served;

    // An account's max-concurrent holds across the fleet: six requests at once, two on each
    // gateway, and two are served while the others are told every account is busy.
    let burst = (0..6).map(|i| chat(all[i % 3], &key, "capped/m"));
    let statuses = futures_util::future::join_all(burst).await;
    let served = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!((served, statuses.iter().filter(|s| **s == 429).count()), (2, 4), "max-concurrent 2: {statuses:?}");
    sent += served as i64;

    // A key revoked through one gateway's dashboard API is refused by all.
    let (setup, cookie) = {
        let r = http()
            .post(format!("{}/api/session/setup", gws[0].url))
            .json(&json!({"password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        (r.status().as_u16(), cookie)
    };
    assert_eq!(setup, 200);
    let listed: Value = http()
        .get(format!("{}/api/keys", gws[1].url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let leaver = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "leaver")
        .expect("a session started on one gateway works on another")["id"]
        .as_i64()
        .unwrap();
    let revoked =
        http().delete(format!("{}/api/keys/{leaver}", gws[2].url)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    let old = old_key.clone();
    // Requests sent before a gateway saw the revocation are served (and recorded).
    let served_meanwhile = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let took = within_all(&all, "a revoked key", |u| {
        let (k, served) = (old.clone(), served_meanwhile.clone());
        async move {
            let status = send_chat(&u, &k, "mock/m").await;
            if status == 200 {
                served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            status == 401
        }
    })
    .await;
    assert!(took < Duration::from_secs(1), "the revocation reached every gateway in {took:?}");
    sent += served_meanwhile.load(std::sync::atomic::Ordering::SeqCst);

    // A logout on one gateway ends the session on all of them.
    let out = http().post(format!("{}/api/session/logout", gws[1].url)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(out.status(), 204);
    for gw in &gws {
        let r = http().get(format!("{}/api/overview", gw.url)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(r.status(), 401, "logged out everywhere ({})", gw.url);
    }

    // Requests spread over the fleet; one gateway is killed; the others keep serving.
    for i in 0..30 {
        assert_eq!(chat(all[i % 3], &key, "mock/m").await, 200);
        sent += 1;
    }
    gws[2].signal(libc::SIGKILL);
    gws[2].wait_exit(Duration::from_secs(5)).await;
    for i in 0..10 {
        assert_eq!(chat(&gws[i % 2], &key, "second/m2").await, 200);
        sent += 1;
    }
    // Every answered request has exactly one record (strict durability: committed before the
    // answer ended), the killed gateway's included.
    let served_ok: i64 = pg.sql("fleet", "SELECT COUNT(*) FROM usage_records WHERE status = 200").parse().unwrap();
    assert_eq!(served_ok, sent, "one record per request served");
    let per_hour: i64 = pg.sql("fleet", "SELECT SUM(requests) FROM usage_hourly").parse().unwrap();
    let all_records: i64 = pg.sql("fleet", "SELECT COUNT(*) FROM usage_records").parse().unwrap();
    assert_eq!(per_hour, all_records, "the hourly totals count each record once");

    // Another master key is refused at start, before anything is written.
    let other = keys.path().join("other.key");
    Env::new().ok(&["master-key", "new", other.to_str().unwrap()]);
    let intruder = Env::new().with_store(&url, &other);
    let err = intruder.fails(&["serve", "--port", "0"]);
    assert!(err.contains("sealed with another master key"), "{err}");
    let err = Env::new().with_store(&url, &keys.path().join("missing.key")).fails(&["provider", "list"]);
    assert!(err.contains("missing.key"), "{err}");
}

/// A subscription login whose token is due on three gateways at once: it is refreshed once
/// for the fleet, the others take the stored result, and its rotating refresh token is never
/// sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_is_refreshed_once_for_the_fleet() {
    let pg = Postgres::start();
    let url = pg.database("fleet");
    let keys = tempfile::tempdir().unwrap();
    let master = keys.path().join("fleet.key");
    Env::new().ok(&["master-key", "new", master.to_str().unwrap()]);
    let (auth, mock) = (MockAuth::start().await, MockProvider::start(MockConfig::default()).await);
    let envs: Vec<Env> = (0..3).map(|_| Env::new().with_store(&url, &master)).collect();
    crate::logins::point_at(&envs[0], &auth, "claude");
    envs[0].ok(&["provider", "add", "claude", "--base-url", &mock.root_url()]);
    // Ten minutes left: inside Claude's four-hour lead, so every gateway wants a refresh.
    let saved = json!({"claudeAiOauth": {"accessToken": "old-token", "refreshToken": "rt-claude",
        "expiresAt": crate::logins::now_ms() + 600_000, "scopes": ["user:inference"]}});
    crate::logins::write(&envs[0], ".claude/.credentials.json", &saved.to_string());
    envs[0].ok(&["login", "claude", "--import"]);
    let mut gws = Vec::new();
    for env in &envs {
        gws.push(env.serve().await);
    }
    let body =
        json!({"model": "claude/claude-sonnet-4-5", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]});
    let asks = (0..12).map(|i| {
        let (url, body) = (gws[i % 3].url.clone(), body.clone());
        async move {
            let r = http().post(format!("{url}/v1/messages")).json(&body).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
    });
    for (status, answer) in futures_util::future::join_all(asks).await {
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(auth.refreshes(), 1, "one refresh for three gateways and twelve requests");
    let seen = auth.state.refresh_tokens_seen.lock().unwrap().clone();
    assert_eq!(seen, ["rt-claude"], "the refresh token was sent once");
    let tokens: std::collections::HashSet<String> =
        mock.requests().iter().map(|r| crate::logins::header(r, "authorization")).collect();
    assert_eq!(tokens.len(), 1, "every gateway used the one new token: {tokens:?}");
}
