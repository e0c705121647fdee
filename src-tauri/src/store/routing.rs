//! Routing rows: combos, aliases, and cooldowns. Combos and aliases are configuration (their
//! writes bump the revision); cooldowns are runtime state written by the gateway and read back
//! at start, so a known quota reset survives a restart.

use super::{Store, StoreError};
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq)]
pub struct ComboRecord {
    pub name: String,
    pub strategy: String,
    pub members: Vec<String>,
    /// Synthesis combos: the model that writes the final answer, and how long the members
    /// get (seconds).
    pub judge: Option<String>,
    pub deadline_secs: Option<i64>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AliasRecord {
    pub name: String,
    pub target: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CooldownRecord {
    pub account_id: i64,
    pub model: String,
    pub until_ms: i64,
    pub failures: i64,
    pub reason: String,
}

pub async fn upsert_combo(
    tx: &mut Transaction<'static, Any>,
    name: &str,
    strategy: &str,
    members: &[String],
    judge: Option<&str>,
    deadline_secs: Option<i64>,
) -> Result<(), StoreError> {
    let members = serde_json::to_string(members).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO combos (name, strategy, members, judge, deadline_secs, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT(name) DO UPDATE SET strategy = excluded.strategy, members = excluded.members,
             judge = excluded.judge, deadline_secs = excluded.deadline_secs",
    )
    .bind(name)
    .bind(strategy)
    .bind(members)
    .bind(judge)
    .bind(deadline_secs)
    .bind(super::now_rfc3339())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn list_combos(store: &Store) -> Result<Vec<ComboRecord>, StoreError> {
    let rows =
        sqlx::query("SELECT name, strategy, members, judge, deadline_secs, created_at FROM combos ORDER BY name")
            .fetch_all(store.pool())
            .await?;
    rows.iter()
        .map(|r| {
            let name: String = r.get("name");
            Ok(ComboRecord {
                members: serde_json::from_str(&r.get::<String, _>("members"))
                    .map_err(|e| StoreError::Corrupt(format!("combo {name}: {e}")))?,
                strategy: r.get("strategy"),
                judge: r.get("judge"),
                deadline_secs: r.get("deadline_secs"),
                created_at: r.get("created_at"),
                name,
            })
        })
        .collect()
}

pub async fn remove_combo(tx: &mut Transaction<'static, Any>, name: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("DELETE FROM combos WHERE name = $1").bind(name).execute(&mut **tx).await?.rows_affected() > 0)
}

pub async fn upsert_alias(tx: &mut Transaction<'static, Any>, name: &str, target: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO aliases (name, target, created_at) VALUES ($1, $2, $3) ON CONFLICT(name) DO UPDATE SET target = excluded.target")
        .bind(name)
        .bind(target)
        .bind(super::now_rfc3339())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn list_aliases(store: &Store) -> Result<Vec<AliasRecord>, StoreError> {
    let rows =
        sqlx::query("SELECT name, target, created_at FROM aliases ORDER BY name").fetch_all(store.pool()).await?;
    Ok(rows
        .iter()
        .map(|r| AliasRecord { name: r.get("name"), target: r.get("target"), created_at: r.get("created_at") })
        .collect())
}

pub async fn remove_alias(tx: &mut Transaction<'static, Any>, name: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("DELETE FROM aliases WHERE name = $1").bind(name).execute(&mut **tx).await?.rows_affected() > 0)
}

/// Cooldowns still in force at `now_ms`.
pub async fn active_cooldowns(store: &Store, now_ms: i64) -> Result<Vec<CooldownRecord>, StoreError> {
    let rows = sqlx::query("SELECT account_id, model, until_ms, failures, reason FROM cooldowns WHERE until_ms > $1")
        .bind(now_ms)
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| CooldownRecord {
            account_id: r.get("account_id"),
            model: r.get("model"),
            until_ms: r.get("until_ms"),
            failures: r.get("failures"),
            reason: r.get("reason"),
        })
        .collect())
}

/// Saves a cooldown and bumps the shared routing state's revision (other gateways on the same
/// database then load it).
pub async fn save_cooldown(store: &Store, c: &CooldownRecord) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO cooldowns (account_id, model, until_ms, failures, reason) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT(account_id, model) DO UPDATE SET until_ms = excluded.until_ms, failures = excluded.failures, reason = excluded.reason",
    )
    .bind(c.account_id)
    .bind(&c.model)
    .bind(c.until_ms)
    .bind(c.failures)
    .bind(&c.reason)
    .execute(&mut *tx)
    .await?;
    bump_state_rev(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn bump_state_rev(tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'state_rev'").execute(&mut **tx).await?;
    Ok(())
}

/// The shared routing state's revision: bumped by every cooldown saved or cleared.
pub async fn state_rev(store: &Store) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = 'state_rev'").fetch_one(store.pool()).await?)
}

pub async fn clear_cooldown(store: &Store, account_id: i64, model: &str) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM cooldowns WHERE account_id = $1 AND model = $2")
        .bind(account_id)
        .bind(model)
        .execute(&mut *tx)
        .await?;
    bump_state_rev(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Marks an account as needing the user's attention (or clears the mark with `None`).
pub async fn set_needs_attention(store: &Store, account_id: i64, reason: Option<&str>) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    sqlx::query("UPDATE accounts SET needs_attention = $1 WHERE id = $2")
        .bind(reason)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    super::bump_config_rev(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
