//! /api routes for subscription logins: the choices (with each provider's terms risk), a
//! sign-in started for the dashboard and followed by polling, the address pasted when the
//! callback port is taken, an import from the official CLI on this machine, and the quotas
//! (one account's read now, or every account's as last read). Each reads its request and calls `manage`.

use super::{ok, Body, Reply};
use crate::gateway::error::ApiError;
use crate::gateway::AppState;
use crate::login::LoginKind;
use axum::extract::{Path, Query, State};
use switchyard_api::routes::*;
use switchyard_api::PastedUrl;

fn kind(provider: &str) -> Result<LoginKind, ApiError> {
    provider.parse().map_err(ApiError::bad_request)
}

pub async fn choices(State(app): State<AppState>) -> Reply<ListLogins> {
    ok(app.manager.login_choices().await?)
}

pub async fn begin(
    State(app): State<AppState>,
    Path(route): Path<BeginLogin>,
    Query(query): Query<BeginLogin>,
) -> Reply<BeginLogin> {
    // The desktop app's window asks the server to open the browser: honoured on loopback only.
    let open_browser = query.open_browser.unwrap_or(false) && !app.exposed;
    ok(app.manager.login_begin(&app.pending_logins, kind(&route.provider)?, open_browser).await?)
}

pub async fn pending(State(app): State<AppState>, Path(route): Path<GetPendingLogin>) -> Reply<GetPendingLogin> {
    ok(app.pending_logins.get(route.id)?)
}

pub async fn paste(
    State(app): State<AppState>,
    Path(route): Path<PasteLogin>,
    Body(b): Body<PastedUrl>,
) -> Reply<PasteLogin> {
    ok(app.pending_logins.paste(route.id, &b.url)?)
}

pub async fn import(State(app): State<AppState>, Path(route): Path<ImportLogin>) -> Reply<ImportLogin> {
    let home =
        dirs::home_dir().ok_or_else(|| ApiError::bad_request("this machine has no home folder to import from"))?;
    ok(app.manager.login_import(kind(&route.provider)?, &home, "").await?)
}

pub async fn quota(State(app): State<AppState>, Path(route): Path<ReadQuota>) -> Reply<ReadQuota> {
    ok(app.manager.account_quota(route.id).await?)
}

/// Every login account's quota as last read (at start, every `quota-refresh-secs`, and from
/// answers' headers).
pub async fn quotas(State(app): State<AppState>) -> Reply<ListQuotas> {
    ok(app.manager.stored_quotas().await?)
}
