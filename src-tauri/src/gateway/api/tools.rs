//! /api routes for coding-tool setup: list, one tool's status, apply (or its dry run: the
//! diff) and restore. Each reads its request and calls `manage`.

use super::{ok, Body, Reply};
use crate::gateway::AppState;
use axum::extract::{Path, State};
use switchyard_api::routes::*;
use switchyard_api::ToolApply;

pub async fn list(State(app): State<AppState>) -> Reply<ListTools> {
    ok(app.manager.tools_list().await?)
}

pub async fn status(State(app): State<AppState>, Path(route): Path<GetTool>) -> Reply<GetTool> {
    ok(app.manager.tool_status(&route.id).await?)
}

pub async fn apply(
    State(app): State<AppState>,
    Path(route): Path<ApplyTool>,
    Body(a): Body<ToolApply>,
) -> Reply<ApplyTool> {
    // The tool is pointed where this dashboard is served.
    let port = Some(app.listen.port()).filter(|p| *p != 0);
    ok(app.manager.tool_apply(&route.id, a.model.as_deref(), port, a.dry_run).await?)
}

pub async fn restore(State(app): State<AppState>, Path(route): Path<RestoreTool>) -> Reply<RestoreTool> {
    ok(app.manager.tool_restore(&route.id).await?)
}
