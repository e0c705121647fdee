//! The /api views (`switchyard_api`) built from the store's rows and the lower layers' own
//! types: what the management layer answers to the CLI, the dashboard and the desktop app.
//! A store column renamed changes nothing on the wire unless this file says so.

use crate::base::settings::Settings;
use crate::login::quota::Window;
use crate::store::accounts::AccountRecord;
use crate::store::keys::{GatewayKeyRecord, KeyLimits};
use crate::store::providers::ProviderRecord;
use crate::store::routing::{AliasRecord, ComboRecord, CooldownRecord};
use crate::store::usage::{SeriesPoint, UsageRow, UsageTotals};
use crate::tools::setup::{Plan, ToolStatus};
use switchyard_api as api;

impl From<ProviderRecord> for api::Provider {
    fn from(p: ProviderRecord) -> Self {
        Self {
            id: p.id,
            kind: p.kind,
            base_url: p.base_url,
            auth: p.auth,
            models: p.models,
            from_catalog: p.from_catalog,
            created_at: p.created_at,
            strategy: p.strategy,
            sticky_uses: p.sticky_uses,
            proxy: p.proxy,
            first_byte_timeout_secs: p.first_byte_timeout_secs,
            stall_timeout_secs: p.stall_timeout_secs,
        }
    }
}

impl From<AccountRecord> for api::Account {
    fn from(a: AccountRecord) -> Self {
        Self {
            id: a.id,
            provider_id: a.provider_id,
            label: a.label,
            priority: a.priority,
            enabled: a.enabled,
            key_hint: a.key_hint,
            created_at: a.created_at,
            needs_attention: a.needs_attention,
            max_concurrent: a.max_concurrent,
            login: a.login,
        }
    }
}

impl From<KeyLimits> for api::KeyLimits {
    fn from(l: KeyLimits) -> Self {
        Self {
            budget_daily_usd: l.budget_daily_usd,
            budget_monthly_usd: l.budget_monthly_usd,
            rpm: l.rpm,
            tpm: l.tpm,
            models: l.models,
            expires_at: l.expires_at,
        }
    }
}

impl From<GatewayKeyRecord> for api::GatewayKey {
    fn from(k: GatewayKeyRecord) -> Self {
        Self {
            id: k.id,
            name: k.name,
            key_hint: k.key_hint,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            limits: k.limits.into(),
            token_saver: k.token_saver,
        }
    }
}

impl From<ComboRecord> for api::Combo {
    fn from(c: ComboRecord) -> Self {
        Self {
            name: c.name,
            // Written only from a parsed strategy; a row from an older version reads as fallback.
            strategy: c.strategy.parse().unwrap_or(api::ComboStrategy::Fallback),
            members: c.members,
            judge: c.judge,
            deadline_secs: c.deadline_secs,
            created_at: c.created_at,
        }
    }
}

impl From<AliasRecord> for api::Alias {
    fn from(a: AliasRecord) -> Self {
        Self { name: a.name, target: a.target, created_at: a.created_at }
    }
}

impl From<CooldownRecord> for api::Cooldown {
    fn from(c: CooldownRecord) -> Self {
        Self { account_id: c.account_id, model: c.model, until_ms: c.until_ms, failures: c.failures, reason: c.reason }
    }
}

impl From<Window> for api::QuotaWindow {
    fn from(w: Window) -> Self {
        Self { name: w.name, used_percent: w.used_percent, resets_at_ms: w.resets_at_ms, model: w.model }
    }
}

impl From<UsageTotals> for api::UsageTotals {
    fn from(t: UsageTotals) -> Self {
        Self {
            group: t.group,
            requests: t.requests,
            errors: t.errors,
            input_tokens: t.input_tokens,
            output_tokens: t.output_tokens,
            cache_read_tokens: t.cache_read_tokens,
            reasoning_tokens: t.reasoning_tokens,
            avg_latency_ms: t.avg_latency_ms,
            p50_latency_ms: t.p50_latency_ms,
            p95_latency_ms: t.p95_latency_ms,
            cost_usd: t.cost_usd,
            api_equivalent_usd: t.api_equivalent_usd,
            tokens_saved: t.tokens_saved,
        }
    }
}

impl From<SeriesPoint> for api::SeriesPoint {
    fn from(p: SeriesPoint) -> Self {
        Self { bucket_ms: p.bucket_ms, totals: p.totals.into() }
    }
}

impl From<UsageRow> for api::UsageRow {
    fn from(r: UsageRow) -> Self {
        Self {
            id: r.id,
            ts_ms: r.ts_ms,
            key_id: r.key_id,
            tool: r.tool,
            inbound: r.inbound,
            requested_model: r.requested_model,
            provider: r.provider,
            account_id: r.account_id,
            model: r.model,
            attempts: r.attempts,
            stream: r.stream,
            status: r.status,
            outcome: r.outcome,
            latency_ms: r.latency_ms,
            ttft_ms: r.ttft_ms,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            cache_read_tokens: r.cache_read_tokens,
            cache_write_tokens: r.cache_write_tokens,
            reasoning_tokens: r.reasoning_tokens,
            usage_reported: r.usage_reported,
            usage_estimated: r.usage_estimated,
            chosen: r.chosen,
            cost_usd: r.cost_usd,
            priced: r.priced,
            tokens_saved: r.tokens_saved,
            group_id: r.group_id,
            part: r.part,
            api_equivalent_usd: r.api_equivalent_usd,
        }
    }
}

impl From<Settings> for api::Settings {
    fn from(s: Settings) -> Self {
        Self {
            require_key: s.require_key,
            max_body_mb: s.max_body_mb,
            first_byte_timeout_secs: s.first_byte_timeout_secs,
            stall_timeout_secs: s.stall_timeout_secs,
            proxy: s.proxy,
            no_proxy: s.no_proxy,
            retention_days: s.retention_days,
            token_saver: s.token_saver,
            port: s.port,
            quota_refresh_secs: s.quota_refresh_secs,
            allowed_hosts: s.allowed_hosts,
            allowed_origins: s.allowed_origins,
            header_timeout_secs: s.header_timeout_secs,
            idle_timeout_secs: s.idle_timeout_secs,
            max_connections: s.max_connections,
            max_in_flight: s.max_in_flight,
            usage_durability: s.usage_durability,
            login_endpoints: s.login_endpoints,
        }
    }
}

impl From<ToolStatus> for api::ToolStatus {
    fn from(t: ToolStatus) -> Self {
        Self {
            id: t.id.into(),
            name: t.name.into(),
            installed: t.installed,
            applied: t.applied,
            drift: t.drift,
            model: t.model,
            files: t.files.into_iter().map(|f| api::ToolFile { path: f.path, exists: f.exists }).collect(),
            try_it: t.try_it.into(),
        }
    }
}

impl From<Plan> for api::ToolPlan {
    fn from(p: Plan) -> Self {
        Self {
            id: p.id.into(),
            files: p
                .files
                .into_iter()
                .map(|f| api::ToolFilePlan { path: f.path, changed: f.changed, diff: f.diff })
                .collect(),
            note: p.note,
        }
    }
}
