//! Dashboard sessions: the password login that guards every /api route. A session is a random
//! 256-bit token in an HttpOnly, SameSite=Strict cookie; the store keeps only its SHA-256 and
//! expiry (`store::sessions`), so every gateway on a shared database knows it. Failed logins are limited per
//! client address. The first password may be set from this machine only (loopback peer and a
//! loopback Host header, so neither another host nor a DNS-rebound page can claim the
//! dashboard); elsewhere it is set with `switchyard settings set dashboard-password -`.

use super::super::error::ApiError;
use crate::store::{self, Store};
use axum::response::IntoResponse;
use http::{HeaderMap, StatusCode};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE_NAME: &str = "switchyard_session";
/// How long a login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Failed logins allowed per client address in one window.
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

pub struct Sessions {
    store: Store,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    /// The desktop app's own session (its window calls /api in-process; it never leaves the
    /// process).
    app: tokio::sync::Mutex<Option<String>>,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Sessions {
    pub fn new(store: Store) -> Self {
        Self { store, failures: Mutex::default(), app: tokio::sync::Mutex::default() }
    }

    /// Starts a session; returns the token for the cookie.
    pub async fn create(&self) -> Result<String, ApiError> {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let now = crate::base::now_ms();
        store::sessions::insert(&self.store, &digest(&token), now, now + SESSION_TTL.as_millis() as i64)
            .await
            .map_err(unavailable)?;
        Ok(token)
    }

    /// Starts a session and puts its cookie on `response`.
    pub async fn start(&self, mut response: axum::response::Response) -> axum::response::Response {
        match self.create().await {
            Ok(token) => {
                response.headers_mut().insert(http::header::SET_COOKIE, set_cookie(Some(&token)));
                response
            }
            Err(e) => e.into_response(),
        }
    }

    /// The desktop app's session token: started on first use, started anew once it expired
    /// or every session was ended.
    pub async fn app_session(&self) -> String {
        let mut app = self.app.lock().await;
        match app.as_ref() {
            Some(token) if self.is_valid(token).await => token.clone(),
            _ => {
                let token = self.create().await.unwrap_or_default();
                *app = Some(token.clone());
                token
            }
        }
    }

    /// A live session (a store that cannot be reached answers no).
    pub async fn is_valid(&self, token: &str) -> bool {
        let live = store::sessions::is_live(&self.store, &digest(token), crate::base::now_ms()).await;
        live.unwrap_or_else(|e| {
            tracing::warn!("cannot check a dashboard session: {e}");
            false
        })
    }

    pub async fn end(&self, token: &str) {
        if let Err(e) = store::sessions::remove(&self.store, &digest(token)).await {
            tracing::warn!("cannot end a dashboard session: {e}");
        }
    }

    /// Ends every session (the password changed).
    pub async fn end_all(&self) {
        if let Err(e) = store::sessions::remove_all(&self.store).await {
            tracing::warn!("cannot end the dashboard sessions: {e}");
        }
    }

    /// Refuses a login attempt from `peer` while it has used up its failures; says when to retry.
    pub fn check_rate(&self, peer: IpAddr) -> Result<(), ApiError> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((since, count)) = failures.get(&peer) {
            let elapsed = since.elapsed();
            if *count >= MAX_FAILURES && elapsed < FAILURE_WINDOW {
                let wait = (FAILURE_WINDOW - elapsed).as_secs() + 1;
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    format!("too many failed logins from this address: try again in {wait} s"),
                )
                .code("login_rate_limited");
                e.retry_after = http::HeaderValue::from_str(&wait.to_string()).ok();
                return Err(e);
            }
        }
        Ok(())
    }

    pub fn note_failure(&self, peer: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = failures.entry(peer).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= FAILURE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }

    pub fn clear_failures(&self, peer: IpAddr) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&peer);
    }
}

fn unavailable(e: store::StoreError) -> ApiError {
    tracing::error!("cannot keep a dashboard session: {e}");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", format!("cannot keep the session: {e}"))
}

/// The session token a request carries in its Cookie header.
pub fn token_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_string())
}

/// The Set-Cookie value that starts (`Some(token)`) or ends (`None`) a session.
pub fn set_cookie(token: Option<&str>) -> http::HeaderValue {
    let mut c = cookie::Cookie::build((COOKIE_NAME, token.unwrap_or("").to_string()))
        .path("/api")
        .http_only(true)
        .same_site(cookie::SameSite::Strict);
    c = match token {
        Some(_) => c.max_age(cookie::time::Duration::seconds(SESSION_TTL.as_secs() as i64)),
        None => c.max_age(cookie::time::Duration::ZERO),
    };
    // Only ASCII goes in: the name, a hex token and fixed attributes.
    http::HeaderValue::from_str(&c.build().to_string()).unwrap_or_else(|_| http::HeaderValue::from_static(""))
}

/// Whether a request came from this machine to a loopback name (not a DNS-rebound page).
pub fn is_local_request(peer: IpAddr, headers: &HeaderMap) -> bool {
    let host = headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    let local_name = name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    peer.is_loopback() && local_name
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sessions() -> (tempfile::TempDir, Sessions) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        (dir, Sessions::new(store))
    }

    #[tokio::test]
    async fn sessions_start_check_and_end() {
        let (_dir, s) = sessions().await;
        let t = s.create().await.unwrap();
        assert_eq!(t.len(), 64);
        assert!(s.is_valid(&t).await);
        assert!(!s.is_valid("nope").await);
        s.end(&t).await;
        assert!(!s.is_valid(&t).await);
        let (a, b) = (s.create().await.unwrap(), s.create().await.unwrap());
        s.end_all().await;
        assert!(!s.is_valid(&a).await && !s.is_valid(&b).await);
    }

    #[tokio::test]
    async fn failures_lock_an_address_out() {
        let (_dir, s) = sessions().await;
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(s.check_rate(peer).is_ok());
            s.note_failure(peer);
        }
        let e = s.check_rate(peer).unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(s.check_rate("10.0.0.3".parse().unwrap()).is_ok());
        s.clear_failures(peer);
        assert!(s.check_rate(peer).is_ok());
    }

    #[test]
    fn local_requests_need_a_loopback_peer_and_host() {
        let mut h = HeaderMap::new();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        h.insert("host", "127.0.0.1:20130".parse().unwrap());
        assert!(is_local_request(lo, &h));
        h.insert("host", "localhost:20130".parse().unwrap());
        assert!(is_local_request(lo, &h));
        h.insert("host", "[::1]:20130".parse().unwrap());
        assert!(is_local_request(lo, &h));
        h.insert("host", "evil.example:20130".parse().unwrap());
        assert!(!is_local_request(lo, &h));
        h.insert("host", "127.0.0.1:20130".parse().unwrap());
        assert!(!is_local_request("192.168.1.9".parse().unwrap(), &h));
    }

    #[test]
    fn cookies_are_read_among_others() {
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; switchyard_session=abc; b=2".parse().unwrap());
        assert_eq!(token_of(&h).as_deref(), Some("abc"));
        let set = set_cookie(Some("abc")).to_str().unwrap().to_string();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/api"), "{set}");
    }
}
