//! Requests and tokens per gateway key per minute, kept in the store for gateways that share
//! a database: each one counts into the same rows, so a key's rpm and tpm hold across the
//! fleet. A minute's count is taken and checked in one statement (the row is locked while it
//! is), so concurrent gateways cannot both take the last request of a limit. A gateway may
//! take several at once (`count`) and serve them without asking again.

use super::{Store, StoreError};
use sqlx::Row;

pub const MINUTE_MS: i64 = 60_000;

/// Counts `count` requests of `key_id` in the minute starting at `window_ms` if that minute
/// then holds at most `max_requests` requests and holds fewer than `max_tokens` tokens;
/// returns whether they were taken.
pub async fn take(
    store: &Store,
    key_id: i64,
    window_ms: i64,
    count: i64,
    max_requests: i64,
    max_tokens: i64,
) -> Result<bool, StoreError> {
    if count > max_requests || max_tokens <= 0 {
        return Ok(false);
    }
    let taken = sqlx::query(
        "INSERT INTO rate_counters (key_id, window_ms, requests, tokens) VALUES ($1, $2, $5, 0)
         ON CONFLICT (key_id, window_ms) DO UPDATE SET requests = rate_counters.requests + $5
         WHERE rate_counters.requests + $5 <= $3 AND rate_counters.tokens < $4
         RETURNING requests",
    )
    .bind(key_id)
    .bind(window_ms)
    .bind(max_requests)
    .bind(max_tokens)
    .bind(count)
    .fetch_optional(store.pool())
    .await?;
    Ok(taken.is_some())
}

/// The requests and tokens counted in one minute.
pub async fn counted(store: &Store, key_id: i64, window_ms: i64) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query("SELECT requests, tokens FROM rate_counters WHERE key_id = $1 AND window_ms = $2")
        .bind(key_id)
        .bind(window_ms)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map_or((0, 0), |r| (r.get("requests"), r.get("tokens"))))
}

/// Adds a finished request's tokens to its minute.
pub async fn add_tokens(store: &Store, key_id: i64, window_ms: i64, tokens: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO rate_counters (key_id, window_ms, requests, tokens) VALUES ($1, $2, 0, $3)
         ON CONFLICT (key_id, window_ms) DO UPDATE SET tokens = rate_counters.tokens + excluded.tokens",
    )
    .bind(key_id)
    .bind(window_ms)
    .bind(tokens)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Forgets minutes before `before_ms`.
pub async fn prune(store: &Store, before_ms: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM rate_counters WHERE window_ms < $1").bind(before_ms).execute(store.pool()).await?;
    Ok(())
}
