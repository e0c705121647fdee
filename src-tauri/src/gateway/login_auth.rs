//! The attempt loop's side of subscription logins, the same for every backend: the token and
//! headers a login account's request carries (refreshed first when near expiry), the one
//! refresh after a 401, an account set aside when its login is refused, and quota windows
//! kept (a used-up one rests the account). What differs by backend is in `upstreams`.

use super::attempts::Prepared;
use super::error::ApiError;
use super::AppState;
use crate::login::tokens::LoginAuth;
use crate::login::{quota, LoginError};
use crate::routing::state::ACCOUNT_WIDE;
use crate::routing::AccountNotice;
use crate::snapshot::{AccountRuntime, ProviderRuntime};
use http::StatusCode;
use std::time::{Duration, SystemTime};

fn secret(account: &AccountRuntime) -> &str {
    account.secret.as_ref().map(|s| s.expose()).unwrap_or_default()
}

/// The login's failure as the client's error; a refused login sets the account aside and
/// tells the user.
fn failed(app: &AppState, provider: &ProviderRuntime, account: &AccountRuntime, e: LoginError) -> ApiError {
    if let LoginError::NeedsLogin(..) = &e {
        let reason = e.to_string();
        super::attempts::set_aside(app, account.id, &reason);
        app.notices.send(|| AccountNotice::NeedsLogin {
            account: account.id,
            provider: provider.id.clone(),
            reason: reason.clone(),
        });
        return ApiError::new(StatusCode::UNAUTHORIZED, "authentication_error", reason).code("needs_login");
    }
    ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string()).code("login_refresh_failed")
}

/// What the request of a login account carries now.
pub async fn auth(app: &AppState, provider: &ProviderRuntime, account: &AccountRuntime) -> Result<LoginAuth, ApiError> {
    let config = app.live.get();
    app.logins
        .auth(account.id, secret(account), &config.settings.login_endpoints)
        .await
        .map_err(|e| failed(app, provider, account, e))
}

/// After a 401 that carried `used`: the refreshed login.
pub async fn after_unauthorized(
    app: &AppState,
    provider: &ProviderRuntime,
    account: &AccountRuntime,
    used: &LoginAuth,
) -> Result<LoginAuth, ApiError> {
    let config = app.live.get();
    app.logins
        .after_unauthorized(account.id, secret(account), &used.token, &config.settings.login_endpoints)
        .await
        .map_err(|e| failed(app, provider, account, e))
}

/// The prepared request with the login's headers (beta flags joined to the client's) and, for
/// a login whose token names its own host, its URL moved there. What each backend adds to
/// this (a body of its own, a profile) is its upstream's (`upstreams`).
pub fn apply(mut prepared: Prepared, login: &LoginAuth, provider: &ProviderRuntime) -> Prepared {
    for (name, value) in &login.headers {
        match (name.as_str(), prepared.extra.get(name)) {
            ("anthropic-beta", Some(existing)) => {
                let joined =
                    format!("{},{}", existing.to_str().unwrap_or_default(), value.to_str().unwrap_or_default());
                if let Ok(v) = http::HeaderValue::from_str(&joined) {
                    prepared.extra.insert(name.clone(), v);
                }
            }
            _ => {
                let mut value = value.clone();
                value.set_sensitive(name == http::header::AUTHORIZATION);
                prepared.extra.insert(name.clone(), value);
            }
        }
    }
    if let Some(base) = &login.base_url {
        let url = prepared.url.as_str();
        if let Some(rest) = url.strip_prefix(provider.base_url.as_str()) {
            if let Ok(moved) = reqwest::Url::parse(&format!("{base}{rest}")) {
                prepared.url = moved;
            }
        }
    }
    prepared
}

/// The quota windows an answer's headers reported (Codex and Claude do): kept, and a used-up
/// window rests the account until it resets.
pub fn note_quota_headers(app: &AppState, account: &AccountRuntime, windows: Vec<quota::Window>) {
    if windows.is_empty() {
        return;
    }
    rest_if_used_up(app, account.id, &windows);
    let manager = app.manager.clone();
    let id = account.id;
    tokio::spawn(async move {
        if let Err(e) = manager.quota_keep(id, &windows).await {
            tracing::warn!(account = id, "cannot store a quota: {e}");
        }
    });
}

/// Cools an account down until its used-up windows reset: for every model when an
/// account-wide window is used up, for one model when only that model's is.
pub fn rest_if_used_up(app: &AppState, account: i64, windows: &[quota::Window]) {
    let now = crate::login::now_ms();
    let wait = |window: &quota::Window| {
        let wait = window.resets_at_ms.map(|at| Duration::from_millis((at - now).max(1_000) as u64));
        wait.or(Some(Duration::from_secs(3600)))
    };
    let rest = |model: &str, window: &quota::Window| {
        let reason = format!("subscription quota: the {} window is used up", window.name);
        let cooldown = app.routing.cool_down(account, model, wait(window), &reason);
        tracing::info!(account, until = ?cooldown.until.duration_since(SystemTime::now()).ok(), "{reason}");
    };
    if let Some(window) = quota::blocking(windows) {
        rest(ACCOUNT_WIDE, window);
    }
    for (model, window) in quota::blocked_models(windows) {
        rest(model, window);
    }
}
