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
use axum::handler::Handler;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::Router;
use http::StatusCode;
use serde::de::DeserializeOwned;
use switchyard_api::routes::{self, Method, Route};

pub fn router(state: AppState) -> Router<AppState> {
    let guarded = Router::new();
    let guarded = on::<routes::GetOverview, _, _>(guarded, usage::overview);
    let guarded = on::<routes::ListModels, _, _>(guarded, config::models);
    let guarded = on::<routes::TestModel, _, _>(guarded, config::model_test);
    let guarded = on::<routes::ListCatalog, _, _>(guarded, config::catalog);
    let guarded = on::<routes::ListProviders, _, _>(guarded, config::providers);
    let guarded = on::<routes::AddProvider, _, _>(guarded, config::provider_add);
    let guarded = on::<routes::ChangeProvider, _, _>(guarded, config::provider_set);
    let guarded = on::<routes::RemoveProvider, _, _>(guarded, config::provider_remove);
    let guarded = on::<routes::ListAccounts, _, _>(guarded, config::accounts);
    let guarded = on::<routes::AddAccount, _, _>(guarded, config::account_add);
    let guarded = on::<routes::ChangeAccount, _, _>(guarded, config::account_set);
    let guarded = on::<routes::RemoveAccount, _, _>(guarded, config::account_remove);
    let guarded = on::<routes::TestAccount, _, _>(guarded, config::account_test);
    let guarded = on::<routes::ReadQuota, _, _>(guarded, logins::quota);
    let guarded = on::<routes::ListQuotas, _, _>(guarded, logins::quotas);
    let guarded = on::<routes::ListCooldowns, _, _>(guarded, config::cooldowns);
    let guarded = on::<routes::ListLogins, _, _>(guarded, logins::choices);
    let guarded = on::<routes::BeginLogin, _, _>(guarded, logins::begin);
    let guarded = on::<routes::ImportLogin, _, _>(guarded, logins::import);
    let guarded = on::<routes::GetPendingLogin, _, _>(guarded, logins::pending);
    let guarded = on::<routes::PasteLogin, _, _>(guarded, logins::paste);
    let guarded = on::<routes::ListCombos, _, _>(guarded, config::combos);
    let guarded = on::<routes::SetCombo, _, _>(guarded, config::combo_set);
    let guarded = on::<routes::RemoveCombo, _, _>(guarded, config::combo_remove);
    let guarded = on::<routes::ListKeys, _, _>(guarded, config::keys);
    let guarded = on::<routes::CreateKey, _, _>(guarded, config::key_create);
    let guarded = on::<routes::ChangeKey, _, _>(guarded, config::key_set);
    let guarded = on::<routes::RevokeKey, _, _>(guarded, config::key_revoke);
    let guarded = on::<routes::GetSettings, _, _>(guarded, config::settings);
    let guarded = on::<routes::SetSetting, _, _>(guarded, config::setting_set);
    let guarded = on::<routes::ListTools, _, _>(guarded, tools::list);
    let guarded = on::<routes::GetTool, _, _>(guarded, tools::status);
    let guarded = on::<routes::ApplyTool, _, _>(guarded, tools::apply);
    let guarded = on::<routes::RestoreTool, _, _>(guarded, tools::restore);
    let guarded = on::<routes::UsageSummary, _, _>(guarded, usage::summary);
    let guarded = on::<routes::UsageSeries, _, _>(guarded, usage::series);
    let guarded = on::<routes::UsageLog, _, _>(guarded, usage::log);
    let guarded = guarded
        .route(routes::USAGE_EVENTS, get(usage::events))
        .route_layer(axum::middleware::from_fn_with_state(state, require_session));
    let open = Router::new();
    let open = on::<routes::GetSession, _, _>(open, login::status);
    let open = on::<routes::SetUpPassword, _, _>(open, login::setup);
    let open = on::<routes::LogIn, _, _>(open, login::login);
    let open = on::<routes::LogOut, _, _>(open, login::logout);
    open.route("/api/{*rest}", get(unknown).post(unknown).put(unknown).patch(unknown).delete(unknown)).merge(guarded)
}

/// Serves route `R` (its method and path as the contract declares them) with `handler`.
fn on<R: Route, H: Handler<T, AppState>, T: 'static>(router: Router<AppState>, handler: H) -> Router<AppState> {
    let method = match R::METHOD {
        Method::Get => get(handler),
        Method::Post => post(handler),
        Method::Put => put(handler),
        Method::Patch => patch(handler),
        Method::Delete => delete(handler),
    };
    router.route(R::TEMPLATE, method)
}

/// Lets a request through only with a live dashboard session. A change (any method but GET)
/// is put in force before its answer returns, so the next request already sees it.
async fn require_session(State(app): State<AppState>, request: Request, next: Next) -> Response {
    match session::token_of(request.headers()) {
        Some(token) if app.sessions.is_valid(&token).await => {
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

/// Route `R`'s answer: its `Answer` type as JSON (201 for what a creation made), or 204 with
/// no body where the answer is `()`.
pub struct Answer<R: Route> {
    status: StatusCode,
    value: R::Answer,
}

impl<R: Route> Answer<R> {
    pub fn ok(value: R::Answer) -> Self {
        Self { status: StatusCode::OK, value }
    }

    pub fn created(value: R::Answer) -> Self {
        Self { status: StatusCode::CREATED, value }
    }
}

impl<R: Route> IntoResponse for Answer<R> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.value) {
            Ok(json) if json == b"null" => StatusCode::NO_CONTENT.into_response(),
            Ok(json) => (self.status, [(http::header::CONTENT_TYPE, "application/json")], json).into_response(),
            Err(e) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", format!("answer: {e}")).into_response()
            }
        }
    }
}

/// What a handler of route `R` returns.
pub type Reply<R> = Result<Answer<R>, ApiError>;

/// The answer of route `R`, 200 (or 204 for `()`).
pub fn ok<R: Route>(value: R::Answer) -> Reply<R> {
    Ok(Answer::ok(value))
}
