//! /api called in-process: the desktop app's window sends the same management calls as the
//! browser dashboard (method, /api path, JSON body), through the same routes, and gets the
//! same answers, with no socket in between. It rides on the app's own session, since the window
//! belongs to the user at the machine (no dashboard password).

use super::session::COOKIE_NAME;
use crate::gateway::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use serde_json::Value;
use std::net::SocketAddr;
use switchyard_api::{ErrorBody, ErrorDetail};
use tower::ServiceExt;

/// Largest answer read back (the request log at its largest limit is far below it).
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// An /api answer: the HTTP status and the JSON body (or the text, if it was not JSON).
#[derive(Debug, Clone, serde::Serialize)]
pub struct InProcessAnswer {
    pub status: u16,
    pub body: Value,
}

fn refused(status: u16, message: String) -> InProcessAnswer {
    InProcessAnswer {
        status,
        body: serde_json::to_value(ErrorBody {
            error: ErrorDetail { message, kind: "invalid_request_error".into(), code: None },
        })
        .unwrap_or_default(),
    }
}

/// Sends one management call through the /api routes of the gateway whose state this is.
pub async fn call_api(state: &AppState, method: &str, path: &str, body: Option<Value>) -> InProcessAnswer {
    if !path.starts_with("/api/") {
        return refused(400, format!("'{path}' is not a management route (they start with /api/)"));
    }
    if path.starts_with("/api/usage/events") {
        return refused(400, "in the app, the live feed comes as 'usage' events, not from /api/usage/events".into());
    }
    let Ok(method) = http::Method::from_bytes(method.as_bytes()) else {
        return refused(400, format!("'{method}' is not an HTTP method"));
    };
    let token = state.sessions.app_session().await;
    let mut request = match http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, state.listen.to_string())
        .header(http::header::COOKIE, format!("{COOKIE_NAME}={token}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
    {
        Ok(request) => request,
        Err(e) => return refused(400, format!("'{path}' is not a valid path: {e}")),
    };
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))));
    let Ok(response) = crate::gateway::router(state.clone()).oneshot(request).await;
    let status = response.status().as_u16();
    let bytes = match axum::body::to_bytes(response.into_body(), MAX_ANSWER).await {
        Ok(bytes) => bytes,
        Err(e) => return refused(500, format!("cannot read the answer: {e}")),
    };
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    InProcessAnswer { status, body }
}
