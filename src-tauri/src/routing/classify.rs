//! What an upstream failure means for routing, decided before the first byte reaches the
//! client: cool the (account, model) down until the provider's own reset time, set the account
//! aside for the user, retry, try the next candidate, or hand the client its own mistake at once.

use http::HeaderMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// 429, quota exhausted, overloaded: cool down until `reset` (when the provider said) or
    /// by exponential backoff.
    RateLimited { reset: Option<Duration>, reason: String },
    /// 401/403: the credential is refused; the account needs the user's attention.
    Auth { reason: String },
    /// 5xx, connection failures, timeouts before the first byte: retry, then move on.
    Transient { reason: String },
    /// The provider does not know the model: try the next candidate, cool nothing.
    ModelNotFound { reason: String },
    /// A deterministic mistake in the request (400, 413, 422): the client gets it at once.
    Client,
}

impl Failure {
    pub fn reason(&self) -> &str {
        match self {
            Self::RateLimited { reason, .. }
            | Self::Auth { reason }
            | Self::Transient { reason }
            | Self::ModelNotFound { reason } => reason,
            Self::Client => "client error",
        }
    }
}

/// Words that mark an exhausted quota or balance, whatever the status says.
const QUOTA_WORDS: [&str; 7] = [
    "insufficient_quota",
    "quota",
    "credit balance",
    "exceeded your current",
    "usage limit",
    "rate limit",
    "resource_exhausted",
];

pub fn classify(status: u16, headers: &HeaderMap, body: &[u8], message: &str) -> Failure {
    let lower = message.to_ascii_lowercase();
    let reason = format!("{status}: {message}");
    let reset = || reset_after(headers, body, SystemTime::now());
    match status {
        429 => Failure::RateLimited { reset: reset(), reason },
        529 => Failure::RateLimited { reset: reset(), reason },
        503 if lower.contains("overloaded") => Failure::RateLimited { reset: reset(), reason },
        401 | 403 if QUOTA_WORDS.iter().any(|w| lower.contains(w)) => Failure::RateLimited { reset: reset(), reason },
        401 | 403 => Failure::Auth { reason },
        402 => Failure::RateLimited { reset: reset(), reason },
        404 => Failure::ModelNotFound { reason },
        400 if QUOTA_WORDS.iter().any(|w| lower.contains(w)) => Failure::RateLimited { reset: reset(), reason },
        408 | 425 | 500..=599 => Failure::Transient { reason },
        _ => Failure::Client,
    }
}

/// The cooldown when the provider named no reset: 2 s doubling per failure, at most 5 min.
pub fn backoff(failures: u32) -> Duration {
    let secs = 2u64.saturating_mul(1u64 << failures.saturating_sub(1).min(10));
    Duration::from_secs(secs.min(300))
}

/// The provider's own reset time, from its headers or error body: `retry-after` (seconds or
/// an HTTP date), `retry-after-ms`, `x-ratelimit-reset-*` (`6m0s`, `20ms`), Anthropic's
/// `anthropic-ratelimit-*-reset` (RFC 3339), and in the body `resets_at` / `resets_in_seconds`,
/// Gemini's `retryDelay`, or "try again in 1m30s".
pub fn reset_after(headers: &HeaderMap, body: &[u8], now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Some(Duration::from_millis(ms.max(0.0) as u64));
    }
    if let Some(v) = header("retry-after") {
        if let Ok(secs) = v.parse::<f64>() {
            return Some(Duration::from_secs_f64(secs.max(0.0)));
        }
        if let Ok(at) = httpdate(v) {
            return Some(at.duration_since(now).unwrap_or_default());
        }
    }
    let mut longest: Option<Duration> = None;
    let mut consider = |d: Duration| longest = Some(longest.map_or(d, |l| l.max(d)));
    for (name, value) in headers {
        let (name, Ok(value)) = (name.as_str(), value.to_str()) else { continue };
        if name.starts_with("x-ratelimit-reset") {
            if let Some(d) = go_duration(value) {
                consider(d);
            } else if let Ok(n) = value.parse::<f64>() {
                // Either seconds from now or a Unix time.
                let d = if n > 1e9 { unix_until(n, now) } else { Duration::from_secs_f64(n.max(0.0)) };
                consider(d);
            }
        } else if name.starts_with("anthropic-ratelimit-") && name.ends_with("-reset") {
            if let Ok(at) = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339) {
                consider(unix_until(at.unix_timestamp() as f64, now));
            }
        }
    }
    if longest.is_some() {
        return longest;
    }
    reset_in_body(body, now)
}

fn reset_in_body(body: &[u8], now: SystemTime) -> Option<Duration> {
    let text = String::from_utf8_lossy(body);
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        let find = |key: &str| find_key(&v, key);
        if let Some(at) = find("resets_at").and_then(|x| x.as_f64()) {
            return Some(unix_until(at, now));
        }
        if let Some(secs) = find("resets_in_seconds").and_then(|x| x.as_f64()) {
            return Some(Duration::from_secs_f64(secs.max(0.0)));
        }
        if let Some(delay) = find("retryDelay").and_then(|x| x.as_str().and_then(go_duration)) {
            return Some(delay);
        }
    }
    let lower = text.to_ascii_lowercase();
    for marker in ["try again in ", "retry in ", "retry after "] {
        if let Some(i) = lower.find(marker) {
            let rest: String =
                lower[i + marker.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
            let rest = rest.trim_end_matches('.');
            if let Some(d) = go_duration(rest).or_else(|| rest.parse::<f64>().ok().map(Duration::from_secs_f64)) {
                return Some(d);
            }
        }
    }
    None
}

fn find_key<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m.get(key).or_else(|| m.values().find_map(|x| find_key(x, key))),
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

fn unix_until(at_secs: f64, now: SystemTime) -> Duration {
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    Duration::from_secs_f64((at_secs - now).max(0.0))
}

/// Durations written as Go does (`1h2m3.5s`, `20ms`, `6m0s`, `3s`).
fn go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut number = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let n: f64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
        total += n * unit;
        any = true;
    }
    (any && number.is_empty()).then(|| Duration::from_secs_f64(total))
}

fn httpdate(s: &str) -> Result<SystemTime, ()> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(s, &format).map_err(|_| ())?;
    Ok(UNIX_EPOCH + Duration::from_secs(at.assume_utc().unix_timestamp().max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn statuses_and_bodies_classify() {
        let none = HeaderMap::new();
        assert!(matches!(classify(429, &none, b"", "slow"), Failure::RateLimited { .. }));
        assert!(matches!(classify(529, &none, b"", "overloaded"), Failure::RateLimited { .. }));
        assert!(matches!(classify(401, &none, b"", "bad key"), Failure::Auth { .. }));
        assert!(matches!(classify(404, &none, b"", "no such model"), Failure::ModelNotFound { .. }));
        assert!(matches!(classify(502, &none, b"", "bad gateway"), Failure::Transient { .. }));
        assert_eq!(classify(400, &none, b"", "messages: invalid"), Failure::Client);
        assert_eq!(classify(413, &none, b"", "too large"), Failure::Client);
        assert_eq!(classify(422, &none, b"", "unprocessable"), Failure::Client);
        assert!(matches!(classify(400, &none, b"", "Your credit balance is too low"), Failure::RateLimited { .. }));
    }

    #[test]
    fn resets_come_from_every_place_providers_put_them() {
        // Whole seconds, so that Unix-time resets give whole durations.
        let now = UNIX_EPOCH + Duration::from_secs(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs());
        let secs = |h: &[(&'static str, &str)], body: &str| {
            reset_after(&headers(h), body.as_bytes(), now).map(|d| d.as_secs_f64().round() as u64)
        };
        assert_eq!(secs(&[("retry-after", "7")], ""), Some(7));
        assert_eq!(secs(&[("retry-after-ms", "1500")], ""), Some(2));
        assert_eq!(
            secs(&[("x-ratelimit-reset-requests", "1m30s"), ("x-ratelimit-reset-tokens", "20ms")], ""),
            Some(90)
        );
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(42);
        let stamp = at.format(&time::format_description::well_known::Rfc3339).unwrap();
        let got = secs(&[("anthropic-ratelimit-tokens-reset", &stamp)], "").unwrap();
        assert!((41..=43).contains(&got), "{got}");
        let unix = now.duration_since(UNIX_EPOCH).unwrap().as_secs() + 600;
        assert_eq!(
            secs(&[], &format!(r#"{{"error":{{"type":"usage_limit_reached","resets_at":{unix}}}}}"#)),
            Some(600)
        );
        assert_eq!(
            secs(
                &[],
                r#"{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"31s"}]}}"#
            ),
            Some(31)
        );
        assert_eq!(secs(&[], "Rate limit reached. Please try again in 1m12s."), Some(72));
        assert_eq!(secs(&[], "nothing here"), None);
    }

    #[test]
    fn backoff_doubles_from_two_seconds_to_five_minutes() {
        let s: Vec<u64> = (1..=10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(s, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }
}
