//! The store on both backends: the same management operations on SQLite and on PostgreSQL
//! give the same answers; a laptop's store copied into PostgreSQL, its secrets re-sealed with
//! the fleet's key; and the refusals at start (a missing or wrong master key, an unreachable
//! database, a schema newer than the build), each before anything is written.

use crate::common::postgres::Postgres;
use serde_json::{json, Value};
use std::path::Path;
use switchyard::base::records::{Outcome, Usage, UsageRecord};
use switchyard::login::quota::Window;
use switchyard::manage::{Manager, StoreLocation, UsageGroup};
use switchyard::snapshot::ConfigSnapshot;
use switchyard::store::routing::CooldownRecord;
use switchyard_api::{AccountChange, ComboSpec, KeyChange, NewAccount, NewProvider, ProviderChange};

const SECRET: &str = "sk-test-secret-1234567890";

fn record(ts_ms: i64, model: &str, outcome: Outcome, cost: f64) -> UsageRecord {
    UsageRecord {
        ts_ms,
        key_id: Some(1),
        tool: "claude-code".into(),
        inbound: "anthropic".into(),
        requested_model: model.into(),
        provider: Some("mine".into()),
        account_id: Some(1),
        model: Some(model.into()),
        attempts: vec!["mine#2: 429".into()],
        stream: true,
        status: 200,
        outcome,
        latency_ms: 700,
        ttft_ms: Some(120),
        usage: Usage { input: 1000, output: 50, cache_read: 200, cache_write: 0, reasoning: 10 },
        usage_reported: true,
        usage_estimated: false,
        chosen: Some("first by priority".into()),
        cost_usd: cost,
        api_equivalent_usd: cost,
        subscription: false,
        priced: true,
        tokens_saved: 33,
        group_id: None,
        part: None,
    }
}

/// Every kind of write the management layer makes.
async fn fill(m: &Manager) {
    let provider = NewProvider {
        id: "mine".into(),
        kind: Some("openai".into()),
        base_url: Some("http://127.0.0.1:9/v1".into()),
        models: vec!["m1".into(), "m2".into()],
        api_key: Some(SECRET.into()),
        ..Default::default()
    };
    m.provider_add(provider).await.unwrap();
    let second = NewAccount {
        provider: "mine".into(),
        api_key: Some("sk-second-key-abcdefghij".into()),
        label: "b".into(),
        priority: 1,
    };
    let second = m.account_add(second).await.unwrap();
    m.account_set(second.id, AccountChange { enabled: Some(false), max_concurrent: Some(3), ..Default::default() })
        .await
        .unwrap();
    let change = ProviderChange {
        strategy: Some("round-robin".into()),
        proxy: Some("none".into()),
        first_byte_timeout_secs: Some(30),
        ..Default::default()
    };
    m.provider_set("mine", change).await.unwrap();
    let k1 = m.key_create("laptop").await.unwrap();
    let limits = KeyChange {
        rpm: Some(10),
        budget_daily_usd: Some(2.5),
        models: Some("mine/*".into()),
        token_saver: Some("off".into()),
        ..Default::default()
    };
    m.key_set(k1.record.id, limits).await.unwrap();
    let k2 = m.key_create("old").await.unwrap();
    m.key_revoke(k2.record.id).await.unwrap();
    let combo = ComboSpec {
        strategy: "fallback".into(),
        members: vec!["mine/m1".into(), "mine/m2".into()],
        judge: None,
        deadline_secs: None,
    };
    m.combo_set("coding", combo).await.unwrap();
    m.alias_set("fast", "mine/m2").await.unwrap();
    m.settings_set("retention-days", "30").await.unwrap();
    m.settings_set("allowed-hosts", "gw.example.com").await.unwrap();
    m.price_set(
        "mine/m1",
        switchyard::base::records::Price { input: 1.0, output: 2.0, cache_read: Some(0.1), cache_write: None },
    )
    .await
    .unwrap();
    let now = switchyard::base::now_ms();
    let records = [
        record(now - 3 * 3_600_000, "m1", Outcome::Ok, 0.25),
        record(now - 3 * 3_600_000 + 5, "m2", Outcome::Error, 0.0),
        record(now, "m1", Outcome::ClientDisconnected, 0.5),
    ];
    switchyard::store::usage::insert(m.store(), &records[..2], false).await.unwrap();
    switchyard::store::usage::insert(m.store(), &records[2..], true).await.unwrap();
    let cooldown = CooldownRecord {
        account_id: 1,
        model: "m1".into(),
        until_ms: now + 3_600_000,
        failures: 2,
        reason: "429".into(),
    };
    switchyard::store::routing::save_cooldown(m.store(), &cooldown).await.unwrap();
    let windows = [Window { name: "5h".into(), used_percent: 42.5, resets_at_ms: Some(now + 1000), model: None }];
    m.quota_keep(1, &windows).await.unwrap();
}

/// What the management layer lists, timestamps left out (they differ between runs).
async fn listings(m: &Manager) -> Value {
    let mut out = json!({
        "providers": m.provider_list().await.unwrap(),
        "accounts": m.account_list().await.unwrap(),
        "keys": m.key_list().await.unwrap(),
        "combos": m.combo_list().await.unwrap(),
        "aliases": m.alias_list().await.unwrap(),
        "settings": m.settings_get().await.unwrap(),
        "models": m.model_names().await.unwrap(),
        "log": m.usage_log(10).await.unwrap(),
        "summary": m.usage_summary("7d", UsageGroup::Model).await.unwrap(),
        "series": m.usage_series("7d", "hour", UsageGroup::Provider).await.unwrap(),
        "cooldowns": m.cooldowns().await.unwrap(),
        "quotas": m.stored_quotas().await.unwrap().into_iter().map(|q| (q.account_id, q.windows)).collect::<Vec<_>>(),
        "prices": m.price_list().await.unwrap(),
    });
    strip(&mut out, &["created_at", "revoked_at", "id", "ts_ms", "bucket_ms", "until_ms", "resets_at_ms"]);
    strip(&mut out["keys"], &["key_hint"]); // random keys
    out
}

fn strip(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(map) => {
            for k in keys {
                if let Some(old) = map.get_mut(*k) {
                    *old = json!(if old.is_null() { "null" } else { "set" });
                }
            }
            map.values_mut().for_each(|v| strip(v, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, keys)),
        _ => {}
    }
}

fn key_file(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let out = std::process::Command::new(crate::common::BIN).args(["master-key", "new"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_answer_the_same_and_a_store_copies_into_postgres() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let fleet_key = key_file(dir.path(), "fleet.key");
    std::env::set_var("SWITCHYARD_KEYCHAIN", "off");

    // The same operations on a laptop's SQLite and on PostgreSQL.
    let laptop = Manager::open(&dir.path().join("laptop")).await.unwrap();
    fill(&laptop).await;
    let shared = StoreLocation { database_url: Some(pg.database("team")), master_key_file: Some(fleet_key.clone()) };
    let team = Manager::open_at(&dir.path().join("team"), &shared).await.unwrap();
    fill(&team).await;
    let on_sqlite = listings(&laptop).await;
    let on_postgres = listings(&team).await;
    assert_eq!(on_sqlite, on_postgres, "the same answers from both backends");
    assert_eq!(on_sqlite["summary"][0]["requests"], 2, "{}", on_sqlite["summary"]);
    assert_eq!(on_sqlite["accounts"][1]["enabled"], false);
    assert_eq!(on_sqlite["keys"][0]["rpm"], 10);
    assert_eq!(on_sqlite["log"].as_array().unwrap().len(), 3);
    let snapshot = ConfigSnapshot::load(team.store(), team.sealer()).await.unwrap();
    assert_eq!(snapshot.providers["mine"].accounts[0].secret.as_ref().unwrap().expose(), SECRET);
    let rev = team.store().config_rev().await.unwrap();
    assert!(rev > 10, "every configuration write bumps the revision: {rev}");

    // The laptop's store, copied into an empty database, its secrets re-sealed with the fleet's key.
    let copy_url = pg.database("copied");
    let copied = laptop.store_copy(&copy_url, Some(&fleet_key)).await.unwrap();
    assert!(copied.tables.iter().any(|(t, n)| *t == "usage_records" && *n == 3), "{:?}", copied.tables);
    let into = StoreLocation { database_url: Some(copy_url.clone()), master_key_file: Some(fleet_key.clone()) };
    let copy = Manager::open_at(&dir.path().join("copy"), &into).await.unwrap();
    assert_eq!(listings(&copy).await, on_sqlite, "the copy lists what the laptop did");
    let snapshot = ConfigSnapshot::load(copy.store(), copy.sealer()).await.unwrap();
    assert_eq!(snapshot.providers["mine"].accounts[0].secret.as_ref().unwrap().expose(), SECRET);
    let sealed = pg.sql("copied", "SELECT encode(secret, 'escape') FROM accounts");
    assert!(!sealed.contains(SECRET), "secrets are sealed in PostgreSQL");
    // New rows get new ids after the copied ones.
    let key = copy.key_create("after-copy").await.unwrap();
    assert!(key.record.id > 2, "{}", key.record.id);
    let again = laptop.store_copy(&copy_url, Some(&fleet_key)).await.unwrap_err().to_string();
    assert!(again.contains("already holds a store"), "{again}");

    // Refusals at start, before anything is written.
    let rev_before = pg.sql("team", "SELECT value FROM meta WHERE key = 'config_rev'");
    let other_key = key_file(dir.path(), "other.key");
    let wrong = StoreLocation { database_url: shared.database_url.clone(), master_key_file: Some(other_key) };
    let err = Manager::open_at(&dir.path().join("w"), &wrong).await.err().unwrap().to_string();
    assert!(err.contains("sealed with another master key"), "{err}");
    let keyless = StoreLocation { database_url: shared.database_url.clone(), master_key_file: None };
    let err = Manager::open_at(&dir.path().join("k"), &keyless).await.err().unwrap().to_string();
    assert!(err.contains("master-key-file"), "{err}");
    let nowhere = StoreLocation {
        database_url: Some("postgres://postgres@127.0.0.1:1/none".into()),
        master_key_file: Some(fleet_key.clone()),
    };
    let err = Manager::open_at(&dir.path().join("n"), &nowhere).await.err().unwrap().to_string();
    assert!(err.contains("cannot reach the database"), "{err}");
    let bad_scheme =
        StoreLocation { database_url: Some("mysql://x/y".into()), master_key_file: Some(fleet_key.clone()) };
    let err = Manager::open_at(&dir.path().join("s"), &bad_scheme).await.err().unwrap().to_string();
    assert!(err.contains("unsupported database URL"), "{err}");
    pg.sql(
        "team",
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', true, '\\x00', 0)",
    );
    let err = Manager::open_at(&dir.path().join("f"), &shared).await.err().unwrap().to_string();
    assert!(err.contains("newer than this Switchyard knows"), "{err}");
    assert_eq!(pg.sql("team", "SELECT value FROM meta WHERE key = 'config_rev'"), rev_before, "nothing was written");
}
