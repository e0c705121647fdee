//! Subscription quotas: the windows each login's provider reports (Claude's 5-hour and weekly
//! windows, Codex's primary and secondary windows, Copilot's premium interactions, Kiro's
//! monthly requests, Gemini CLI's per-model buckets), read from
//! the provider's usage endpoint or from the rate-limit headers of its answers, with their
//! reset times. A window used up makes routing skip the account until it resets.

use super::endpoints::Endpoints;
use super::{now_ms, Credentials, LoginError, LoginKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One quota window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// `5h`, `weekly`, `weekly-opus`, `primary`, `secondary`, `premium`.
    pub name: String,
    /// Share used, 0 to 100.
    pub used_percent: f64,
    /// When it resets, Unix ms.
    pub resets_at_ms: Option<i64>,
    /// The model the window limits (Gemini CLI's buckets); None: every model of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Window {
    pub fn exhausted(&self) -> bool {
        self.used_percent >= 100.0
    }
}

/// The account-wide window that is used up and resets last: the account is unusable until then.
pub fn blocking(windows: &[Window]) -> Option<&Window> {
    windows.iter().filter(|w| w.exhausted() && w.model.is_none()).max_by_key(|w| w.resets_at_ms.unwrap_or(i64::MAX))
}

/// The used-up windows of single models: each model is unusable on the account until its
/// window resets.
pub fn blocked_models(windows: &[Window]) -> impl Iterator<Item = (&str, &Window)> {
    windows.iter().filter(|w| w.exhausted()).filter_map(|w| Some((w.model.as_deref()?, w)))
}

pub(crate) fn rfc3339_ms(v: &Value) -> Option<i64> {
    let text = v.as_str()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Claude's usage endpoint: `{"five_hour": {"utilization": 12.0, "resets_at": "…"}, "seven_day": …}`.
pub fn parse_claude(v: &Value) -> Vec<Window> {
    [("five_hour", "5h"), ("seven_day", "weekly"), ("seven_day_opus", "weekly-opus")]
        .iter()
        .filter_map(|(key, name)| {
            let w = v.get(*key)?;
            Some(Window {
                name: name.to_string(),
                used_percent: w.get("utilization")?.as_f64()?,
                resets_at_ms: w.get("resets_at").and_then(rfc3339_ms),
                model: None,
            })
        })
        .collect()
}

/// Codex's answer headers: `x-codex-primary-used-percent`, `…-reset-after-seconds` (and the
/// same for `secondary`).
pub fn parse_codex_headers(headers: &http::HeaderMap) -> Vec<Window> {
    let num = |name: String| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    ["primary", "secondary"]
        .iter()
        .filter_map(|which| {
            let used = num(format!("x-codex-{which}-used-percent"))?;
            let reset = num(format!("x-codex-{which}-reset-at")).map(|s| (s * 1000.0) as i64).or_else(|| {
                num(format!("x-codex-{which}-reset-after-seconds")).map(|s| now_ms() + (s * 1000.0) as i64)
            });
            let minutes = num(format!("x-codex-{which}-window-minutes")).map(|m| m as i64);
            Some(Window {
                name: codex_window_name(which, minutes),
                used_percent: used,
                resets_at_ms: reset,
                model: None,
            })
        })
        .collect()
}

/// A Codex window named by its length (primary is not always the 5-hour one).
fn codex_window_name(which: &str, minutes: Option<i64>) -> String {
    match minutes {
        Some(300) => "5h".into(),
        Some(10080) => "weekly".into(),
        Some(m) => format!("{which} ({m} min)"),
        None => which.to_string(),
    }
}

/// Codex's usage endpoint: `rate_limit.{primary,secondary}_window` with `used_percent`,
/// `limit_window_seconds` and `reset_at` (Unix seconds).
pub fn parse_codex(v: &Value) -> Vec<Window> {
    ["primary", "secondary"]
        .iter()
        .filter_map(|which| {
            let w = v.pointer(&format!("/rate_limit/{which}_window")).filter(|w| w.is_object())?;
            let minutes = w.get("limit_window_seconds").and_then(Value::as_i64).map(|s| (s + 59) / 60);
            Some(Window {
                name: codex_window_name(which, minutes),
                used_percent: w.get("used_percent")?.as_f64()?,
                resets_at_ms: w.get("reset_at").and_then(Value::as_i64).map(|s| s * 1000),
                model: None,
            })
        })
        .collect()
}

/// Claude's answer headers: `anthropic-ratelimit-unified-{5h,7d}-utilization` (a fraction, 0
/// to 1) and `…-reset` (Unix seconds).
pub fn parse_claude_headers(headers: &http::HeaderMap) -> Vec<Window> {
    let num = |name: String| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    [("5h", "5h"), ("7d", "weekly")]
        .iter()
        .filter_map(|(key, name)| {
            let used = num(format!("anthropic-ratelimit-unified-{key}-utilization"))?;
            let reset = num(format!("anthropic-ratelimit-unified-{key}-reset")).map(|s| (s * 1000.0) as i64);
            Some(Window { name: name.to_string(), used_percent: used * 100.0, resets_at_ms: reset, model: None })
        })
        .collect()
}

/// Copilot's user endpoint: `quota_snapshots.premium_interactions` and `quota_reset_date`.
pub fn parse_copilot(v: &Value) -> Vec<Window> {
    let Some(p) = v.pointer("/quota_snapshots/premium_interactions") else { return vec![] };
    if p.get("unlimited").and_then(Value::as_bool) == Some(true) {
        return vec![Window { name: "premium".into(), used_percent: 0.0, resets_at_ms: None, model: None }];
    }
    let used = match p.get("percent_remaining").and_then(Value::as_f64) {
        Some(remaining) => 100.0 - remaining,
        None => {
            let (Some(total), Some(left)) =
                (p.get("entitlement").and_then(Value::as_f64), p.get("remaining").and_then(Value::as_f64))
            else {
                return vec![];
            };
            if total <= 0.0 {
                return vec![];
            }
            100.0 * (total - left) / total
        }
    };
    let reset = v.get("quota_reset_date").and_then(Value::as_str).and_then(|d| {
        time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .ok()
            .map(|date| date.midnight().assume_utc().unix_timestamp() * 1000)
    });
    vec![Window { name: "premium".into(), used_percent: used.clamp(0.0, 100.0), resets_at_ms: reset, model: None }]
}

/// A used fraction as a percentage with two decimals, within 0–100.
pub(crate) fn percent(fraction: f64) -> f64 {
    ((fraction * 10_000.0).round() / 100.0).clamp(0.0, 100.0)
}

/// Kiro's `getUsageLimits`: per resource, `usageBreakdownList[]` with the month's usage and
/// limit (with precision when given), an active free trial's and active bonuses' added to
/// them, and `nextDateReset` (Unix seconds).
pub fn parse_kiro(v: &Value) -> Vec<Window> {
    let num = |o: &Value, precise: &str, plain: &str| o.get(precise).or_else(|| o.get(plain)).and_then(Value::as_f64);
    let Some(list) = v.get("usageBreakdownList").and_then(Value::as_array) else { return vec![] };
    list.iter()
        .filter_map(|b| {
            let mut used = num(b, "currentUsageWithPrecision", "currentUsage")?;
            let mut limit = num(b, "usageLimitWithPrecision", "usageLimit")?;
            let trial = b.get("freeTrialInfo").filter(|t| t["freeTrialStatus"] == "ACTIVE");
            let active_bonuses =
                b.get("bonuses").and_then(Value::as_array).into_iter().flatten().filter(|x| x["status"] == "ACTIVE");
            for extra in trial.into_iter().chain(active_bonuses) {
                used += num(extra, "currentUsageWithPrecision", "currentUsage").unwrap_or(0.0);
                limit += num(extra, "usageLimitWithPrecision", "usageLimit").unwrap_or(0.0);
            }
            if limit <= 0.0 {
                return None;
            }
            let reset = b.get("nextDateReset").or_else(|| v.get("nextDateReset")).and_then(Value::as_f64);
            let name = match b.get("resourceType").and_then(Value::as_str) {
                Some(kind) if kind != "AGENTIC_REQUEST" => format!("monthly {}", kind.to_lowercase().replace('_', " ")),
                _ => "monthly".to_string(),
            };
            Some(Window {
                name,
                used_percent: percent(used / limit),
                resets_at_ms: reset.map(|s| (s * 1000.0) as i64),
                model: None,
            })
        })
        .collect()
}

/// Asks the provider's usage endpoint (Claude, Copilot, Kiro, Gemini CLI); Codex reports its windows in the
/// headers of its answers instead (None: nothing to ask).
pub async fn fetch(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    creds: &Credentials,
) -> Result<Option<Vec<Window>>, LoginError> {
    let (url, request) = match creds.kind {
        LoginKind::Claude => {
            let url = endpoints.get("usage-url");
            let request = http
                .get(&url)
                .bearer_auth(&creds.access_token)
                .header("anthropic-beta", super::tokens::CLAUDE_OAUTH_BETA);
            (url, request)
        }
        LoginKind::Copilot => {
            let url = endpoints.get("usage-url");
            let github = creds.github_token.clone().unwrap_or_default();
            let request = http
                .get(&url)
                .header(http::header::AUTHORIZATION, format!("token {github}"))
                .header("x-github-api-version", super::tokens::COPILOT_API_VERSION);
            (url.clone(), request)
        }
        LoginKind::Codex => {
            let url = endpoints.get("usage-url");
            let mut request = http.get(&url).bearer_auth(&creds.access_token);
            if let Some(account) = &creds.account_id {
                request = request.header("chatgpt-account-id", account);
            }
            (url, request)
        }
        LoginKind::GeminiCli => return super::gemini::quota(http, endpoints, creds).await.map(Some),
        LoginKind::Kiro => {
            let url = endpoints.get("usage-url");
            let mut query = vec![("origin", "AI_EDITOR"), ("resourceType", "AGENTIC_REQUEST")];
            if let Some(arn) = creds.profile_arn.as_deref() {
                query.push(("profileArn", arn));
            }
            let with_query = reqwest::Url::parse_with_params(&url, &query)
                .map_err(|e| LoginError::Flow(format!("'{url}' is not a URL ({e})")))?;
            (url, http.get(with_query).bearer_auth(&creds.access_token))
        }
        LoginKind::Qwen => return Ok(None),
    };
    let network = LoginError::network(&url);
    let response = request.header(http::header::ACCEPT, "application/json").send().await.map_err(network)?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        return Err(LoginError::Flow(format!("{url} answered {status}: {body}")));
    }
    Ok(Some(match creds.kind {
        LoginKind::Claude => parse_claude(&body),
        LoginKind::Codex => parse_codex(&body),
        LoginKind::Kiro => parse_kiro(&body),
        _ => parse_copilot(&body),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recorded_answers_give_windows_with_resets() {
        let claude = parse_claude(&json!({
            "five_hour": {"utilization": 100.0, "resets_at": "2026-12-02T20:00:00+00:00"},
            "seven_day": {"utilization": 41.5, "resets_at": "2026-12-06T09:00:00Z"},
            "seven_day_opus": null
        }));
        assert_eq!(claude.len(), 2);
        assert_eq!(claude[0].resets_at_ms, Some(1796241600000));
        assert_eq!(blocking(&claude).map(|w| w.name.as_str()), Some("5h"));
        let copilot = parse_copilot(&json!({"copilot_plan": "individual", "quota_reset_date": "2027-01-01",
            "quota_snapshots": {"premium_interactions": {"entitlement": 300, "remaining": 0, "percent_remaining": 0.0, "unlimited": false}}}));
        assert_eq!(copilot[0].used_percent, 100.0);
        assert_eq!(copilot[0].resets_at_ms, Some(1798761600000));
        let mut headers = http::HeaderMap::new();
        headers.insert("x-codex-primary-used-percent", "87.5".parse().unwrap());
        headers.insert("x-codex-primary-reset-after-seconds", "600".parse().unwrap());
        headers.insert("x-codex-secondary-used-percent", "100".parse().unwrap());
        let usage = parse_codex(&json!({"plan_type": "plus", "rate_limit": {"allowed": true, "limit_reached": false,
            "primary_window": {"used_percent": 20, "limit_window_seconds": 604800, "reset_after_seconds": 16361, "reset_at": 1786176171},
            "secondary_window": null}}));
        assert_eq!(usage.len(), 1);
        assert_eq!(
            (usage[0].name.as_str(), usage[0].used_percent, usage[0].resets_at_ms),
            ("weekly", 20.0, Some(1786176171000))
        );
        let mut claude_headers = http::HeaderMap::new();
        claude_headers.insert("anthropic-ratelimit-unified-5h-utilization", "1.0".parse().unwrap());
        claude_headers.insert("anthropic-ratelimit-unified-5h-reset", "1796241600".parse().unwrap());
        let from_headers = parse_claude_headers(&claude_headers);
        assert_eq!((from_headers[0].used_percent, from_headers[0].resets_at_ms), (100.0, Some(1796241600000)));
        let codex = parse_codex_headers(&headers);
        assert_eq!(codex.len(), 2);
        assert!(!codex[0].exhausted() && codex[1].exhausted());
        assert!(codex[0].resets_at_ms.unwrap() > now_ms());
        // Kiro: 40 of 50 used, plus an active trial of 500 with 60 used, a bonus expired.
        let kiro = parse_kiro(
            &json!({"nextDateReset": 1798761600.0, "subscriptionInfo": {"subscriptionTitle": "KIRO FREE"},
            "usageBreakdownList": [{"resourceType": "AGENTIC_REQUEST", "currentUsage": 40, "currentUsageWithPrecision": 40.0,
                "usageLimit": 50, "usageLimitWithPrecision": 50.0,
                "freeTrialInfo": {"freeTrialStatus": "ACTIVE", "currentUsageWithPrecision": 60.0, "usageLimitWithPrecision": 500.0},
                "bonuses": [{"currentUsage": 5, "usageLimit": 100, "status": "EXPIRED"}]}]}),
        );
        assert_eq!(kiro.len(), 1);
        assert_eq!((kiro[0].name.as_str(), kiro[0].used_percent), ("monthly", 18.18));
        assert_eq!(kiro[0].resets_at_ms, Some(1798761600000));
    }
}
