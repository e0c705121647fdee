//! Gateway keys: the keys clients present to Switchyard. Only a SHA-256 hash and a short hint
//! are stored; the key itself is shown once, at creation.

use super::{Store, StoreError};
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq)]
pub struct GatewayKeyRecord {
    pub id: i64,
    pub name: String,
    pub key_hint: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub limits: KeyLimits,
    /// The token saver for this key's requests; None follows the global `token-saver` setting.
    pub token_saver: Option<bool>,
}

/// Budgets and limits of a gateway key; `None` is no limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyLimits {
    pub budget_daily_usd: Option<f64>,
    pub budget_monthly_usd: Option<f64>,
    pub rpm: Option<i64>,
    pub tpm: Option<i64>,
    /// Comma-separated globs of the model names the key may use.
    pub models: Option<String>,
    /// RFC 3339.
    pub expires_at: Option<String>,
}

pub async fn insert(
    tx: &mut Transaction<'static, Any>,
    name: &str,
    key_hash: &str,
    key_hint: &str,
) -> Result<i64, StoreError> {
    let done = sqlx::query(
        "INSERT INTO gateway_keys (name, key_hash, key_hint, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(key_hash)
    .bind(key_hint)
    .bind(super::now_rfc3339())
    .fetch_one(&mut **tx)
    .await?;
    Ok(done.get("id"))
}

pub async fn list(store: &Store) -> Result<Vec<GatewayKeyRecord>, StoreError> {
    let rows = sqlx::query("SELECT id, name, key_hint, created_at, revoked_at, budget_daily_usd, budget_monthly_usd, rpm, tpm, models, expires_at, token_saver FROM gateway_keys ORDER BY id")
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| GatewayKeyRecord {
            id: r.get("id"),
            name: r.get("name"),
            key_hint: r.get("key_hint"),
            created_at: r.get("created_at"),
            revoked_at: r.get("revoked_at"),
            limits: KeyLimits {
                budget_daily_usd: r.get("budget_daily_usd"),
                budget_monthly_usd: r.get("budget_monthly_usd"),
                rpm: r.get("rpm"),
                tpm: r.get("tpm"),
                models: r.get("models"),
                expires_at: r.get("expires_at"),
            },
            token_saver: r.get::<Option<i64>, _>("token_saver").map(|on| on != 0),
        })
        .collect())
}

/// (id, hash) of keys that are not revoked.
pub async fn active_hashes(store: &Store) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT id, key_hash FROM gateway_keys WHERE revoked_at IS NULL").fetch_all(store.pool()).await?)
}

/// Revokes a key; returns false when no such active key exists.
pub async fn revoke(tx: &mut Transaction<'static, Any>, id: i64) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE gateway_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(super::now_rfc3339())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Replaces a key's limits. Returns whether the key exists.
pub async fn set_limits(tx: &mut Transaction<'static, Any>, id: i64, l: &KeyLimits) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE gateway_keys SET budget_daily_usd = $1, budget_monthly_usd = $2, rpm = $3, tpm = $4, models = $5, expires_at = $6 WHERE id = $7",
    )
    .bind(l.budget_daily_usd)
    .bind(l.budget_monthly_usd)
    .bind(l.rpm)
    .bind(l.tpm)
    .bind(&l.models)
    .bind(&l.expires_at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Sets a key's token saver switch (None: follow the global setting).
pub async fn set_token_saver(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    on: Option<bool>,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE gateway_keys SET token_saver = $1 WHERE id = $2")
        .bind(on.map(i64::from))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// SHA-256 of a presented key. Keys carry 192 random bits, so a fast hash is safe here and keeps
/// the check off the request's critical path.
pub fn hash_key(key: &str) -> [u8; 32] {
    <sha2::Sha256 as sha2::Digest>::digest(key.as_bytes()).into()
}
