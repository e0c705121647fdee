//! The attempt loop's side of subscription logins: the token and headers a login account's
//! request carries (refreshed first when near expiry), the one refresh after a 401, an
//! account set aside when its login is refused, and the quota windows Codex reports in its
//! answers' headers.

use super::attempts::Prepared;
use super::error::ApiError;
use super::AppState;
use crate::login::tokens::LoginAuth;
use crate::login::{quota, LoginError, LoginKind};
use crate::routing::state::ACCOUNT_WIDE;
use crate::routing::AccountNotice;
use crate::snapshot::{AccountRuntime, ProviderRuntime};
use http::StatusCode;
use std::time::{Duration, SystemTime};

fn secret(account: &AccountRuntime) -> &str {
    account.secret.as_ref().map(|s| s.expose()).unwrap_or_default()
}

/// The login's failure as the client's error; a refused login sets the account aside and
/// tells the user.
fn failed(app: &AppState, provider: &ProviderRuntime, account: &AccountRuntime, e: LoginError) -> ApiError {
    if let LoginError::NeedsLogin(..) = &e {
        let reason = e.to_string();
        super::attempts::set_aside(app, account.id, &reason);
        app.notices.send(|| AccountNotice::NeedsLogin {
            account: account.id,
            provider: provider.id.clone(),
            reason: reason.clone(),
        });
        return ApiError::new(StatusCode::UNAUTHORIZED, "authentication_error", reason).code("needs_login");
    }
    ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string()).code("login_refresh_failed")
}

/// What the request of a login account carries now.
pub async fn auth(app: &AppState, provider: &ProviderRuntime, account: &AccountRuntime) -> Result<LoginAuth, ApiError> {
    let config = app.live.get();
    app.logins
        .auth(account.id, secret(account), &config.settings.login_endpoints)
        .await
        .map_err(|e| failed(app, provider, account, e))
}

/// After a 401 that carried `used`: the refreshed login.
pub async fn after_unauthorized(
    app: &AppState,
    provider: &ProviderRuntime,
    account: &AccountRuntime,
    used: &LoginAuth,
) -> Result<LoginAuth, ApiError> {
    let config = app.live.get();
    app.logins
        .after_unauthorized(account.id, secret(account), &used.token, &config.settings.login_endpoints)
        .await
        .map_err(|e| failed(app, provider, account, e))
}

/// The prepared request with the login's headers (beta flags joined to the client's), for a
/// per-token host its URL moved there, for Codex its body as the backend takes it, and for
/// Gemini CLI wrapped for Code Assist.
pub fn apply(
    mut prepared: Prepared,
    login: &LoginAuth,
    candidate: &crate::routing::Candidate,
    stream: bool,
) -> Prepared {
    let provider = &candidate.provider;
    let kind = provider.login;
    if kind == Some(LoginKind::GeminiCli) && provider.kind == crate::providers::ProviderKind::Gemini {
        prepared = super::code_assist::wrap(
            prepared,
            &provider.base_url,
            &candidate.upstream_model,
            login.project.as_deref(),
            stream,
        );
    }
    if kind == Some(LoginKind::Codex) && provider.kind == crate::providers::ProviderKind::Responses {
        if let Some(body) = crate::login::codex::adapt(&prepared.body) {
            prepared.body = bytes::Bytes::from(body);
            prepared.gather = !stream;
        }
    }
    for (name, value) in &login.headers {
        match (name.as_str(), prepared.extra.get(name)) {
            ("anthropic-beta", Some(existing)) => {
                let joined =
                    format!("{},{}", existing.to_str().unwrap_or_default(), value.to_str().unwrap_or_default());
                if let Ok(v) = http::HeaderValue::from_str(&joined) {
                    prepared.extra.insert(name.clone(), v);
                }
            }
            _ => {
                let mut value = value.clone();
                value.set_sensitive(name == http::header::AUTHORIZATION);
                prepared.extra.insert(name.clone(), value);
            }
        }
    }
    if let Some(arn) = login.profile_arn.as_deref().filter(|_| kind == Some(LoginKind::Kiro)) {
        if let Ok(serde_json::Value::Object(mut body)) = serde_json::from_slice::<serde_json::Value>(&prepared.body) {
            body.insert("profileArn".into(), serde_json::Value::String(arn.to_string()));
            if let Ok(bytes) = serde_json::to_vec(&body) {
                prepared.body = bytes::Bytes::from(bytes);
            }
        }
    }
    if let Some(base) = &login.base_url {
        let url = prepared.url.as_str();
        if let Some(rest) = url.strip_prefix(provider.base_url.as_str()) {
            if let Ok(moved) = reqwest::Url::parse(&format!("{base}{rest}")) {
                prepared.url = moved;
            }
        }
    }
    prepared
}

/// Codex and Claude report their windows in their answers' headers: kept, and a used-up
/// window rests the account until it resets.
pub fn note_quota_headers(
    app: &AppState,
    account: &AccountRuntime,
    kind: Option<LoginKind>,
    headers: &http::HeaderMap,
) {
    let windows = match kind {
        Some(LoginKind::Codex) => quota::parse_codex_headers(headers),
        Some(LoginKind::Claude) => quota::parse_claude_headers(headers),
        _ => return,
    };
    if windows.is_empty() {
        return;
    }
    rest_if_used_up(app, account.id, &windows);
    let manager = app.manager.clone();
    let id = account.id;
    tokio::spawn(async move {
        if let Err(e) = manager.quota_keep(id, &windows).await {
            tracing::warn!(account = id, "cannot store a quota: {e}");
        }
    });
}

/// Cools an account down until its used-up windows reset: for every model when an
/// account-wide window is used up, for one model when only that model's is.
pub fn rest_if_used_up(app: &AppState, account: i64, windows: &[quota::Window]) {
    let now = crate::login::now_ms();
    let wait = |window: &quota::Window| {
        let wait = window.resets_at_ms.map(|at| Duration::from_millis((at - now).max(1_000) as u64));
        wait.or(Some(Duration::from_secs(3600)))
    };
    let rest = |model: &str, window: &quota::Window| {
        let reason = format!("subscription quota: the {} window is used up", window.name);
        let cooldown = app.routing.cool_down(account, model, wait(window), &reason);
        tracing::info!(account, until = ?cooldown.until.duration_since(SystemTime::now()).ok(), "{reason}");
    };
    if let Some(window) = quota::blocking(windows) {
        rest(ACCOUNT_WIDE, window);
    }
    for (model, window) in quota::blocked_models(windows) {
        rest(model, window);
    }
}

/// A streamed Responses answer gathered into one JSON answer, as a response of its own (its
/// status and rate-limit headers kept): the job then answers as for a non-streaming upstream.
pub async fn gather(
    response: reqwest::Response,
    candidate: &crate::routing::Candidate,
) -> Result<reqwest::Response, ApiError> {
    use crate::formats::translate::{self, Format, StreamDecoder};
    use eventsource_stream::Eventsource;
    let status = response.status();
    let headers = response.headers().clone();
    let unreadable = |why: String| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            format!("provider '{}' sent a stream that cannot be read: {why}", candidate.provider.id),
        )
    };
    let events = response.bytes_stream().eventsource();
    let gathered = super::transcode::gather(events, StreamDecoder::new(Format::Responses)).await;
    let mut answer = gathered.map_err(|e| match e {
        super::transcode::Gathered::Unreadable(why) | super::transcode::Gathered::Upstream(why) => unreadable(why),
    })?;
    if answer.model.is_empty() {
        answer.model = candidate.upstream_model.clone();
    }
    let body = translate::encode_response(Format::Responses, &answer).to_string();
    rebuilt(status, &headers, reqwest::Body::from(body), Some("application/json")).map_err(unreadable)
}

/// A response of the upstream's status and headers with another body (its length and
/// encoding headers dropped; its content type replaced when one is given).
pub fn rebuilt(
    status: StatusCode,
    headers: &http::HeaderMap,
    body: reqwest::Body,
    content_type: Option<&str>,
) -> Result<reqwest::Response, String> {
    let mut response = http::Response::builder().status(status);
    for (name, value) in headers {
        let replaced = content_type.is_some() && name == http::header::CONTENT_TYPE;
        if !replaced && name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    if let Some(content_type) = content_type {
        response = response.header(http::header::CONTENT_TYPE, content_type);
    }
    Ok(reqwest::Response::from(response.body(body).map_err(|e| e.to_string())?))
}

/// A successful answer as the job reads it: a Codex stream gathered for a client that wanted
/// one whole answer, a Code Assist answer unwrapped into a plain Gemini one.
pub async fn as_provider_answer(
    response: reqwest::Response,
    kind: Option<LoginKind>,
    gather: bool,
    candidate: &crate::routing::Candidate,
) -> Result<reqwest::Response, ApiError> {
    if !response.status().is_success() {
        return Ok(response);
    }
    match kind {
        _ if gather => self::gather(response, candidate).await,
        Some(LoginKind::GeminiCli) => super::code_assist::unwrap(response, &candidate.provider.id).await,
        _ => Ok(response),
    }
}
