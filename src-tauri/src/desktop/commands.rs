//! The Tauri commands the dashboard window may invoke. Each one is a call into the gateway
//! control, /api (in-process) or the updater, nothing more.

use super::control::{GatewayControl, GatewayStatus};
use super::updates::{self, UpdateCheck};
use crate::gateway::InProcessAnswer;
use serde::Deserialize;
use std::sync::Arc;
use tauri::State;

/// A management call as the browser would send it to /api.
#[derive(Debug, Deserialize)]
pub struct ApiCall {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub body: Option<serde_json::Value>,
}

/// The window's management calls: the same /api routes the browser dashboard uses.
#[tauri::command]
pub async fn api(request: ApiCall, control: State<'_, Arc<GatewayControl>>) -> Result<InProcessAnswer, ()> {
    Ok(control.call_api(&request.method, &request.path, request.body).await)
}

#[tauri::command]
pub fn gateway_status(control: State<'_, Arc<GatewayControl>>) -> GatewayStatus {
    control.status()
}

/// Starts the gateway; on another port, that port is kept for the next start.
#[tauri::command]
pub async fn gateway_start(
    port: Option<u16>,
    control: State<'_, Arc<GatewayControl>>,
) -> Result<GatewayStatus, String> {
    match port {
        Some(0) => Err("choose a port from 1 to 65535".into()),
        Some(port) => control.move_to(port).await.map_err(|e| e.to_string()),
        None => Ok(control.start(control.port()).await),
    }
}

#[tauri::command]
pub async fn gateway_stop(control: State<'_, Arc<GatewayControl>>) -> Result<GatewayStatus, ()> {
    Ok(control.stop().await)
}

#[tauri::command]
pub async fn update_check(app: tauri::AppHandle) -> Result<UpdateCheck, ()> {
    Ok(updates::check(&app).await)
}

/// Downloads and installs the update the last check found (its signature is checked), then
/// restarts the app.
#[tauri::command]
pub async fn update_install(app: tauri::AppHandle) -> Result<(), String> {
    updates::install(&app).await
}
