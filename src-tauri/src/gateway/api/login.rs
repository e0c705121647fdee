//! /api/session: whether a password is set and this browser is logged in; first-visit setup
//! (from this machine only); login (rate-limited per address); logout.

use super::session::{self, is_local_request};
use super::{ok, Answer, Body, Reply};
use crate::gateway::error::ApiError;
use crate::gateway::AppState;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use std::net::SocketAddr;
use switchyard_api::routes::{GetSession, LogIn, Route, SetUpPassword};
use switchyard_api::{LoggedIn, Password};

pub async fn status(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Reply<GetSession> {
    let password_set = app.manager.dashboard_password_is_set().await?;
    let logged_in = match session::token_of(&headers) {
        Some(token) => app.sessions.is_valid(&token).await,
        None => false,
    };
    ok(switchyard_api::SessionStatus {
        password_set,
        logged_in,
        setup_allowed: !password_set && is_local_request(peer.ip(), &headers),
        min_password_chars: crate::manage::MIN_PASSWORD_CHARS,
    })
}

/// The answer of a successful setup or login: it starts a session.
async fn logged_in<R: Route<Answer = LoggedIn>>(app: &AppState) -> Response {
    app.sessions.start(Answer::<R>::ok(LoggedIn { logged_in: true }).into_response()).await
}

pub async fn setup(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body<Password>,
) -> Result<Response, ApiError> {
    if app.manager.dashboard_password_is_set().await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict_error",
            "a dashboard password is already set: log in",
        ));
    }
    if !is_local_request(peer.ip(), &headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "the first dashboard password can only be set from this machine (http://127.0.0.1:PORT), \
             or with `switchyard settings set dashboard-password -`",
        ));
    }
    app.manager.dashboard_password_set(&body.password).await?;
    Ok(logged_in::<SetUpPassword>(&app).await)
}

pub async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<Password>,
) -> Result<Response, ApiError> {
    app.sessions.check_rate(peer.ip())?;
    if !app.manager.dashboard_password_is_set().await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict_error",
            "no dashboard password is set yet: set one first (POST /api/session/setup)",
        ));
    }
    if !app.manager.dashboard_password_check(&body.password).await? {
        app.sessions.note_failure(peer.ip());
        return Err(
            ApiError::new(StatusCode::UNAUTHORIZED, "authentication_error", "wrong password").code("wrong_password")
        );
    }
    app.sessions.clear_failures(peer.ip());
    Ok(logged_in::<LogIn>(&app).await)
}

pub async fn logout(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session::token_of(&headers) {
        app.sessions.end(&token).await;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(http::header::SET_COOKIE, session::set_cookie(None));
    response
}
