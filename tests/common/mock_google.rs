//! The mock authorization server's Google side, for Gemini CLI's login: the userinfo endpoint
//! and Code Assist's setup and quota methods (`loadCodeAssist`, `onboardUser` with a
//! long-running operation that finishes on its first poll, `retrieveUserQuota`). Each checks
//! the bearer the token endpoint issued; the project Code Assist assigns is `PROJECT`.

use crate::common::mock_auth::AuthState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The project the mock's Code Assist assigns on onboarding.
pub const PROJECT: &str = "mock-project-123";

#[derive(Default)]
pub struct GoogleState {
    /// The account has been onboarded (loadCodeAssist then names its tier and project).
    pub onboarded: AtomicBool,
    /// Every call is refused as Google refuses accounts it blocked.
    pub tos_blocked: AtomicBool,
    /// Client secrets the token endpoint received.
    pub secrets: Mutex<Vec<String>>,
    /// Bodies of the Code Assist calls, by method, in order.
    pub calls: Mutex<Vec<(String, Value)>>,
    /// What retrieveUserQuota answers.
    pub quota: Mutex<Value>,
}

pub fn routes() -> Router<Arc<AuthState>> {
    Router::new()
        .route("/google/userinfo", get(userinfo))
        .route("/codeassist/v1internal:loadCodeAssist", post(load))
        .route("/codeassist/v1internal:onboardUser", post(onboard))
        .route("/codeassist/v1internal/operations/onboard-1", get(operation))
        .route("/codeassist/v1internal:retrieveUserQuota", post(quota))
}

fn google_error(status: StatusCode, message: &str, reason: Option<&str>) -> Response {
    let mut error = json!({"error": {"code": status.as_u16(), "message": message, "status": "PERMISSION_DENIED"}});
    if let Some(reason) = reason {
        error["error"]["details"] = json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "cloudcode-pa.googleapis.com"}]);
    }
    (status, Json(error)).into_response()
}

/// Refuses a call without a bearer the token endpoint issued (or any call of a blocked
/// account).
fn refusal(s: &AuthState, headers: &HeaderMap) -> Option<Response> {
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !bearer.starts_with("Bearer tok-access-") {
        return Some(google_error(StatusCode::UNAUTHORIZED, "mock: invalid credentials", None));
    }
    if s.google.tos_blocked.load(Ordering::SeqCst) {
        return Some(google_error(
            StatusCode::FORBIDDEN,
            "This service has been disabled in this account for violation of Terms of Service.",
            Some("TOS_VIOLATION"),
        ));
    }
    None
}

fn record(s: &AuthState, method: &str, body: &Value) {
    s.google.calls.lock().unwrap().push((method.to_string(), body.clone()));
}

async fn userinfo(State(s): State<Arc<AuthState>>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&s, &headers) {
        return refused;
    }
    Json(json!({"id": "1", "email": "dev@example.com", "verified_email": true})).into_response()
}

async fn load(State(s): State<Arc<AuthState>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(refused) = refusal(&s, &headers) {
        return refused;
    }
    record(&s, "loadCodeAssist", &body);
    if body["metadata"]["pluginType"] != "GEMINI" {
        return google_error(StatusCode::BAD_REQUEST, "mock: metadata.pluginType is required", None);
    }
    if s.google.onboarded.load(Ordering::SeqCst) {
        return Json(json!({"currentTier": {"id": "free-tier", "name": "Gemini Code Assist for individuals"},
            "allowedTiers": [{"id": "free-tier", "isDefault": true}], "cloudaicompanionProject": PROJECT}))
        .into_response();
    }
    Json(json!({"allowedTiers": [
        {"id": "free-tier", "name": "Gemini Code Assist for individuals", "isDefault": true, "userDefinedCloudaicompanionProject": false},
        {"id": "standard-tier", "name": "Gemini Code Assist", "userDefinedCloudaicompanionProject": true}
    ]}))
    .into_response()
}

async fn onboard(State(s): State<Arc<AuthState>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(refused) = refusal(&s, &headers) {
        return refused;
    }
    record(&s, "onboardUser", &body);
    // The free tier takes no project of the user's.
    if body["tierId"] != "free-tier" || body.get("cloudaicompanionProject").is_some() {
        return google_error(StatusCode::BAD_REQUEST, "mock: onboard the free tier without a project", None);
    }
    Json(json!({"name": "operations/onboard-1", "done": false})).into_response()
}

async fn operation(State(s): State<Arc<AuthState>>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&s, &headers) {
        return refused;
    }
    s.google.onboarded.store(true, Ordering::SeqCst);
    Json(json!({"name": "operations/onboard-1", "done": true,
        "response": {"@type": "type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse",
            "cloudaicompanionProject": {"id": PROJECT, "name": "Mock project"}}}))
    .into_response()
}

async fn quota(State(s): State<Arc<AuthState>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(refused) = refusal(&s, &headers) {
        return refused;
    }
    record(&s, "retrieveUserQuota", &body);
    if body["project"] != PROJECT {
        return google_error(StatusCode::FORBIDDEN, "mock: no such project", None);
    }
    Json(s.google.quota.lock().unwrap().clone()).into_response()
}
