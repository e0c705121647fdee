//! Usage rows: batched inserts from the usage writer, and the queries behind `usage log` and
//! `usage summary`.

use super::{Store, StoreError};
use crate::base::records::{Outcome, Price, UsageRecord};
use sqlx::Row;

/// Writes records in one transaction. `synced`: the commit is on disk before this returns,
/// power loss included (SQLite's `synchronous = FULL` for this transaction; PostgreSQL's
/// commits always are); otherwise it survives the process dying but may not survive the
/// machine losing power.
pub async fn insert(store: &Store, records: &[UsageRecord], synced: bool) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut conn = store.pool().acquire().await?;
    let synced = synced && store.backend() == super::Backend::Sqlite;
    if synced {
        sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
    }
    let written = async {
        let mut tx = conn.begin().await?;
        insert_rows(&mut tx, records).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await;
    if synced {
        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
    }
    written
}

async fn insert_rows(tx: &mut sqlx::AnyConnection, records: &[UsageRecord]) -> Result<(), StoreError> {
    for r in records {
        let attempts = serde_json::to_string(&r.attempts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO usage_records (ts_ms, key_id, tool, inbound, requested_model, provider, account_id, model, attempts, stream,
             status, outcome, latency_ms, ttft_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
             reasoning_tokens, usage_reported, cost_usd, priced, tokens_saved, group_id, part, api_equivalent_usd, usage_estimated, chosen)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)",
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
        .bind(r.stream as i64)
        .bind(r.status as i64)
        .bind(r.outcome.as_str())
        .bind(r.latency_ms)
        .bind(r.ttft_ms)
        .bind(r.usage.input as i64)
        .bind(r.usage.output as i64)
        .bind(r.usage.cache_read as i64)
        .bind(r.usage.cache_write as i64)
        .bind(r.usage.reasoning as i64)
        .bind(r.usage_reported as i64)
        .bind(r.cost_usd)
        .bind(r.priced as i64)
        .bind(r.tokens_saved as i64)
        .bind(r.group_id)
        .bind(r.part)
        .bind(r.api_equivalent_usd)
        .bind(r.usage_estimated as i64)
        .bind(&r.chosen)
        .execute(&mut *tx)
        .await?;
        add_to_hour(tx, r).await?;
    }
    Ok(())
}

/// Adds a record to its hourly aggregate (same transaction as the record).
async fn add_to_hour(tx: &mut sqlx::AnyConnection, r: &UsageRecord) -> Result<(), StoreError> {
    let model = match (&r.provider, &r.model) {
        (Some(p), Some(m)) => format!("{p}/{m}"),
        _ => r.requested_model.clone(),
    };
    let bucket = latency_bucket(r.latency_ms);
    let sql = format!(
        "INSERT INTO usage_hourly (hour_ms, provider, model, account_id, key_id, tool, requests, errors, input_tokens, output_tokens,
             cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, latency_ms_sum, tokens_saved, api_equivalent_usd, lat_{bucket})
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1)
         ON CONFLICT (hour_ms, provider, model, account_id, key_id, tool) DO UPDATE SET
             requests = usage_hourly.requests + 1, errors = usage_hourly.errors + excluded.errors,
             input_tokens = usage_hourly.input_tokens + excluded.input_tokens,
             output_tokens = usage_hourly.output_tokens + excluded.output_tokens,
             cache_read_tokens = usage_hourly.cache_read_tokens + excluded.cache_read_tokens,
             cache_write_tokens = usage_hourly.cache_write_tokens + excluded.cache_write_tokens,
             reasoning_tokens = usage_hourly.reasoning_tokens + excluded.reasoning_tokens,
             cost_usd = usage_hourly.cost_usd + excluded.cost_usd,
             latency_ms_sum = usage_hourly.latency_ms_sum + excluded.latency_ms_sum,
             tokens_saved = usage_hourly.tokens_saved + excluded.tokens_saved,
             api_equivalent_usd = usage_hourly.api_equivalent_usd + excluded.api_equivalent_usd,
             lat_{bucket} = usage_hourly.lat_{bucket} + 1"
    );
    sqlx::query(&sql)
        .bind(r.ts_ms.div_euclid(3_600_000) * 3_600_000)
        .bind(r.provider.clone().unwrap_or_default())
        .bind(model)
        .bind(r.account_id.unwrap_or(0))
        .bind(r.key_id.unwrap_or(0))
        .bind(&r.tool)
        .bind((r.outcome == Outcome::Error) as i64)
        .bind(r.usage.input as i64)
        .bind(r.usage.output as i64)
        .bind(r.usage.cache_read as i64)
        .bind(r.usage.cache_write as i64)
        .bind(r.usage.reasoning as i64)
        .bind(r.cost_usd)
        .bind(r.latency_ms)
        .bind(r.tokens_saved as i64)
        .bind(r.api_equivalent_usd)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Upper bounds (ms) of the latency buckets `lat_0`..`lat_9`; `lat_10` is everything longer.
pub const LATENCY_BOUNDS_MS: [i64; 10] = [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000];

fn latency_bucket(ms: i64) -> usize {
    LATENCY_BOUNDS_MS.iter().position(|b| ms < *b).unwrap_or(LATENCY_BOUNDS_MS.len())
}

/// A percentile from bucket counts: the upper bound of the bucket it falls in (None for the
/// open-ended last bucket, reported as "over 128 s").
pub fn percentile_ms(buckets: &[i64; 11], q: f64) -> Option<i64> {
    let total: i64 = buckets.iter().sum();
    if total == 0 {
        return Some(0);
    }
    let rank = (q * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (i, n) in buckets.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return LATENCY_BOUNDS_MS.get(i).copied();
        }
    }
    None
}

/// A usage row as listed.
#[derive(Debug, Clone)]
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
    pub outcome: Outcome,
    pub latency_ms: i64,
    pub ttft_ms: Option<i64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub reasoning_tokens: i64,
    pub usage_reported: bool,
    pub usage_estimated: bool,
    /// Why the account that answered was chosen.
    pub chosen: Option<String>,
    pub cost_usd: f64,
    pub priced: bool,
    pub tokens_saved: i64,
    /// The records of one synthesized request share this id.
    pub group_id: Option<i64>,
    /// In a synthesized request: `member` or `judge`.
    pub part: Option<String>,
    /// What it would have cost on the API (its cost, for API keys).
    pub api_equivalent_usd: f64,
}

/// The newest `limit` records, newest first.
pub async fn recent(store: &Store, limit: i64) -> Result<Vec<UsageRow>, StoreError> {
    let rows = sqlx::query("SELECT * FROM usage_records ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(row).collect()
}

fn row(r: &sqlx::any::AnyRow) -> Result<UsageRow, StoreError> {
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
        stream: r.get::<i64, _>("stream") != 0,
        status: r.get("status"),
        outcome: r.get::<String, _>("outcome").parse().map_err(StoreError::Corrupt)?,
        latency_ms: r.get("latency_ms"),
        ttft_ms: r.get("ttft_ms"),
        input_tokens: r.get("input_tokens"),
        output_tokens: r.get("output_tokens"),
        cache_read_tokens: r.get("cache_read_tokens"),
        cache_write_tokens: r.get("cache_write_tokens"),
        reasoning_tokens: r.get("reasoning_tokens"),
        usage_reported: r.get::<i64, _>("usage_reported") != 0,
        usage_estimated: r.get::<i64, _>("usage_estimated") != 0,
        chosen: r.get("chosen"),
        cost_usd: r.get("cost_usd"),
        priced: r.get::<i64, _>("priced") != 0,
        tokens_saved: r.get("tokens_saved"),
        group_id: r.get("group_id"),
        part: r.get("part"),
        api_equivalent_usd: r.get("api_equivalent_usd"),
    })
}

/// Totals of one group in a summary.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageTotals {
    pub group: String,
    pub requests: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub reasoning_tokens: i64,
    pub avg_latency_ms: f64,
    /// Upper bounds of the latency buckets the percentiles fall in (None: over 128 s).
    pub p50_latency_ms: Option<i64>,
    pub p95_latency_ms: Option<i64>,
    pub cost_usd: f64,
    /// What these requests would have cost on the API (more than the cost where
    /// subscriptions served them).
    pub api_equivalent_usd: f64,
    /// Tokens the token saver took out of these requests.
    pub tokens_saved: i64,
}

/// Totals since `since_ms` (rounded down to its hour), grouped by a column of the hourly
/// aggregates (`by` is one of a fixed set, never user text).
pub async fn summary(store: &Store, since_ms: i64, by: &'static str) -> Result<Vec<UsageTotals>, StoreError> {
    let sql = format!(
        "SELECT CAST({by} AS TEXT) AS grp, CAST(SUM(requests) AS BIGINT) AS requests, CAST(SUM(errors) AS BIGINT) AS errors,
         CAST(SUM(input_tokens) AS BIGINT) AS input, CAST(SUM(output_tokens) AS BIGINT) AS output, CAST(SUM(cache_read_tokens) AS BIGINT) AS cache_read,
         CAST(SUM(reasoning_tokens) AS BIGINT) AS reasoning, CAST(SUM(latency_ms_sum) AS DOUBLE PRECISION) / CAST(SUM(requests) AS DOUBLE PRECISION) AS latency, SUM(cost_usd) AS cost, SUM(api_equivalent_usd) AS api_cost, CAST(SUM(tokens_saved) AS BIGINT) AS saved, {LAT_SUMS}
         FROM usage_hourly WHERE hour_ms >= $1 GROUP BY grp ORDER BY requests DESC"
    );
    let rows = sqlx::query(&sql).bind(since_ms.div_euclid(3_600_000) * 3_600_000).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(totals).collect())
}

/// The bucket sums every analytics query selects.
const LAT_SUMS: &str = "CAST(SUM(lat_0) AS BIGINT) AS l0, CAST(SUM(lat_1) AS BIGINT) AS l1, CAST(SUM(lat_2) AS BIGINT) AS l2, CAST(SUM(lat_3) AS BIGINT) AS l3, CAST(SUM(lat_4) AS BIGINT) AS l4, \
    CAST(SUM(lat_5) AS BIGINT) AS l5, CAST(SUM(lat_6) AS BIGINT) AS l6, CAST(SUM(lat_7) AS BIGINT) AS l7, CAST(SUM(lat_8) AS BIGINT) AS l8, CAST(SUM(lat_9) AS BIGINT) AS l9, CAST(SUM(lat_10) AS BIGINT) AS l10";

fn totals(r: &sqlx::any::AnyRow) -> UsageTotals {
    let mut buckets = [0i64; 11];
    for (i, b) in buckets.iter_mut().enumerate() {
        *b = r.get::<Option<i64>, _>(format!("l{i}").as_str()).unwrap_or(0);
    }
    UsageTotals {
        p50_latency_ms: percentile_ms(&buckets, 0.5),
        p95_latency_ms: percentile_ms(&buckets, 0.95),
        group: r.get::<Option<String>, _>("grp").filter(|g| !g.is_empty() && g != "0").unwrap_or_else(|| "-".into()),
        requests: r.get::<Option<i64>, _>("requests").unwrap_or(0),
        errors: r.get::<Option<i64>, _>("errors").unwrap_or(0),
        input_tokens: r.get::<Option<i64>, _>("input").unwrap_or(0),
        output_tokens: r.get::<Option<i64>, _>("output").unwrap_or(0),
        cache_read_tokens: r.get::<Option<i64>, _>("cache_read").unwrap_or(0),
        reasoning_tokens: r.get::<Option<i64>, _>("reasoning").unwrap_or(0),
        avg_latency_ms: r.get::<Option<f64>, _>("latency").unwrap_or(0.0),
        cost_usd: r.get::<Option<f64>, _>("cost").unwrap_or(0.0),
        api_equivalent_usd: r.get::<Option<f64>, _>("api_cost").unwrap_or(0.0),
        tokens_saved: r.get::<Option<i64>, _>("saved").unwrap_or(0),
    }
}

/// One point of a time series: a bucket's start and its totals for one group.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoint {
    pub bucket_ms: i64,
    pub totals: UsageTotals,
}

/// Totals per hour or day (`bucket_ms`) and group since `since_ms`, oldest first.
pub async fn series(
    store: &Store,
    since_ms: i64,
    bucket_ms: i64,
    by: &'static str,
) -> Result<Vec<SeriesPoint>, StoreError> {
    let sql = format!(
        "SELECT (hour_ms / $1) * $2 AS bucket, CAST({by} AS TEXT) AS grp, CAST(SUM(requests) AS BIGINT) AS requests, CAST(SUM(errors) AS BIGINT) AS errors,
         CAST(SUM(input_tokens) AS BIGINT) AS input, CAST(SUM(output_tokens) AS BIGINT) AS output, CAST(SUM(cache_read_tokens) AS BIGINT) AS cache_read,
         CAST(SUM(reasoning_tokens) AS BIGINT) AS reasoning, CAST(SUM(latency_ms_sum) AS DOUBLE PRECISION) / CAST(SUM(requests) AS DOUBLE PRECISION) AS latency, SUM(cost_usd) AS cost, SUM(api_equivalent_usd) AS api_cost, CAST(SUM(tokens_saved) AS BIGINT) AS saved, {LAT_SUMS}
         FROM usage_hourly WHERE hour_ms >= $3 GROUP BY bucket, grp ORDER BY bucket, requests DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(bucket_ms)
        .bind(bucket_ms)
        .bind(since_ms.div_euclid(3_600_000) * 3_600_000)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(|r| SeriesPoint { bucket_ms: r.get("bucket"), totals: totals(r) }).collect())
}

/// Deletes raw records older than `before_ms` (their hourly aggregates stay). Returns how many.
pub async fn prune(store: &Store, before_ms: i64) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM usage_records WHERE ts_ms < $1")
        .bind(before_ms)
        .execute(store.pool())
        .await?
        .rows_affected())
}

/// Every record since `since_ms`, oldest first, for export.
pub async fn since(store: &Store, since_ms: i64) -> Result<Vec<UsageRow>, StoreError> {
    let rows = sqlx::query("SELECT * FROM usage_records WHERE ts_ms >= $1 ORDER BY id")
        .bind(since_ms)
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(row).collect()
}

/// Sets the user's price for `PROVIDER/MODEL`.
pub async fn upsert_price(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    model: &str,
    p: &Price,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO prices (model, input, output, cache_read, cache_write, created_at) VALUES ($1, $2, $3, $4, $5, $6)
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

/// What a key has spent since `since_ms` (rounded down to its hour: days and months start on
/// an hour), from the hourly totals, which outlive raw records.
pub async fn spend_since(store: &Store, key_id: i64, since_ms: i64) -> Result<f64, StoreError> {
    let since_ms = since_ms.div_euclid(3_600_000) * 3_600_000;
    let spent: Option<f64> =
        sqlx::query_scalar("SELECT SUM(cost_usd) FROM usage_hourly WHERE key_id = $1 AND hour_ms >= $2")
            .bind(key_id)
            .bind(since_ms)
            .fetch_one(store.pool())
            .await?;
    Ok(spent.unwrap_or(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::records::Usage;

    fn record(ts_ms: i64, model: &str, cost: f64) -> UsageRecord {
        UsageRecord {
            ts_ms,
            key_id: Some(1),
            tool: "t".into(),
            inbound: "openai".into(),
            requested_model: model.into(),
            provider: Some("p".into()),
            account_id: Some(1),
            model: Some(model.into()),
            attempts: vec![],
            stream: false,
            status: 200,
            outcome: Outcome::Ok,
            latency_ms: 10,
            ttft_ms: None,
            usage: Usage { input: 100, output: 10, cache_read: 0, cache_write: 0, reasoning: 0 },
            usage_reported: true,
            usage_estimated: false,
            chosen: None,
            cost_usd: cost,
            priced: true,
            tokens_saved: 7,
            group_id: None,
            api_equivalent_usd: 0.0,
            subscription: false,
            part: None,
        }
    }

    #[test]
    fn percentiles_come_from_latency_buckets() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(250), 1);
        assert_eq!(latency_bucket(200_000), 10);
        let mut b = [0i64; 11];
        b[0] = 90; // 90 requests under 250 ms
        b[4] = 9; // 9 under 4 s
        b[10] = 1; // 1 over 128 s
        assert_eq!(percentile_ms(&b, 0.5), Some(250));
        assert_eq!(percentile_ms(&b, 0.95), Some(4_000));
        assert_eq!(percentile_ms(&b, 1.0), None, "over the last bound");
        assert_eq!(percentile_ms(&[0; 11], 0.5), Some(0));
    }

    #[tokio::test]
    async fn hourly_totals_outlive_pruned_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let now = crate::base::now_ms();
        let old = now - 10 * 86_400_000;
        insert(&store, &[record(old, "a", 1.0), record(old + 1, "a", 2.0)], false).await.unwrap();
        insert(&store, &[record(now, "b", 0.5)], true).await.unwrap();
        let by_model = summary(&store, old - 3_600_000, "model").await.unwrap();
        assert_eq!(
            by_model.iter().map(|t| (t.group.as_str(), t.requests)).collect::<Vec<_>>(),
            [("p/a", 2), ("p/b", 1)]
        );
        assert!((by_model[0].cost_usd - 3.0).abs() < 1e-9);
        assert_eq!(by_model[0].tokens_saved, 14, "tokens saved add up per hour");
        assert_eq!(prune(&store, now - 86_400_000).await.unwrap(), 2);
        assert_eq!(recent(&store, 10).await.unwrap().len(), 1);
        assert_eq!(
            (by_model[0].p50_latency_ms, by_model[0].p95_latency_ms),
            (Some(250), Some(250)),
            "10 ms requests: the first bucket"
        );
        let after = summary(&store, old - 3_600_000, "model").await.unwrap();
        assert_eq!(after, by_model, "aggregates stay when raw records go");
        let days = series(&store, old - 3_600_000, 86_400_000, "provider").await.unwrap();
        assert_eq!(days.len(), 2);
        assert!((spend_since(&store, 1, old).await.unwrap() - 3.5).abs() < 1e-9, "spend outlives raw records");
        assert!((spend_since(&store, 1, now - 3_600_000).await.unwrap() - 0.5).abs() < 1e-9);
    }
}
