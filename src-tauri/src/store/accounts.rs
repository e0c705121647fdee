//! Account rows: one credential of a provider, with label, priority and enabled flag. The
//! secret column only ever holds a sealed value (see `secrets`).

use super::{Store, StoreError};
use sqlx::{Any, Row, Transaction};

/// An account as shown to users: never the secret, only a hint of it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub id: i64,
    pub provider_id: String,
    pub label: String,
    pub priority: i64,
    pub enabled: bool,
    pub key_hint: String,
    pub created_at: String,
    /// Why the gateway stopped using this account (a rejected key), until the user acts.
    pub needs_attention: Option<String>,
    /// Requests this account may serve at once (None: no cap).
    pub max_concurrent: Option<i64>,
    /// A subscription login (None: an API key).
    pub login: Option<crate::base::kinds::LoginInfo>,
}

pub struct NewAccount<'a> {
    pub provider_id: &'a str,
    pub label: &'a str,
    pub priority: i64,
    pub sealed_secret: Option<Vec<u8>>,
    pub key_hint: String,
    /// A login's shown part, JSON.
    pub login: Option<String>,
}

/// The associated data an account secret is sealed with: a sealed value copied to another
/// provider's account does not open.
pub fn secret_purpose(provider_id: &str) -> String {
    format!("account-secret:{provider_id}")
}

pub async fn insert(tx: &mut Transaction<'static, Any>, a: NewAccount<'_>) -> Result<i64, StoreError> {
    let done = sqlx::query(
        "INSERT INTO accounts (provider_id, label, priority, enabled, secret, key_hint, login, created_at) VALUES ($1, $2, $3, 1, $4, $5, $6, $7) RETURNING id",
    )
    .bind(a.provider_id)
    .bind(a.label)
    .bind(a.priority)
    .bind(a.sealed_secret)
    .bind(a.key_hint)
    .bind(a.login)
    .bind(super::now_rfc3339())
    .fetch_one(&mut **tx)
    .await?;
    Ok(done.get("id"))
}

fn record(r: &sqlx::any::AnyRow) -> AccountRecord {
    AccountRecord {
        id: r.get("id"),
        provider_id: r.get("provider_id"),
        label: r.get("label"),
        priority: r.get("priority"),
        enabled: r.get::<i64, _>("enabled") != 0,
        key_hint: r.get("key_hint"),
        created_at: r.get("created_at"),
        needs_attention: r.get("needs_attention"),
        max_concurrent: r.get("max_concurrent"),
        login: r.get::<Option<String>, _>("login").and_then(|j| serde_json::from_str(&j).ok()),
    }
}

const COLUMNS: &str =
    "id, provider_id, label, priority, enabled, key_hint, created_at, secret, needs_attention, max_concurrent, login";
const ORDER: &str = "ORDER BY provider_id, priority, id";

pub async fn list(store: &Store) -> Result<Vec<AccountRecord>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts {ORDER}")).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(record).collect())
}

/// Accounts with their sealed secrets, for building the runtime snapshot.
pub async fn list_sealed(store: &Store) -> Result<Vec<(AccountRecord, Option<Vec<u8>>)>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts {ORDER}")).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(|r| (record(r), r.get::<Option<Vec<u8>>, _>("secret"))).collect())
}

/// Changes an account's priority, enabled flag, label or concurrency cap; a change clears
/// "needs attention".
/// Returns whether it exists.
pub async fn update(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    change: &AccountChange<'_>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE accounts SET priority = COALESCE($1, priority), enabled = COALESCE($2, enabled), label = COALESCE($3, label),
         max_concurrent = CASE WHEN $4 = 1 THEN $5 ELSE max_concurrent END, needs_attention = NULL WHERE id = $6",
    )
    .bind(change.priority)
    .bind(change.enabled.map(i64::from))
    .bind(change.label)
    .bind(change.max_concurrent.is_some() as i64)
    .bind(change.max_concurrent.flatten())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// What `account set` changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct AccountChange<'a> {
    pub priority: Option<i64>,
    pub enabled: Option<bool>,
    pub label: Option<&'a str>,
    /// `Some(None)` removes the cap.
    pub max_concurrent: Option<Option<i64>>,
}

pub async fn remove(tx: &mut Transaction<'static, Any>, id: i64) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM accounts WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected() > 0)
}

/// Replaces a login account's sealed secret and shown part (a refresh, or a new sign-in of
/// the same account, which also clears "needs attention").
pub async fn set_login(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    sealed_secret: &[u8],
    login: &str,
    clear_attention: bool,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE accounts SET secret = $1, login = $2, needs_attention = CASE WHEN $3 = 1 THEN NULL ELSE needs_attention END WHERE id = $4",
    )
    .bind(sealed_secret)
    .bind(login)
    .bind(clear_attention as i64)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Stores the quota windows last reported for an account.
pub async fn save_quota(store: &Store, id: i64, fetched_ms: i64, windows_json: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO login_quotas (account_id, fetched_ms, windows) VALUES ($1, $2, $3)
         ON CONFLICT(account_id) DO UPDATE SET fetched_ms = excluded.fetched_ms, windows = excluded.windows",
    )
    .bind(id)
    .bind(fetched_ms)
    .bind(windows_json)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Every stored quota: (account, fetched at ms, windows JSON).
pub async fn quotas(store: &Store) -> Result<Vec<(i64, i64, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT account_id, fetched_ms, windows FROM login_quotas").fetch_all(store.pool()).await?)
}
