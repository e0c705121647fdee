//! Provider rows: id, wire kind, base URL, auth style and the model list shown in /v1/models.

use super::{Store, StoreError};
use crate::base::kinds::{AuthStyle, Format, Strategy};
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRecord {
    pub id: String,
    pub kind: Format,
    pub base_url: String,
    pub auth: AuthStyle,
    pub models: Vec<String>,
    pub from_catalog: bool,
    pub created_at: String,
    /// How requests spread over the provider's accounts.
    pub strategy: Strategy,
    /// Sticky round-robin: uses of one account before moving on.
    pub sticky_uses: i64,
    /// Outbound proxy for this provider (`none` turns a global proxy off for it).
    pub proxy: Option<String>,
    pub first_byte_timeout_secs: Option<i64>,
    pub stall_timeout_secs: Option<i64>,
}

pub async fn insert(tx: &mut Transaction<'static, Any>, p: &ProviderRecord) -> Result<(), StoreError> {
    let models = serde_json::to_string(&p.models).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query("INSERT INTO providers (id, kind, base_url, auth, models, from_catalog, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&p.id)
        .bind(p.kind.as_str())
        .bind(&p.base_url)
        .bind(p.auth.as_str())
        .bind(models)
        .bind(p.from_catalog as i64)
        .bind(&p.created_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn exists(tx: &mut Transaction<'static, Any>, id: &str) -> Result<bool, StoreError> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM providers WHERE id = $1").bind(id).fetch_one(&mut **tx).await?;
    Ok(n > 0)
}

pub async fn list(store: &Store) -> Result<Vec<ProviderRecord>, StoreError> {
    let rows =
        sqlx::query("SELECT id, kind, base_url, auth, models, from_catalog, created_at, strategy, sticky_uses, proxy, first_byte_timeout_secs, stall_timeout_secs FROM providers ORDER BY id")
            .fetch_all(store.pool())
            .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.get("id");
            let corrupt = |what: String| StoreError::Corrupt(format!("provider {id}: {what}"));
            Ok(ProviderRecord {
                kind: r.get::<String, _>("kind").parse().map_err(corrupt)?,
                auth: r.get::<String, _>("auth").parse().map_err(corrupt)?,
                models: serde_json::from_str(&r.get::<String, _>("models")).map_err(|e| corrupt(e.to_string()))?,
                base_url: r.get("base_url"),
                from_catalog: r.get::<i64, _>("from_catalog") != 0,
                created_at: r.get("created_at"),
                strategy: r.get::<String, _>("strategy").parse().map_err(corrupt)?,
                sticky_uses: r.get("sticky_uses"),
                proxy: r.get("proxy"),
                first_byte_timeout_secs: r.get("first_byte_timeout_secs"),
                stall_timeout_secs: r.get("stall_timeout_secs"),
                id,
            })
        })
        .collect()
}

/// Sets how requests spread over a provider's accounts. Returns whether it exists.
pub async fn set_strategy(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    strategy: Strategy,
    sticky_uses: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE providers SET strategy = $1, sticky_uses = $2 WHERE id = $3")
        .bind(strategy.as_str())
        .bind(sticky_uses)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Per-provider network settings; `Some(None)` clears one. Returns whether the provider exists.
pub async fn set_network(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    proxy: Option<Option<&str>>,
    first_byte: Option<Option<i64>>,
    stall: Option<Option<i64>>,
) -> Result<bool, StoreError> {
    let exists = exists(tx, id).await?;
    if let Some(proxy) = proxy {
        sqlx::query("UPDATE providers SET proxy = $1 WHERE id = $2").bind(proxy).bind(id).execute(&mut **tx).await?;
    }
    if let Some(v) = first_byte {
        sqlx::query("UPDATE providers SET first_byte_timeout_secs = $1 WHERE id = $2")
            .bind(v)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(v) = stall {
        sqlx::query("UPDATE providers SET stall_timeout_secs = $1 WHERE id = $2")
            .bind(v)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(exists)
}

/// Removes a provider and (by cascade) its accounts. Returns whether it existed.
pub async fn remove(tx: &mut Transaction<'static, Any>, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM providers WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected() > 0)
}
