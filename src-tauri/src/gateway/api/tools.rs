//! /api routes for coding-tool setup: list, one tool's status, apply (or its dry run: the
//! diff) and restore. Each reads its request and calls `manage`.

use super::{json, ApiResult, Body};
use crate::gateway::AppState;
use axum::extract::{Path, State};
use serde::Deserialize;

pub async fn list(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.tools_list().await?))
}

pub async fn status(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult {
    Ok(json(app.manager.tool_status(&id).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

pub async fn apply(State(app): State<AppState>, Path(id): Path<String>, Body(a): Body<ApplyBody>) -> ApiResult {
    // The tool is pointed where this dashboard is served.
    let port = Some(app.listen.port()).filter(|p| *p != 0);
    Ok(json(app.manager.tool_apply(&id, a.model.as_deref(), port, a.dry_run).await?))
}

pub async fn restore(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult {
    Ok(json(app.manager.tool_restore(&id).await?))
}
