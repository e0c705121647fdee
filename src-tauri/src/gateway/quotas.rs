//! The gateway's quota watch: every `quota-refresh-secs` (and once at start) it asks each
//! login account's provider for its quota windows (Claude, Codex, Copilot, Gemini CLI, Kiro;
//! Codex and Claude also report theirs in each answer), with the token renewed first when it is
//! due, stores them, and rests an account whose window is used up until it resets; routing
//! then skips it, and it comes back by itself at the reset.

use super::upstreams::Upstream;
use super::{login_auth, AppState};
use crate::login::endpoints::Endpoints;
use crate::login::quota;
use std::time::Duration;

async fn check_all(app: &AppState) {
    let config = app.live.get();
    for provider in config.providers.values() {
        let Some(kind) = provider.login.filter(|_| Upstream::of(provider).reads_quota()) else { continue };
        let endpoints = Endpoints::new(kind, &config.settings.login_endpoints);
        for account in &provider.accounts {
            // A token due for renewal is renewed first (the refresh requests share), so an idle
            // account's quota stays readable; a refused refresh sets the account aside.
            if login_auth::auth(app, provider, account).await.is_err() {
                continue;
            }
            let secret = account.secret.as_ref().map(|s| s.expose()).unwrap_or_default();
            let Ok(creds) = app.logins.current(account.id, secret).await else { continue };
            match quota::fetch(app.logins.http(), &endpoints, &creds).await {
                Ok(Some(windows)) => {
                    login_auth::rest_if_used_up(app, account.id, &windows);
                    if let Err(e) = app.manager.quota_keep(account.id, &windows).await {
                        tracing::warn!(account = account.id, "cannot store a quota: {e}");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::debug!(account = account.id, "quota not read: {e}"),
            }
        }
    }
}

/// Runs the watch until the task is aborted.
pub async fn watch(app: AppState) {
    loop {
        check_all(&app).await;
        let every = app.live.get().settings.quota_refresh_secs.max(5);
        tokio::time::sleep(Duration::from_secs(every)).await;
    }
}
