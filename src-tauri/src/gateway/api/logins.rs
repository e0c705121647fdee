//! /api routes for subscription logins: the choices (with each provider's terms risk), a
//! sign-in started for the dashboard and followed by polling, the address pasted when the
//! callback port is taken, an import from the official CLI on this machine, and the quotas
//! (one account's read now, or every account's as last read). Each reads its request and calls `manage`.

use super::{json, ApiResult, Body};
use crate::gateway::error::ApiError;
use crate::gateway::AppState;
use crate::login::LoginKind;
use axum::extract::{Path, State};
use serde::Deserialize;

fn kind(provider: &str) -> Result<LoginKind, ApiError> {
    provider.parse().map_err(ApiError::bad_request)
}

pub async fn choices(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.login_choices().await?))
}

#[derive(Deserialize, Default)]
pub struct BeginQuery {
    /// The desktop app's window: the server opens the sign-in page in the system browser
    /// (honoured on loopback only).
    #[serde(default)]
    open_browser: bool,
}

pub async fn begin(
    State(app): State<AppState>,
    Path(provider): Path<String>,
    axum::extract::Query(q): axum::extract::Query<BeginQuery>,
) -> ApiResult {
    let open_browser = q.open_browser && !app.exposed;
    Ok(json(app.manager.login_begin(&app.pending_logins, kind(&provider)?, open_browser).await?))
}

pub async fn pending(State(app): State<AppState>, Path(id): Path<u64>) -> ApiResult {
    Ok(json(app.pending_logins.get(id)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasteBody {
    url: String,
}

pub async fn paste(State(app): State<AppState>, Path(id): Path<u64>, Body(b): Body<PasteBody>) -> ApiResult {
    Ok(json(app.pending_logins.paste(id, &b.url)?))
}

pub async fn import(State(app): State<AppState>, Path(provider): Path<String>) -> ApiResult {
    let home =
        dirs::home_dir().ok_or_else(|| ApiError::bad_request("this machine has no home folder to import from"))?;
    Ok(json(app.manager.login_import(kind(&provider)?, &home, "").await?))
}

pub async fn quota(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult {
    Ok(json(app.manager.account_quota(id).await?))
}

/// Every login account's quota as last read (at start, every `quota-refresh-secs`, and from
/// answers' headers).
pub async fn quotas(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.stored_quotas().await?))
}
