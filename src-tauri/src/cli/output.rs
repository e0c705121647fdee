//! How the CLI prints results: aligned tables for people, `--json` for scripts.

use serde::Serialize;
use std::io::Write;
use std::net::SocketAddr;
use switchyard_api::{
    Account as AccountRecord, Alias as AliasRecord, CatalogEntry, Combo as ComboRecord, CreatedKey,
    GatewayKey as GatewayKeyRecord, Provider as ProviderRecord, QuotaWindow, SeriesPoint, Settings, ToolPlan,
    ToolStatus, UsageRow, UsageTotals,
};

fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints rows as left-aligned columns under a header.
fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row);
    }
}

/// The line `serve` prints once it accepts connections (tests and scripts read it).
pub fn listening(addr: SocketAddr) {
    println!("Switchyard listening on http://{addr}");
    let _ = std::io::stdout().flush();
}

pub fn provider_added(p: &ProviderRecord, account: Option<i64>) {
    println!("added provider {} ({}, {})", p.id, p.kind, p.base_url);
    if let Some(id) = account {
        println!("added account {id} to {}", p.id);
    }
}

pub fn providers(list: &[ProviderRecord], accounts: &[AccountRecord], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(list);
    }
    if list.is_empty() {
        println!("no providers yet: `switchyard account add openai --api-key KEY` adds one from the catalog");
        return Ok(());
    }
    let rows = list
        .iter()
        .map(|p| {
            let n = accounts.iter().filter(|a| a.provider_id == p.id && a.enabled).count();
            vec![
                p.id.clone(),
                p.kind.to_string(),
                p.base_url.clone(),
                p.auth.to_string(),
                n.to_string(),
                p.models.len().to_string(),
                p.strategy.to_string(),
            ]
        })
        .collect();
    table(&["ID", "KIND", "BASE URL", "AUTH", "ACCOUNTS", "MODELS", "STRATEGY"], rows);
    Ok(())
}

pub fn catalog(entries: &[CatalogEntry], json: bool) -> anyhow::Result<()> {
    if json {
        let list: Vec<_> = entries
            .iter()
            .map(|e| serde_json::json!({"id": e.id, "name": e.name, "kind": e.kind, "base_url": e.base_url, "auth": e.auth, "models": e.models}))
            .collect();
        return print_json(&list);
    }
    let rows =
        entries.iter().map(|e| vec![e.id.clone(), e.name.clone(), e.kind.to_string(), e.base_url.clone()]).collect();
    table(&["ID", "NAME", "KIND", "BASE URL"], rows);
    Ok(())
}

pub fn accounts(list: &[AccountRecord], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(list);
    }
    let rows = list
        .iter()
        .map(|a| {
            let state = match (&a.needs_attention, a.enabled, &a.login) {
                (Some(why), _, Some(_)) => format!("needs login: {why}"),
                (Some(why), _, None) => format!("needs attention: {why}"),
                (None, true, _) => "enabled".into(),
                (None, false, _) => "disabled".into(),
            };
            let key = match &a.login {
                Some(login) => {
                    let who = login.email.clone().unwrap_or_else(|| "login".into());
                    let plan = login.plan.as_ref().map(|p| format!(" ({p})")).unwrap_or_default();
                    let expiry =
                        login.expires_at_ms.map(|ms| format!(", token until {}", when(ms))).unwrap_or_default();
                    format!("{who}{plan}{expiry}")
                }
                None => a.key_hint.clone(),
            };
            vec![a.id.to_string(), a.provider_id.clone(), a.label.clone(), a.priority.to_string(), state, key]
        })
        .collect();
    table(&["ID", "PROVIDER", "LABEL", "PRIORITY", "STATE", "KEY"], rows);
    Ok(())
}

pub fn key_created(created: &CreatedKey) {
    println!("{}", created.key);
    eprintln!("gateway key {} created; it is shown only this once", created.record.id);
}

pub fn keys(list: &[GatewayKeyRecord], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(list);
    }
    let rows = list
        .iter()
        .map(|k| {
            let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
            let saver = match k.token_saver {
                None => "default",
                Some(true) => "on",
                Some(false) => "off",
            };
            vec![k.id.to_string(), k.name.clone(), k.key_hint.clone(), state.into(), saver.into(), k.created_at.clone()]
        })
        .collect();
    table(&["ID", "NAME", "KEY", "STATE", "TOKEN SAVER", "CREATED"], rows);
    Ok(())
}

pub fn settings(s: &Settings, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(s);
    }
    let rows = vec![
        vec!["require-key".into(), s.require_key.to_string()],
        vec!["token-saver".into(), s.token_saver.to_string()],
        vec!["max-body-mb".into(), s.max_body_mb.to_string()],
        vec!["first-byte-timeout-secs".into(), s.first_byte_timeout_secs.to_string()],
        vec!["stall-timeout-secs".into(), s.stall_timeout_secs.to_string()],
        vec!["proxy".into(), if s.proxy.is_empty() { "(environment)".into() } else { s.proxy.clone() }],
        vec!["no-proxy".into(), s.no_proxy.clone()],
        vec!["retention-days".into(), s.retention_days.to_string()],
        vec!["port".into(), s.port.to_string()],
        vec!["allowed-hosts".into(), s.allowed_hosts.join(", ")],
        vec!["allowed-origins".into(), s.allowed_origins.join(", ")],
        vec!["header-timeout-secs".into(), s.header_timeout_secs.to_string()],
        vec!["idle-timeout-secs".into(), s.idle_timeout_secs.to_string()],
        vec!["max-connections".into(), s.max_connections.to_string()],
        vec!["max-in-flight".into(), s.max_in_flight.to_string()],
        vec!["usage-durability".into(), format!("{:?}", s.usage_durability).to_lowercase()],
    ];
    table(&["SETTING", "VALUE"], rows);
    Ok(())
}

pub fn combos(list: &[ComboRecord], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(list);
    }
    let rows =
        list.iter().map(|c| vec![c.name.clone(), c.strategy.as_str().to_string(), c.members.join(" → ")]).collect();
    table(&["NAME", "STRATEGY", "MEMBERS"], rows);
    Ok(())
}

pub fn aliases(list: &[AliasRecord], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(list);
    }
    let rows = list.iter().map(|a| vec![a.name.clone(), a.target.clone()]).collect();
    table(&["ALIAS", "TARGET"], rows);
    Ok(())
}

pub fn usage_log(rows: &[UsageRow], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(rows);
    }
    let rows = rows
        .iter()
        .map(|r| {
            let when = time::OffsetDateTime::from_unix_timestamp(r.ts_ms / 1000)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default();
            let target = match (&r.provider, &r.model) {
                (Some(p), Some(m)) => format!("{p}/{m}"),
                _ => "-".into(),
            };
            let tokens = match (r.usage_reported, r.usage_estimated) {
                (true, _) => format!("{}/{}", r.input_tokens, r.output_tokens),
                (false, true) => format!("~{}/{}", r.input_tokens, r.output_tokens),
                (false, false) => "-".into(),
            };
            vec![
                when,
                r.tool.clone(),
                r.inbound.clone(),
                r.requested_model.clone(),
                target,
                r.status.to_string(),
                r.outcome.as_str().to_string(),
                format!("{} ms", r.latency_ms),
                tokens,
                r.attempts.len().to_string(),
            ]
        })
        .collect();
    table(
        &[
            "TIME",
            "TOOL",
            "API",
            "MODEL",
            "ANSWERED BY",
            "STATUS",
            "OUTCOME",
            "LATENCY",
            "TOKENS IN/OUT",
            "FAILED ATTEMPTS",
        ],
        rows,
    );
    Ok(())
}

/// A bucketed percentile: "≤ 250 ms", or "> 128 s" past the last bucket.
fn percentile(p: Option<i64>) -> String {
    match p {
        Some(ms) if ms < 1000 => format!("≤ {ms} ms"),
        Some(ms) => format!("≤ {} s", ms / 1000),
        None => "> 128 s".into(),
    }
}

pub fn usage_summary(rows: &[UsageTotals], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(rows);
    }
    let rows = rows
        .iter()
        .map(|t| {
            vec![
                t.group.clone(),
                t.requests.to_string(),
                t.errors.to_string(),
                t.input_tokens.to_string(),
                t.output_tokens.to_string(),
                t.cache_read_tokens.to_string(),
                format!("{:.0} ms", t.avg_latency_ms),
                percentile(t.p50_latency_ms),
                percentile(t.p95_latency_ms),
                format!("${:.4}", t.cost_usd),
                format!("${:.4}", t.api_equivalent_usd),
                t.tokens_saved.to_string(),
            ]
        })
        .collect();
    let header = [
        "GROUP",
        "REQUESTS",
        "ERRORS",
        "INPUT",
        "OUTPUT",
        "CACHE READ",
        "AVG LATENCY",
        "P50",
        "P95",
        "COST",
        "ON THE API",
        "SAVED",
    ];
    table(&header, rows);
    Ok(())
}

pub fn prices(list: &[(String, crate::usage::Price, &'static str)], json: bool) -> anyhow::Result<()> {
    if json {
        let rows: Vec<_> =
            list.iter().map(|(m, p, source)| serde_json::json!({"model": m, "price": p, "source": source})).collect();
        return print_json(&rows);
    }
    let cell = |v: Option<f64>| v.map_or("=input".to_string(), |v| v.to_string());
    let rows = list
        .iter()
        .map(|(m, p, source)| {
            vec![
                m.clone(),
                p.input.to_string(),
                p.output.to_string(),
                cell(p.cache_read),
                cell(p.cache_write),
                source.to_string(),
            ]
        })
        .collect();
    table(&["MODEL", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "SOURCE"], rows);
    Ok(())
}

pub fn usage_series(points: &[SeriesPoint], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(points);
    }
    let rows = points
        .iter()
        .map(|p| {
            let when = time::OffsetDateTime::from_unix_timestamp(p.bucket_ms / 1000)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default();
            let t = &p.totals;
            vec![
                when,
                t.group.clone(),
                t.requests.to_string(),
                t.errors.to_string(),
                (t.input_tokens + t.output_tokens).to_string(),
                format!("${:.4}", t.cost_usd),
            ]
        })
        .collect();
    table(&["FROM", "GROUP", "REQUESTS", "ERRORS", "TOKENS", "COST"], rows);
    Ok(())
}

pub fn tools(list: &[ToolStatus], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(list);
    }
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    let rows = list
        .iter()
        .map(|t| {
            let files: Vec<String> =
                t.files.iter().map(|f| format!("{}{}", f.path, if f.exists { "" } else { " (none)" })).collect();
            let drift = if t.drift.is_empty() { "-".to_string() } else { format!("changed: {}", t.drift.join(", ")) };
            vec![
                t.id.to_string(),
                yes(t.installed),
                yes(t.applied),
                t.model.clone().unwrap_or_else(|| "-".into()),
                drift,
                files.join(" "),
            ]
        })
        .collect();
    table(&["TOOL", "INSTALLED", "SET UP", "MODEL", "DRIFT", "FILES"], rows);
    Ok(())
}

pub fn tool_plan(plan: &ToolPlan, dry_run: bool) {
    for file in &plan.files {
        if file.changed {
            print!("{}", file.diff);
        } else {
            println!("{}: already set", file.path);
        }
    }
    if dry_run {
        println!("(dry run: nothing written)");
    } else {
        println!("{} now uses Switchyard; `switchyard tools restore {}` puts it back", plan.id, plan.id);
    }
    if let Some(note) = &plan.note {
        eprintln!("note: {note}");
    }
}

/// A Unix-ms instant as UTC `YYYY-MM-DD HH:MM`.
fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).ok())
        .unwrap_or_else(|| ms.to_string())
}

pub fn login_saved(account: &AccountRecord) {
    let who = account.login.as_ref().and_then(|l| l.email.clone()).unwrap_or_else(|| account.label.clone());
    println!("signed in: account {} of {} ({who})", account.id, account.provider_id);
}

pub fn quota(windows: &[QuotaWindow], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&windows);
    }
    if windows.is_empty() {
        println!("no quota reported yet");
        return Ok(());
    }
    let rows = windows
        .iter()
        .map(|w| {
            vec![
                w.name.clone(),
                format!("{:.1} %", w.used_percent),
                w.resets_at_ms.map(when).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(&["WINDOW", "USED", "RESETS"], rows);
    Ok(())
}

pub fn store_copied(copied: &crate::manage::StoreCopied) {
    let counts: Vec<String> = copied.tables.iter().map(|(table, n)| format!("{table} {n}")).collect();
    println!("copied the store to {}: {}", copied.to, counts.join(", "));
    if copied.resealed {
        println!("secrets were re-sealed with the given master key: start every gateway with that --master-key-file");
    } else {
        println!("secrets keep this store's master key: start every gateway with a --master-key-file holding it");
    }
}
