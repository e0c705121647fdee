//! Usage queries: the request log and totals over a period, grouped.

use super::{ManageError, Manager, Result};
use crate::store::{self};
use crate::usage::Price;
use switchyard_api as api;

/// What `usage summary` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageGroup {
    Provider,
    Model,
    Account,
    Key,
    Tool,
}

impl std::str::FromStr for UsageGroup {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "provider" => Ok(Self::Provider),
            "model" => Ok(Self::Model),
            "account" => Ok(Self::Account),
            "key" => Ok(Self::Key),
            "tool" => Ok(Self::Tool),
            _ => Err(format!("unknown grouping '{s}': expected provider, model, account, key or tool")),
        }
    }
}

impl UsageGroup {
    fn column(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Model => "model",
            Self::Account => "account_id",
            Self::Key => "key_id",
            Self::Tool => "tool",
        }
    }
}

/// `24h`, `7d`, `30m` → milliseconds.
pub fn parse_period(s: &str) -> Result<i64> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 =
        n.parse().map_err(|_| ManageError::Invalid(format!("invalid period '{s}': write e.g. 24h, 7d or 30m")))?;
    let ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(ManageError::Invalid(format!("invalid period '{s}': the unit is m, h or d"))),
    };
    Ok(n.saturating_mul(ms))
}

impl Manager {
    /// Sets the price of `PROVIDER/MODEL` (USD per million tokens).
    pub async fn price_set(&self, model: &str, price: Price) -> Result<()> {
        let Some((provider, name)) = model.split_once('/') else {
            return Err(ManageError::Invalid(format!("name the model as PROVIDER/MODEL, not '{model}'")));
        };
        if provider.is_empty() || name.is_empty() {
            return Err(ManageError::Invalid(format!("name the model as PROVIDER/MODEL, not '{model}'")));
        }
        let parts = [Some(price.input), Some(price.output), price.cache_read, price.cache_write];
        if parts.iter().flatten().any(|p| !p.is_finite() || *p < 0.0) {
            return Err(ManageError::Invalid("prices are USD per million tokens: zero or more".into()));
        }
        let mut tx = self.store.begin().await?;
        store::usage::upsert_price(&mut tx, model, &price).await?;
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(store::StoreError::from)?;
        Ok(())
    }

    /// The user's prices, and for every configured provider model the shipped price in force.
    pub async fn price_list(&self) -> Result<Vec<(String, Price, &'static str)>> {
        let overrides: std::collections::HashMap<String, Price> =
            store::usage::list_prices(&self.store).await?.into_iter().collect();
        let mut out: Vec<(String, Price, &'static str)> =
            overrides.iter().map(|(m, p)| (m.clone(), *p, "yours")).collect();
        for provider in store::providers::list(&self.store).await? {
            for model in &provider.models {
                let key = format!("{}/{model}", provider.id);
                if !overrides.contains_key(&key) {
                    if let Some(p) = crate::usage::shipped(model) {
                        out.push((key, p, "shipped"));
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    pub async fn usage_log(&self, limit: i64) -> Result<Vec<api::UsageRow>> {
        Ok(store::usage::recent(&self.store, limit.clamp(1, 100_000)).await?.into_iter().map(Into::into).collect())
    }

    /// Totals per hour or day.
    pub async fn usage_series(&self, since: &str, bucket: &str, by: UsageGroup) -> Result<Vec<api::SeriesPoint>> {
        let since_ms = crate::routing::state::unix_ms(std::time::SystemTime::now()) - parse_period(since)?;
        let bucket_ms = match bucket {
            "hour" => 3_600_000,
            "day" => 86_400_000,
            _ => return Err(ManageError::Invalid(format!("unknown bucket '{bucket}': expected hour or day"))),
        };
        let points = store::usage::series(&self.store, since_ms, bucket_ms, by.column()).await?;
        Ok(points.into_iter().map(Into::into).collect())
    }

    /// Writes every record since `since` to a CSV file; returns how many.
    pub async fn usage_export_csv(&self, since: &str, path: &std::path::Path) -> Result<usize> {
        let since_ms = crate::routing::state::unix_ms(std::time::SystemTime::now()) - parse_period(since)?;
        let rows = store::usage::since(&self.store, since_ms).await?;
        let io = |e: std::io::Error| ManageError::Invalid(format!("cannot write {}: {e}", path.display()));
        let mut out = csv::Writer::from_path(path).map_err(|e| io(e.into()))?;
        out.write_record([
            "id",
            "time",
            "key_id",
            "tool",
            "api",
            "requested_model",
            "provider",
            "account_id",
            "model",
            "stream",
            "status",
            "outcome",
            "latency_ms",
            "ttft_ms",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
            "usage_reported",
            "usage_estimated",
            "cost_usd",
            "api_equivalent_usd",
            "tokens_saved",
            "failed_attempts",
        ])
        .map_err(|e| io(e.into()))?;
        for r in &rows {
            let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
            let time = time::OffsetDateTime::from_unix_timestamp(r.ts_ms / 1000)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default();
            out.write_record([
                r.id.to_string(),
                time,
                opt(r.key_id),
                r.tool.clone(),
                r.inbound.clone(),
                r.requested_model.clone(),
                r.provider.clone().unwrap_or_default(),
                opt(r.account_id),
                r.model.clone().unwrap_or_default(),
                r.stream.to_string(),
                r.status.to_string(),
                r.outcome.as_str().to_string(),
                r.latency_ms.to_string(),
                opt(r.ttft_ms),
                r.input_tokens.to_string(),
                r.output_tokens.to_string(),
                r.cache_read_tokens.to_string(),
                r.cache_write_tokens.to_string(),
                r.reasoning_tokens.to_string(),
                r.usage_reported.to_string(),
                r.usage_estimated.to_string(),
                format!("{:.6}", r.cost_usd),
                format!("{:.6}", r.api_equivalent_usd),
                r.tokens_saved.to_string(),
                r.attempts.join(" | "),
            ])
            .map_err(|e| io(e.into()))?;
        }
        out.flush().map_err(io)?;
        Ok(rows.len())
    }

    pub async fn usage_summary(&self, since: &str, by: UsageGroup) -> Result<Vec<api::UsageTotals>> {
        let since_ms = crate::routing::state::unix_ms(std::time::SystemTime::now()) - parse_period(since)?;
        Ok(store::usage::summary(&self.store, since_ms, by.column()).await?.into_iter().map(Into::into).collect())
    }
}
