//! Short leases in the store: what only one gateway of a fleet may do at a time (refresh a
//! login) is done by the holder of its lease. Taking one is one statement; a lease that its
//! holder did not release (the gateway died) can be taken once it expires.

use super::{Store, StoreError};

/// Takes lease `name` for `holder` until `until_ms`, unless another holder has it past
/// `now_ms`; returns whether `holder` has it now.
pub async fn take(store: &Store, name: &str, holder: &str, now_ms: i64, until_ms: i64) -> Result<bool, StoreError> {
    let taken = sqlx::query(
        "INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
         WHERE leases.until_ms <= $4 OR leases.holder = excluded.holder
         RETURNING holder",
    )
    .bind(name)
    .bind(holder)
    .bind(until_ms)
    .bind(now_ms)
    .fetch_optional(store.pool())
    .await?;
    Ok(taken.is_some())
}

pub async fn release(store: &Store, name: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(store.pool())
        .await?;
    Ok(())
}
