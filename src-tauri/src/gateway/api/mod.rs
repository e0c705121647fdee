//! /api: the management API the web dashboard calls. Every route is a thin call into the one
//! management layer (`manage`); this module only reads the request, checks the dashboard
//! session, and renders the answer or the error (`{"error":{"message","type","code"}}`, with
//! a 4xx that says what is wrong). Routes under /api/session log in and out; all others need
//! a session.

mod config;
pub mod in_process;
mod login;
mod logins;
pub mod session;
mod tools;
mod usage;

use super::error::ApiError;
use super::AppState;
use crate::manage::ManageError;
use axum::extract::{FromRequest, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::Router;
use http::StatusCode;
use serde::de::DeserializeOwned;

pub fn router(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .route("/api/overview", get(usage::overview))
        .route("/api/models", get(config::models))
        .route("/api/models/test", post(config::model_test))
        .route("/api/catalog", get(config::catalog))
        .route("/api/providers", get(config::providers).post(config::provider_add))
        .route("/api/providers/{id}", patch(config::provider_set).delete(config::provider_remove))
        .route("/api/accounts", get(config::accounts).post(config::account_add))
        .route("/api/accounts/{id}", patch(config::account_set).delete(config::account_remove))
        .route("/api/accounts/{id}/test", post(config::account_test))
        .route("/api/accounts/{id}/quota", get(logins::quota))
        .route("/api/quotas", get(logins::quotas))
        .route("/api/logins", get(logins::choices))
        .route("/api/logins/{provider}", post(logins::begin))
        .route("/api/logins/{provider}/import", post(logins::import))
        .route("/api/logins/pending/{id}", get(logins::pending))
        .route("/api/logins/pending/{id}/paste", post(logins::paste))
        .route("/api/cooldowns", get(config::cooldowns))
        .route("/api/combos", get(config::combos))
        .route("/api/combos/{name}", put(config::combo_set).delete(config::combo_remove))
        .route("/api/keys", get(config::keys).post(config::key_create))
        .route("/api/keys/{id}", patch(config::key_set).delete(config::key_revoke))
        .route("/api/settings", get(config::settings))
        .route("/api/settings/{key}", put(config::setting_set))
        .route("/api/tools", get(tools::list))
        .route("/api/tools/{id}", get(tools::status))
        .route("/api/tools/{id}/apply", post(tools::apply))
        .route("/api/tools/{id}/restore", post(tools::restore))
        .route("/api/usage/summary", get(usage::summary))
        .route("/api/usage/series", get(usage::series))
        .route("/api/usage/log", get(usage::log))
        .route("/api/usage/events", get(usage::events))
        .route_layer(axum::middleware::from_fn_with_state(state, require_session));
    Router::new()
        .route("/api/session", get(login::status))
        .route("/api/session/setup", post(login::setup))
        .route("/api/session/login", post(login::login))
        .route("/api/session/logout", post(login::logout))
        .route("/api/{*rest}", get(unknown).post(unknown).put(unknown).patch(unknown).delete(unknown))
        .merge(guarded)
}

/// Lets a request through only with a live dashboard session. A change (any method but GET)
/// is put in force before its answer returns, so the next request already sees it.
async fn require_session(State(app): State<AppState>, request: Request, next: Next) -> Response {
    match session::token_of(request.headers()) {
        Some(token) if app.sessions.is_valid(&token) => {
            let changes = request.method() != http::Method::GET;
            let response = next.run(request).await;
            if changes && response.status().is_success() {
                app.live.refresh(app.manager.store(), app.manager.sealer()).await;
            }
            response
        }
        _ => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "log in to the dashboard first (POST /api/session/login)",
        )
        .code("login_required")
        .into_response(),
    }
}

async fn unknown(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found_error",
        format!("no management route {} {}", request.method(), request.uri().path()),
    )
}

/// A management failure as an /api answer: the user's mistake is a 4xx saying what is wrong.
impl From<ManageError> for ApiError {
    fn from(e: ManageError) -> Self {
        match &e {
            ManageError::Invalid(m) => ApiError::bad_request(m.clone()),
            ManageError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not_found_error", m.clone()),
            ManageError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict_error", m.clone()),
            ManageError::Unavailable(m) => ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", m.clone()),
            ManageError::Store(inner) => {
                tracing::error!("management operation failed: {inner}");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", format!("store error: {inner}"))
            }
        }
    }
}

/// How long a management request's body may take to arrive.
const BODY_TIME: std::time::Duration = std::time::Duration::from_secs(15);

/// A JSON request body whose rejection (not JSON, wrong content type, a missing field) is a
/// 4xx in the /api error shape, naming what is wrong.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // A management body is small: one that has not arrived in this time is not coming
        // (a slow POST to the login route must not hold a request open).
        let read = tokio::time::timeout(BODY_TIME, axum::Json::<T>::from_request(req, state));
        match read.await {
            Ok(Ok(axum::Json(value))) => Ok(Body(value)),
            Ok(Err(rejection)) => {
                Err(ApiError::new(rejection.status(), "invalid_request_error", rejection.body_text()))
            }
            Err(_) => Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request_error",
                format!("the request body did not arrive within {} s", BODY_TIME.as_secs()),
            )
            .code("request_timeout")),
        }
    }
}

/// A successful answer: the value as JSON.
pub fn json<T: serde::Serialize>(value: T) -> Response {
    axum::Json(value).into_response()
}

pub type ApiResult = Result<Response, ApiError>;
