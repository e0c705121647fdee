//! Settings: a key/value table of user choices (e.g. `require-key`). Typed access lives in
//! `manage::settings`; this module only reads and writes rows.

use super::{Store, StoreError};
use sqlx::{Any, Transaction};
use std::collections::BTreeMap;

pub async fn all(store: &Store) -> Result<BTreeMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM settings").fetch_all(store.pool()).await?;
    Ok(rows.into_iter().collect())
}

pub async fn set(tx: &mut Transaction<'static, Any>, key: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
