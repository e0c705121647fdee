//! Usage rows: batched inserts from the usage writer, and the queries behind `usage log` and
//! `usage summary`.

use super::{Store, StoreError};
use crate::usage::{Price, UsageRecord};
use serde::Serialize;
use sqlx::Row;

pub async fn insert(store: &Store, records: &[UsageRecord]) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    for r in records {
        let attempts = serde_json::to_string(&r.attempts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO usage_records (ts_ms, key_id, tool, inbound, requested_model, provider, account_id, model, attempts, stream,
             status, outcome, latency_ms, ttft_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
             reasoning_tokens, usage_reported, cost_usd, priced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.ts_ms)
        .bind(r.key_id)
        .bind(&r.tool)
        .bind(&r.inbound)
        .bind(&r.requested_model)
        .bind(&r.provider)
        .bind(r.account_id)
        .bind(&r.model)
        .bind(attempts)
        .bind(r.stream)
        .bind(r.status as i64)
        .bind(r.outcome.as_str())
        .bind(r.latency_ms)
        .bind(r.ttft_ms)
        .bind(r.usage.input as i64)
        .bind(r.usage.output as i64)
        .bind(r.usage.cache_read as i64)
        .bind(r.usage.cache_write as i64)
        .bind(r.usage.reasoning as i64)
        .bind(r.usage_reported)
        .bind(r.cost_usd)
        .bind(r.priced)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A usage row as listed.
#[derive(Debug, Clone, Serialize)]
pub struct UsageRow {
    pub id: i64,
    pub ts_ms: i64,
    pub key_id: Option<i64>,
    pub tool: String,
    pub inbound: String,
    pub requested_model: String,
    pub provider: Option<String>,
    pub account_id: Option<i64>,
    pub model: Option<String>,
    pub attempts: Vec<String>,
    pub stream: bool,
    pub status: i64,
    pub outcome: String,
    pub latency_ms: i64,
    pub ttft_ms: Option<i64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub reasoning_tokens: i64,
    pub usage_reported: bool,
    pub cost_usd: f64,
    pub priced: bool,
}

/// The newest `limit` records, newest first.
pub async fn recent(store: &Store, limit: i64) -> Result<Vec<UsageRow>, StoreError> {
    let rows =
        sqlx::query("SELECT * FROM usage_records ORDER BY id DESC LIMIT ?").bind(limit).fetch_all(store.pool()).await?;
    rows.iter()
        .map(|r| {
            Ok(UsageRow {
                id: r.get("id"),
                ts_ms: r.get("ts_ms"),
                key_id: r.get("key_id"),
                tool: r.get("tool"),
                inbound: r.get("inbound"),
                requested_model: r.get("requested_model"),
                provider: r.get("provider"),
                account_id: r.get("account_id"),
                model: r.get("model"),
                attempts: serde_json::from_str(&r.get::<String, _>("attempts"))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                stream: r.get("stream"),
                status: r.get("status"),
                outcome: r.get("outcome"),
                latency_ms: r.get("latency_ms"),
                ttft_ms: r.get("ttft_ms"),
                input_tokens: r.get("input_tokens"),
                output_tokens: r.get("output_tokens"),
                cache_read_tokens: r.get("cache_read_tokens"),
                cache_write_tokens: r.get("cache_write_tokens"),
                reasoning_tokens: r.get("reasoning_tokens"),
                usage_reported: r.get("usage_reported"),
                cost_usd: r.get("cost_usd"),
                priced: r.get("priced"),
            })
        })
        .collect()
}

/// Totals of one group in a summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UsageTotals {
    pub group: String,
    pub requests: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub reasoning_tokens: i64,
    pub avg_latency_ms: f64,
    pub cost_usd: f64,
}

/// Totals since `since_ms`, grouped by a column (`by` is one of a fixed set, never user text).
pub async fn summary(store: &Store, since_ms: i64, by: &'static str) -> Result<Vec<UsageTotals>, StoreError> {
    let sql = format!(
        "SELECT COALESCE(CAST({by} AS TEXT), '-') AS grp, COUNT(*) AS requests, SUM(outcome = 'error') AS errors,
         SUM(input_tokens) AS input, SUM(output_tokens) AS output, SUM(cache_read_tokens) AS cache_read,
         SUM(reasoning_tokens) AS reasoning, AVG(latency_ms) AS latency, SUM(cost_usd) AS cost
         FROM usage_records WHERE ts_ms >= ? GROUP BY grp ORDER BY requests DESC"
    );
    let rows = sqlx::query(&sql).bind(since_ms).fetch_all(store.pool()).await?;
    Ok(rows
        .iter()
        .map(|r| UsageTotals {
            group: r.get("grp"),
            requests: r.get("requests"),
            errors: r.get::<Option<i64>, _>("errors").unwrap_or(0),
            input_tokens: r.get::<Option<i64>, _>("input").unwrap_or(0),
            output_tokens: r.get::<Option<i64>, _>("output").unwrap_or(0),
            cache_read_tokens: r.get::<Option<i64>, _>("cache_read").unwrap_or(0),
            reasoning_tokens: r.get::<Option<i64>, _>("reasoning").unwrap_or(0),
            avg_latency_ms: r.get::<Option<f64>, _>("latency").unwrap_or(0.0),
            cost_usd: r.get::<Option<f64>, _>("cost").unwrap_or(0.0),
        })
        .collect())
}

/// Sets the user's price for `PROVIDER/MODEL`.
pub async fn upsert_price(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    model: &str,
    p: &Price,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO prices (model, input, output, cache_read, cache_write, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(model) DO UPDATE SET input = excluded.input, output = excluded.output,
         cache_read = excluded.cache_read, cache_write = excluded.cache_write",
    )
    .bind(model)
    .bind(p.input)
    .bind(p.output)
    .bind(p.cache_read)
    .bind(p.cache_write)
    .bind(super::now_rfc3339())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn list_prices(store: &Store) -> Result<Vec<(String, Price)>, StoreError> {
    let rows = sqlx::query("SELECT model, input, output, cache_read, cache_write FROM prices ORDER BY model")
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let price = Price {
                input: r.get("input"),
                output: r.get("output"),
                cache_read: r.get("cache_read"),
                cache_write: r.get("cache_write"),
            };
            (r.get("model"), price)
        })
        .collect())
}

/// What a key has spent since `since_ms`.
pub async fn spend_since(store: &Store, key_id: i64, since_ms: i64) -> Result<f64, StoreError> {
    let spent: Option<f64> =
        sqlx::query_scalar("SELECT SUM(cost_usd) FROM usage_records WHERE key_id = ? AND ts_ms >= ?")
            .bind(key_id)
            .bind(since_ms)
            .fetch_one(store.pool())
            .await?;
    Ok(spent.unwrap_or(0.0))
}
