//! The requests each capped account serves now, across the gateways sharing a PostgreSQL
//! database: a slot is a row, taken under a lock on the account's row (so two gateways cannot
//! both take the last one) and deleted when the answer ends. A gateway renews its rows while
//! it runs; the rows of one that died expire.

use super::{Store, StoreError};
use sqlx::Row;

/// Takes one of `account`'s `cap` slots for `holder` until `until_ms`; returns its id, or
/// None when every slot is taken. PostgreSQL only (the lock is `SELECT ... FOR UPDATE`).
pub async fn take(
    store: &Store,
    account: i64,
    cap: i64,
    holder: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<Option<i64>, StoreError> {
    let mut tx = store.begin().await?;
    sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE").bind(account).fetch_optional(&mut *tx).await?;
    let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_slots WHERE account_id = $1 AND until_ms > $2")
        .bind(account)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
    if taken >= cap {
        tx.rollback().await?;
        return Ok(None);
    }
    let row = sqlx::query("INSERT INTO account_slots (account_id, holder, until_ms) VALUES ($1, $2, $3) RETURNING id")
        .bind(account)
        .bind(holder)
        .bind(until_ms)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(row.get("id")))
}

pub async fn release(store: &Store, slot: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM account_slots WHERE id = $1").bind(slot).execute(store.pool()).await?;
    Ok(())
}

/// Extends `holder`'s slots to `until_ms` and forgets expired ones.
pub async fn renew(store: &Store, holder: &str, now_ms: i64, until_ms: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE account_slots SET until_ms = $1 WHERE holder = $2")
        .bind(until_ms)
        .bind(holder)
        .execute(store.pool())
        .await?;
    sqlx::query("DELETE FROM account_slots WHERE until_ms <= $1").bind(now_ms).execute(store.pool()).await?;
    Ok(())
}
