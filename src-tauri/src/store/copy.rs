//! Copying a whole store into another (a laptop's SQLite file into a team's PostgreSQL): every
//! table, column by column, in one transaction on the destination, which must hold no store
//! yet. Sealed secrets pass through a re-sealing step (the destination may use the fleet's
//! master key); ids are kept, and PostgreSQL's id sequences are moved past them.

use super::{Backend, Store, StoreError};
use sqlx::Row;

#[derive(Clone, Copy)]
enum Col {
    Text,
    Int,
    Real,
    Blob,
}

use Col::{Blob, Int, Real, Text};

/// Every table with its columns, parents before children (foreign keys hold at each insert).
const TABLES: &[(&str, &[(&str, Col)])] = &[
    ("settings", &[("key", Text), ("value", Text)]),
    (
        "providers",
        &[
            ("id", Text),
            ("kind", Text),
            ("base_url", Text),
            ("auth", Text),
            ("models", Text),
            ("from_catalog", Int),
            ("created_at", Text),
            ("strategy", Text),
            ("sticky_uses", Int),
            ("proxy", Text),
            ("first_byte_timeout_secs", Int),
            ("stall_timeout_secs", Int),
        ],
    ),
    (
        "accounts",
        &[
            ("id", Int),
            ("provider_id", Text),
            ("label", Text),
            ("priority", Int),
            ("enabled", Int),
            ("secret", Blob),
            ("key_hint", Text),
            ("created_at", Text),
            ("needs_attention", Text),
            ("max_concurrent", Int),
            ("login", Text),
        ],
    ),
    (
        "gateway_keys",
        &[
            ("id", Int),
            ("name", Text),
            ("key_hash", Text),
            ("key_hint", Text),
            ("created_at", Text),
            ("revoked_at", Text),
            ("budget_daily_usd", Real),
            ("budget_monthly_usd", Real),
            ("rpm", Int),
            ("tpm", Int),
            ("models", Text),
            ("expires_at", Text),
            ("token_saver", Int),
        ],
    ),
    (
        "combos",
        &[
            ("name", Text),
            ("strategy", Text),
            ("members", Text),
            ("created_at", Text),
            ("judge", Text),
            ("deadline_secs", Int),
        ],
    ),
    ("aliases", &[("name", Text), ("target", Text), ("created_at", Text)]),
    ("cooldowns", &[("account_id", Int), ("model", Text), ("until_ms", Int), ("failures", Int), ("reason", Text)]),
    (
        "prices",
        &[
            ("model", Text),
            ("input", Real),
            ("output", Real),
            ("cache_read", Real),
            ("cache_write", Real),
            ("created_at", Text),
        ],
    ),
    ("login_quotas", &[("account_id", Int), ("fetched_ms", Int), ("windows", Text)]),
    (
        "usage_records",
        &[
            ("id", Int),
            ("ts_ms", Int),
            ("key_id", Int),
            ("tool", Text),
            ("inbound", Text),
            ("requested_model", Text),
            ("provider", Text),
            ("account_id", Int),
            ("model", Text),
            ("attempts", Text),
            ("stream", Int),
            ("status", Int),
            ("outcome", Text),
            ("latency_ms", Int),
            ("ttft_ms", Int),
            ("input_tokens", Int),
            ("output_tokens", Int),
            ("cache_read_tokens", Int),
            ("cache_write_tokens", Int),
            ("reasoning_tokens", Int),
            ("usage_reported", Int),
            ("cost_usd", Real),
            ("priced", Int),
            ("tokens_saved", Int),
            ("group_id", Int),
            ("part", Text),
            ("api_equivalent_usd", Real),
            ("usage_estimated", Int),
            ("chosen", Text),
        ],
    ),
    (
        "usage_hourly",
        &[
            ("hour_ms", Int),
            ("provider", Text),
            ("model", Text),
            ("account_id", Int),
            ("key_id", Int),
            ("tool", Text),
            ("requests", Int),
            ("errors", Int),
            ("input_tokens", Int),
            ("output_tokens", Int),
            ("cache_read_tokens", Int),
            ("cache_write_tokens", Int),
            ("reasoning_tokens", Int),
            ("cost_usd", Real),
            ("latency_ms_sum", Int),
            ("lat_0", Int),
            ("lat_1", Int),
            ("lat_2", Int),
            ("lat_3", Int),
            ("lat_4", Int),
            ("lat_5", Int),
            ("lat_6", Int),
            ("lat_7", Int),
            ("lat_8", Int),
            ("lat_9", Int),
            ("lat_10", Int),
            ("tokens_saved", Int),
            ("api_equivalent_usd", Real),
        ],
    ),
];

/// The tables whose ids PostgreSQL draws from a sequence.
const SEQUENCED: [&str; 3] = ["accounts", "gateway_keys", "usage_records"];

/// Copies every table of `from` into `to` (migrated, holding no store yet); `reseal` turns
/// an account's sealed secret (with its provider id) into the destination's. Returns the rows
/// copied per table.
pub async fn copy(
    from: &Store,
    to: &Store,
    reseal: impl Fn(&str, &[u8]) -> Result<Vec<u8>, StoreError>,
) -> Result<Vec<(&'static str, u64)>, StoreError> {
    let mut held = 0i64;
    for table in ["providers", "accounts", "gateway_keys", "usage_records"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(to.pool()).await?;
        held += n;
    }
    if held > 0 {
        return Err(StoreError::Url(format!(
            "the database at {} already holds a store ({held} rows): copy only into an empty one",
            to.shown()
        )));
    }
    let mut tx = to.begin().await?;
    let mut copied = Vec::new();
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let select = format!("SELECT {} FROM {table}", names.join(", "));
        let slots: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
        let insert = format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), slots.join(", "));
        // Settings made by the destination's migrations give way to the copied ones.
        if *table == "settings" {
            sqlx::query("DELETE FROM settings").execute(&mut *tx).await?;
        }
        let rows = sqlx::query(&select).fetch_all(from.pool()).await?;
        for row in &rows {
            let mut query = sqlx::query(&insert);
            for (i, (name, col)) in columns.iter().enumerate() {
                query = match col {
                    Text => query.bind(row.try_get::<Option<String>, _>(i)?),
                    Int => query.bind(row.try_get::<Option<i64>, _>(i)?),
                    Real => query.bind(row.try_get::<Option<f64>, _>(i)?),
                    Blob => {
                        let sealed: Option<Vec<u8>> = row.try_get(i)?;
                        let sealed = match (sealed, *table, *name) {
                            (Some(sealed), "accounts", "secret") => {
                                let provider: String = row.try_get("provider_id")?;
                                Some(reseal(&provider, &sealed)?)
                            }
                            (other, _, _) => other,
                        };
                        query.bind(sealed)
                    }
                };
            }
            query.execute(&mut *tx).await?;
        }
        copied.push((*table, rows.len() as u64));
    }
    let rev: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'config_rev'").fetch_one(from.pool()).await?;
    sqlx::query("UPDATE meta SET value = $1 WHERE key = 'config_rev'").bind(rev + 1).execute(&mut *tx).await?;
    if to.backend() == Backend::Postgres {
        for table in SEQUENCED {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            );
            sqlx::query(&sql).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    Ok(copied)
}
