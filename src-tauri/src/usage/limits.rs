//! Budgets and limits per gateway key, enforced before a request is routed: expiry, allowed
//! models (globs), requests and tokens per minute (sliding 60 s windows), and daily and
//! monthly USD budgets (UTC days and months; spend read from the store once per key, then kept
//! up to date as records are written). On a database many gateways share (PostgreSQL), the
//! per-minute counts live in the store (`store::rates`, a sliding-window estimate over two
//! minutes) and the spend is read again every second, so the limits hold across the fleet.

use crate::store::keys::KeyLimits;
use crate::store::Store;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const WINDOW: Duration = Duration::from_secs(60);

/// Why a key may not make this request now.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 403: expired, model not allowed, budget spent.
    Forbidden(String),
    /// 429: a per-minute limit; retry after this long.
    RateLimited(String, Duration),
}

#[derive(Default)]
struct Window {
    requests: VecDeque<Instant>,
    tokens: VecDeque<(Instant, u64)>,
}

impl Window {
    fn prune(&mut self, now: Instant) {
        while self.requests.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            self.requests.pop_front();
        }
        while self.tokens.front().is_some_and(|(t, _)| now.duration_since(*t) >= WINDOW) {
            self.tokens.pop_front();
        }
    }
}

#[derive(Clone, Copy)]
struct Spend {
    day: i64,
    day_usd: f64,
    month: (i32, u8),
    month_usd: f64,
    read_at: Instant,
}

/// How long a fleet's gateway trusts the spend it read (others spend meanwhile).
const SHARED_SPEND_FRESH: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct KeyLimiter {
    windows: Mutex<HashMap<i64, Window>>,
    spend: Mutex<HashMap<i64, Spend>>,
    store: Option<Store>,
    /// The last minute whose old counts this gateway pruned (shared counts only).
    pruned: std::sync::atomic::AtomicI64,
    /// Requests of a key this gateway took from the shared count ahead and may still serve,
    /// per key: (minute, left).
    allowances: Mutex<HashMap<i64, (i64, i64)>>,
    /// The previous minute's shared counts of a key, read once a minute: (minute, requests,
    /// tokens).
    before: Mutex<HashMap<i64, (i64, i64, i64)>>,
    /// Tokens of finished requests not yet added to the shared count, per (key, minute):
    /// written together every 250 ms (`TOKEN_FLUSH`) instead of one write per request.
    unflushed: Arc<Mutex<HashMap<(i64, i64), i64>>>,
    flushing: std::sync::atomic::AtomicBool,
}

/// How often a gateway adds its finished requests' tokens to the shared per-minute counts.
const TOKEN_FLUSH: Duration = Duration::from_millis(250);

/// How many requests of a key a gateway takes from the shared count at once: one for small
/// limits (exact), up to 64 for large ones (one round trip per 64 requests; at most 1 % of
/// the limit per gateway left unused when the minute ends). Keys with a tpm limit take one at
/// a time, so that their tokens are checked on each request.
fn chunk(limits: &KeyLimits) -> i64 {
    match (limits.rpm, limits.tpm) {
        (Some(rpm), None) => (rpm / 100).clamp(1, 64),
        _ => 1,
    }
}

fn day_and_month(now: OffsetDateTime) -> (i64, (i32, u8)) {
    (now.unix_timestamp().div_euclid(86_400), (now.year(), now.month() as u8))
}

fn start_of_month_ms(now: OffsetDateTime) -> i64 {
    let date = time::Date::from_calendar_date(now.year(), now.month(), 1).unwrap_or(now.date());
    date.midnight().assume_utc().unix_timestamp() * 1000
}

/// A glob with `*` wildcards, matched against the whole name.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {}s", s / 60, s % 60)
    } else {
        format!("{}s", s.max(1))
    }
}

impl KeyLimiter {
    pub fn new(store: Store) -> Self {
        Self { store: Some(store), ..Default::default() }
    }

    /// Checks a request by key `id` for `model`; counts it against the rpm window when allowed.
    pub async fn check(&self, id: i64, limits: &KeyLimits, model: &str) -> Result<(), Refusal> {
        let now = OffsetDateTime::now_utc();
        if let Some(expires) = limits.expires_at.as_deref() {
            if let Ok(at) = OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339) {
                if now >= at {
                    return Err(Refusal::Forbidden(format!("gateway key {id} expired on {expires}")));
                }
            }
        }
        if let Some(models) = limits.models.as_deref().filter(|m| !m.trim().is_empty()) {
            if !models.split(',').map(str::trim).any(|g| glob_matches(g, model)) {
                return Err(Refusal::Forbidden(format!(
                    "gateway key {id} may not use model '{model}' (allowed: {models})"
                )));
            }
        }
        if limits.budget_daily_usd.is_some() || limits.budget_monthly_usd.is_some() {
            let spend = self.spend_of(id, now).await;
            if let Some(budget) = limits.budget_daily_usd {
                if spend.day_usd >= budget {
                    let tomorrow = (now.date() + time::Duration::days(1)).midnight().assume_utc();
                    let wait = Duration::from_secs((tomorrow - now).whole_seconds().max(0) as u64);
                    return Err(Refusal::Forbidden(format!(
                        "gateway key {id} spent its daily budget of ${budget:.2} (${:.2}); it resets at 00:00 UTC, in {}",
                        spend.day_usd,
                        human(wait)
                    )));
                }
            }
            if let Some(budget) = limits.budget_monthly_usd {
                if spend.month_usd >= budget {
                    return Err(Refusal::Forbidden(format!(
                        "gateway key {id} spent its monthly budget of ${budget:.2} (${:.2}); it resets on the 1st at 00:00 UTC",
                        spend.month_usd
                    )));
                }
            }
        }
        if limits.rpm.is_some() || limits.tpm.is_some() {
            if let Some(store) = self.shared_store() {
                return self.check_shared(store, id, limits).await;
            }
            let now = Instant::now();
            let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            let w = windows.entry(id).or_default();
            w.prune(now);
            if let Some(rpm) = limits.rpm {
                if w.requests.len() as i64 >= rpm {
                    let wait = WINDOW.saturating_sub(now.duration_since(w.requests[0]));
                    return Err(Refusal::RateLimited(
                        format!(
                            "gateway key {id} reached its limit of {rpm} requests per minute; retry in {}",
                            human(wait)
                        ),
                        wait,
                    ));
                }
            }
            if let Some(tpm) = limits.tpm {
                let used: u64 = w.tokens.iter().map(|(_, n)| n).sum();
                if used as i64 >= tpm {
                    let wait = w.tokens.front().map_or(WINDOW, |(t, _)| WINDOW.saturating_sub(now.duration_since(*t)));
                    return Err(Refusal::RateLimited(
                        format!(
                            "gateway key {id} reached its limit of {tpm} tokens per minute ({used} used); retry in {}",
                            human(wait)
                        ),
                        wait,
                    ));
                }
            }
            w.requests.push_back(now);
        }
        Ok(())
    }

    /// The store, when gateways share it (PostgreSQL): counts then live there.
    fn shared_store(&self) -> Option<&Store> {
        self.store.as_ref().filter(|s| s.backend() == crate::store::Backend::Postgres)
    }

    /// rpm and tpm counted in the shared store: this minute's count plus the previous
    /// minute's, weighted by how much of it still lies within the last 60 s. The request is
    /// taken and checked in one statement. A store that cannot be reached lets the request
    /// through (and says so in the log) rather than stopping the fleet.
    async fn check_shared(&self, store: &Store, id: i64, limits: &KeyLimits) -> Result<(), Refusal> {
        use crate::store::rates::{self, MINUTE_MS};
        let now_ms = crate::base::now_ms();
        let window = now_ms - now_ms.rem_euclid(MINUTE_MS);
        let last = self.pruned.swap(window, std::sync::atomic::Ordering::Relaxed);
        if last != window {
            let store = store.clone();
            tokio::spawn(async move { rates::prune(&store, window - 2 * MINUTE_MS).await });
        }
        {
            let mut allowances = self.allowances.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((minute, left)) = allowances.get_mut(&id) {
                if *minute == window && *left > 0 {
                    *left -= 1;
                    return Ok(());
                }
            }
        }
        let still_counted = 1.0 - (now_ms - window) as f64 / MINUTE_MS as f64;
        let cached = self.before.lock().unwrap_or_else(|e| e.into_inner()).get(&id).copied();
        let (before_requests, before_tokens) = match cached {
            Some((minute, requests, tokens)) if minute == window => (requests, tokens),
            _ => {
                let counted = rates::counted(store, id, window - MINUTE_MS).await.unwrap_or((0, 0));
                self.before.lock().unwrap_or_else(|e| e.into_inner()).insert(id, (window, counted.0, counted.1));
                counted
            }
        };
        let carried = |n: i64| (n as f64 * still_counted).ceil() as i64;
        let max_requests = limits.rpm.map_or(i64::MAX, |rpm| rpm - carried(before_requests));
        let max_tokens = limits.tpm.map_or(i64::MAX, |tpm| tpm - carried(before_tokens));
        let ahead = chunk(limits);
        let mut taken =
            rates::take(store, id, window, ahead, max_requests, max_tokens).await.map(|ok| ok.then_some(ahead));
        if matches!(taken, Ok(None)) && ahead > 1 {
            taken = rates::take(store, id, window, 1, max_requests, max_tokens).await.map(|ok| ok.then_some(1));
        }
        match taken {
            Ok(Some(count)) => {
                if count > 1 {
                    self.allowances.lock().unwrap_or_else(|e| e.into_inner()).insert(id, (window, count - 1));
                }
                Ok(())
            }
            Ok(None) => {
                let wait = Duration::from_millis((window + MINUTE_MS - now_ms).max(1000) as u64);
                let (requests, tokens) = rates::counted(store, id, window).await.unwrap_or((0, 0));
                let message = match (limits.rpm, limits.tpm) {
                    (Some(rpm), _) if requests >= max_requests => {
                        format!(
                            "gateway key {id} reached its limit of {rpm} requests per minute; retry in {}",
                            human(wait)
                        )
                    }
                    (_, Some(tpm)) => format!(
                        "gateway key {id} reached its limit of {tpm} tokens per minute ({} used); retry in {}",
                        tokens + carried(before_tokens),
                        human(wait)
                    ),
                    (Some(rpm), None) => {
                        format!(
                            "gateway key {id} reached its limit of {rpm} requests per minute; retry in {}",
                            human(wait)
                        )
                    }
                    (None, None) => unreachable!("checked only with a limit"),
                };
                Err(Refusal::RateLimited(message, wait))
            }
            Err(e) => {
                tracing::warn!("cannot count gateway key {id}'s request in the shared store, letting it through: {e}");
                Ok(())
            }
        }
    }

    /// Counts a finished request's tokens and cost against its key.
    pub fn settle(&self, id: i64, tokens: u64, cost_usd: f64) {
        if let (Some(store), true) = (self.shared_store(), tokens > 0) {
            let now_ms = crate::base::now_ms();
            let window = now_ms - now_ms.rem_euclid(crate::store::rates::MINUTE_MS);
            *self.unflushed.lock().unwrap_or_else(|e| e.into_inner()).entry((id, window)).or_default() += tokens as i64;
            if !self.flushing.swap(true, std::sync::atomic::Ordering::AcqRel) {
                tokio::spawn(flush_tokens(store.clone(), self.unflushed.clone()));
            }
        } else if tokens > 0 {
            let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            windows.entry(id).or_default().tokens.push_back((Instant::now(), tokens));
        }
        if cost_usd > 0.0 {
            let now = OffsetDateTime::now_utc();
            let (day, month) = day_and_month(now);
            let mut spend = self.spend.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = spend.get_mut(&id) {
                if s.day != day {
                    *s = Spend { day, day_usd: 0.0, ..*s };
                }
                if s.month != month {
                    s.month = month;
                    s.month_usd = 0.0;
                }
                s.day_usd += cost_usd;
                s.month_usd += cost_usd;
            }
        }
    }

    /// The key's spend today and this month: from the store the first time, then in memory.
    async fn spend_of(&self, id: i64, now: OffsetDateTime) -> Spend {
        let (day, month) = day_and_month(now);
        let fresh = |s: &Spend| self.shared_store().is_none() || s.read_at.elapsed() < SHARED_SPEND_FRESH;
        if let Some(s) = self.spend.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            if s.day == day && s.month == month && fresh(s) {
                return *s;
            }
        }
        let (mut day_usd, mut month_usd) = (0.0, 0.0);
        if let Some(store) = &self.store {
            let day_start = day * 86_400_000;
            day_usd = crate::store::usage::spend_since(store, id, day_start).await.unwrap_or(0.0);
            month_usd = crate::store::usage::spend_since(store, id, start_of_month_ms(now)).await.unwrap_or(0.0);
        }
        let spend = Spend { day, day_usd, month, month_usd, read_at: Instant::now() };
        self.spend.lock().unwrap_or_else(|e| e.into_inner()).insert(id, spend);
        spend
    }
}

/// Adds the tokens gathered since the last pass to the shared counts, every `TOKEN_FLUSH`,
/// for the gateway's life.
async fn flush_tokens(store: Store, unflushed: Arc<Mutex<HashMap<(i64, i64), i64>>>) {
    let mut ticker = tokio::time::interval(TOKEN_FLUSH);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let batch = std::mem::take(&mut *unflushed.lock().unwrap_or_else(|e| e.into_inner()));
        for ((id, window), tokens) in batch {
            if let Err(e) = crate::store::rates::add_tokens(&store, id, window, tokens).await {
                tracing::warn!("cannot count gateway key {id}'s tokens in the shared store: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("cc/*", "cc/claude-sonnet-4-5"));
        assert!(glob_matches("*sonnet*", "cc/claude-sonnet-4-5"));
        assert!(glob_matches("openai/gpt-5", "openai/gpt-5"));
        assert!(!glob_matches("openai/gpt-5", "openai/gpt-5-mini"));
        assert!(!glob_matches("cc/*", "openai/gpt-5"));
        assert!(glob_matches("*", "anything"));
    }

    #[tokio::test]
    async fn rpm_tpm_and_models_are_enforced() {
        let limiter = KeyLimiter::default();
        let limits = KeyLimits { rpm: Some(2), tpm: Some(100), models: Some("a/*".into()), ..Default::default() };
        assert!(limiter.check(1, &limits, "a/x").await.is_ok());
        assert!(limiter.check(1, &limits, "a/x").await.is_ok());
        assert!(matches!(limiter.check(1, &limits, "a/x").await, Err(Refusal::RateLimited(_, wait)) if wait <= WINDOW));
        assert!(
            matches!(limiter.check(1, &limits, "b/x").await, Err(Refusal::Forbidden(m)) if m.contains("may not use"))
        );
        let tokens = KeyLimits { tpm: Some(100), ..Default::default() };
        assert!(limiter.check(2, &tokens, "x").await.is_ok());
        limiter.settle(2, 150, 0.0);
        assert!(
            matches!(limiter.check(2, &tokens, "x").await, Err(Refusal::RateLimited(m, _)) if m.contains("tokens per minute"))
        );
        let expired = KeyLimits { expires_at: Some("2020-01-01T00:00:00Z".into()), ..Default::default() };
        assert!(matches!(limiter.check(3, &expired, "x").await, Err(Refusal::Forbidden(m)) if m.contains("expired")));
        let budget = KeyLimits { budget_daily_usd: Some(1.0), ..Default::default() };
        assert!(limiter.check(4, &budget, "x").await.is_ok());
        limiter.settle(4, 10, 1.5);
        assert!(
            matches!(limiter.check(4, &budget, "x").await, Err(Refusal::Forbidden(m)) if m.contains("daily budget"))
        );
    }
}
