//! Dashboard sessions kept in the store (the SHA-256 of each cookie token and its expiry), so
//! that every gateway on one database knows them: a login on one is valid on all, a logout
//! ends it everywhere.

use super::{Store, StoreError};

pub async fn insert(store: &Store, token_hash: &str, now_ms: i64, expires_ms: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1").bind(now_ms).execute(store.pool()).await?;
    sqlx::query("INSERT INTO sessions (token_hash, created_ms, expires_ms) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Whether the session is there and not expired at `now_ms`.
pub async fn is_live(store: &Store, token_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = $1 AND expires_ms > $2")
        .bind(token_hash)
        .bind(now_ms)
        .fetch_one(store.pool())
        .await?;
    Ok(n > 0)
}

pub async fn remove(store: &Store, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(store.pool()).await?;
    Ok(())
}

pub async fn remove_all(store: &Store) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions").execute(store.pool()).await?;
    Ok(())
}
