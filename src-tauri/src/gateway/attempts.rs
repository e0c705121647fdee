//! The attempt loop every kind of request shares (chat in each inbound API, embeddings): the
//! routing plan's candidates in order, each provider's accounts in routing order, one retry
//! of a transient failure. Failures before the first byte are classified: cool the account
//! down, set it aside, try the next candidate, or hand the client's own mistake back at once.
//! What differs by kind (the upstream request, which candidates cannot serve it, the answer
//! in the client's shape) is a `Job`.

use super::error::ApiError;
use super::{login_auth, AppState};
use crate::formats::translate::{self, Format};
use crate::providers::upstream;
use crate::routing::classify::{classify, Failure};
use crate::routing::{notices, AccountNotice, Candidate};
use crate::snapshot::AccountRuntime;
use crate::usage::{Draft, UsageTap};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Largest upstream answer read whole (non-streaming translation, error bodies).
pub const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;
/// Extra tries of the same account after a transient failure (5xx, connection, timeout).
const TRANSIENT_RETRIES: usize = 1;

/// One upstream request, ready to send.
pub struct Prepared {
    pub url: reqwest::Url,
    pub body: Bytes,
    pub extra: HeaderMap,
    /// The body is not the client's own (a translation or another API's shape).
    pub translated: bool,
    /// The upstream streams although the client wants one answer (Codex's backend only
    /// streams): the stream is gathered before the job answers.
    pub gather: bool,
}

/// What one kind of request does at each step of the loop.
pub trait Job {
    /// The client's API, for the errors it gets.
    fn format(&self) -> Format;
    /// The client asked for a stream.
    fn stream(&self) -> bool;
    /// Why `candidate` cannot serve this request, if it cannot (it is skipped).
    fn skip(&mut self, candidate: &Candidate) -> Option<String>;
    /// The conversation, for providers whose accounts keep a session on one account.
    fn session(&mut self) -> Option<u64>;
    /// The upstream request for `candidate`.
    async fn prepare(&mut self, candidate: &Candidate) -> Result<Prepared, ApiError>;
    /// The client's answer from the upstream's successful one.
    async fn answer(
        &mut self,
        response: reqwest::Response,
        candidate: &Candidate,
        translated: bool,
        stall: Duration,
        tap: &UsageTap,
    ) -> Result<Response, ApiError>;
}

/// The latest failure, kept to answer with when no candidate succeeds.
struct LastFailure {
    error: ApiError,
    /// Same-format upstream: its own status and body go back unchanged.
    raw: Option<(StatusCode, Bytes)>,
}

impl LastFailure {
    fn respond(self, format: Format) -> Response {
        match self.raw {
            Some((status, body)) => (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response(),
            None => self.error.render(format),
        }
    }
}

/// Tries `candidates` for `job` until one answers; the draft gathers who answered and every
/// failed or skipped attempt. Returns the client's response and, on success, its usage tap.
pub async fn run<J: Job>(
    app: &AppState,
    job: &mut J,
    model: &str,
    candidates: &[Candidate],
    draft: &mut Draft,
) -> Result<(Response, Option<UsageTap>), ApiError> {
    let config = app.live.get();
    let first_byte = Duration::from_secs(config.settings.first_byte_timeout_secs);
    let stall = Duration::from_secs(config.settings.stall_timeout_secs);
    let mut last: Option<LastFailure> = None;
    let mut earliest_reset: Option<SystemTime> = None;
    let mut busy = false;
    let mut skipped: Vec<String> = Vec::new();
    for candidate in candidates {
        let provider = &candidate.provider;
        if let Some(reason) = job.skip(candidate) {
            draft.attempts.push(format!("{}/{}: skipped: {reason}", provider.id, candidate.upstream_model));
            skipped.push(reason);
            continue;
        }
        let session = if provider.accounts.len() > 1 { job.session() } else { None };
        let (ready, cooling) = app.routing.order_accounts(provider, &candidate.upstream_model, session);
        for (account, cooldown) in &cooling {
            earliest_reset = Some(earliest_reset.map_or(cooldown.until, |e| e.min(cooldown.until)));
            draft.attempts.push(format!(
                "{}#{} {}: cooling down ({})",
                provider.id, account.id, candidate.upstream_model, cooldown.reason
            ));
        }
        let accounts: Vec<Option<Arc<AccountRuntime>>> =
            if provider.accounts.is_empty() { vec![None] } else { ready.into_iter().map(Some).collect() };
        'accounts: for account in accounts {
            let account_id = account.as_ref().map(|a| a.id);
            let in_flight = match account.as_deref().map(|a| app.routing.try_begin(a)) {
                Some(None) => {
                    draft.attempts.push(format!("{}#{}: at its concurrency cap", provider.id, account_id.unwrap_or(0)));
                    busy = true;
                    continue 'accounts;
                }
                Some(Some(guard)) => Some(guard),
                None => None,
            };
            let who = format!(
                "{}#{} {}",
                provider.id,
                account_id.map_or("-".into(), |id| id.to_string()),
                candidate.upstream_model
            );
            let login_kind = provider.login;
            let mut login = None;
            let mut refreshed_after_401 = false;
            if let (Some(_), Some(account)) = (login_kind, account.as_deref()) {
                match login_auth::auth(app, provider, account).await {
                    Ok(auth) => login = Some(auth),
                    Err(error) => {
                        draft.attempts.push(format!("{who}: {}", error.message));
                        last = Some(LastFailure { error, raw: None });
                        continue 'accounts;
                    }
                }
            }
            for try_no in 0..=TRANSIENT_RETRIES {
                let mut prepared = job.prepare(candidate).await?;
                if let Some(login) = &login {
                    prepared = login_auth::apply(prepared, login, candidate, job.stream());
                }
                let accept = if job.stream() || prepared.gather { "text/event-stream" } else { "application/json" };
                let gather = prepared.gather;
                let translated = prepared.translated;
                let sent = app.upstream.post_json(
                    provider,
                    account.as_deref(),
                    prepared.url,
                    accept,
                    prepared.extra,
                    prepared.body,
                );
                let first_byte = provider.first_byte_timeout.map(Duration::from_secs).unwrap_or(first_byte);
                let response = match tokio::time::timeout(first_byte, sent).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(e)) => {
                        draft.attempts.push(format!("{who}: {e}"));
                        last = Some(LastFailure { error: ApiError::from(e), raw: None });
                        if try_no < TRANSIENT_RETRIES {
                            continue;
                        }
                        continue 'accounts;
                    }
                    Err(_) => {
                        let message = format!(
                            "provider '{}' sent nothing for {} s (setting first-byte-timeout-secs)",
                            provider.id,
                            first_byte.as_secs()
                        );
                        draft.attempts.push(format!("{who}: {message}"));
                        last = Some(LastFailure {
                            error: ApiError::new(StatusCode::GATEWAY_TIMEOUT, "upstream_error", message)
                                .code("upstream_timeout"),
                            raw: None,
                        });
                        continue 'accounts;
                    }
                };
                if let Some(account) = account.as_deref() {
                    login_auth::note_quota_headers(app, account, login_kind, response.headers());
                }
                let response = login_auth::as_provider_answer(response, login_kind, gather, candidate).await?;
                if response.status().is_success() {
                    app.routing.on_success(account_id, &candidate.upstream_model, session);
                    if !draft.attempts.is_empty() {
                        tracing::info!(model = %model, answered_by = %who, "fell back after: {}", draft.attempts.join("; "));
                    }
                    let stall = provider.stall_timeout.map(Duration::from_secs).unwrap_or(stall);
                    draft.provider = Some(provider.id.clone());
                    draft.account_id = account_id;
                    draft.subscription = login_kind.is_some();
                    draft.model = Some(candidate.upstream_model.clone());
                    let tap = UsageTap::default();
                    let response = job.answer(response, candidate, translated, stall, &tap).await?;
                    let response = match in_flight {
                        Some(guard) => hold_until_sent(response, guard),
                        None => response,
                    };
                    return Ok((response, Some(tap)));
                }
                let status = response.status();
                if let (StatusCode::UNAUTHORIZED, Some(used), Some(account), false) =
                    (status, &login, account.as_deref(), refreshed_after_401)
                {
                    // A login's token may have been revoked early: one refresh, then once more.
                    refreshed_after_401 = true;
                    draft.attempts.push(format!("{who}: 401, login refreshed"));
                    match login_auth::after_unauthorized(app, provider, account, used).await {
                        Ok(fresh) => {
                            login = Some(fresh);
                            continue;
                        }
                        Err(error) => {
                            last = Some(LastFailure { error, raw: None });
                            continue 'accounts;
                        }
                    }
                }
                let response_headers = response.headers().clone();
                let bytes = read_upstream(response, candidate).await.unwrap_or_default();
                let message = translate::upstream_error_message(&bytes);
                let failure = classify(status.as_u16(), &response_headers, &bytes, &message);
                draft.attempts.push(format!("{who}: {}", failure.reason()));
                let mut error = upstream_error(status, &response_headers, &message, candidate);
                let raw = (!translated).then(|| (status, bytes.clone()));
                match failure {
                    Failure::Client => return Ok((LastFailure { error, raw }.respond(job.format()), None)),
                    Failure::RateLimited { reset, reason } => {
                        if let Some(id) = account_id {
                            let cooldown = app.routing.cool_down(id, &candidate.upstream_model, reset, &reason);
                            if notices::is_out_of_quota(&reason, cooldown.until, SystemTime::now()) {
                                app.notices.send(|| AccountNotice::OutOfQuota {
                                    account: id,
                                    provider: provider.id.clone(),
                                    model: candidate.upstream_model.clone(),
                                    until_ms: crate::routing::state::unix_ms(cooldown.until),
                                    reason: reason.clone(),
                                });
                            }
                            earliest_reset = Some(earliest_reset.map_or(cooldown.until, |e| e.min(cooldown.until)));
                        }
                        last = Some(LastFailure { error, raw });
                        continue 'accounts;
                    }
                    Failure::Auth { reason } => {
                        if let Some(id) = account_id {
                            set_aside(app, id, &reason);
                            app.notices.send(|| AccountNotice::NeedsLogin {
                                account: id,
                                provider: provider.id.clone(),
                                reason: reason.clone(),
                            });
                        }
                        error.message = format!(
                            "{} (account {} set aside: fix its key, then `switchyard account set {} --enabled true`)",
                            error.message,
                            account_id.unwrap_or(0),
                            account_id.unwrap_or(0)
                        );
                        last = Some(LastFailure { error, raw });
                        continue 'accounts;
                    }
                    Failure::ModelNotFound { .. } => {
                        last = Some(LastFailure { error, raw });
                        break 'accounts;
                    }
                    Failure::Transient { .. } => {
                        last = Some(LastFailure { error, raw });
                        if try_no < TRANSIENT_RETRIES {
                            continue;
                        }
                        continue 'accounts;
                    }
                }
            }
        }
    }
    tracing::warn!(model = %model, "no candidate answered: {}", draft.attempts.join("; "));
    let now = SystemTime::now();
    match (earliest_reset, last) {
        (Some(reset), last) if last.as_ref().is_none_or(|l| l.error.status == StatusCode::TOO_MANY_REQUESTS) => {
            let wait = reset.duration_since(now).unwrap_or_default().as_secs_f64().ceil().max(1.0) as u64;
            let why = last.map(|l| format!(" (last: {})", l.error.message)).unwrap_or_default();
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                format!("every account that can serve '{model}' is rate-limited or out of quota; the first is ready again in {wait} s{why}"),
            )
            .code("all_cooling_down");
            error.retry_after = HeaderValue::from_str(&wait.to_string()).ok();
            Err(error)
        }
        (_, Some(last)) => Ok((last.respond(job.format()), None)),
        (None, None) if busy => {
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                format!("every account that can serve '{model}' is at its concurrency cap; try again shortly"),
            )
            .code("all_busy");
            error.retry_after = Some(HeaderValue::from_static("1"));
            Err(error)
        }
        (None, None) if !skipped.is_empty() => Err(ApiError::bad_request(format!(
            "no model that '{model}' names can serve this request: {}",
            skipped.join("; ")
        ))
        .code("no_capable_model")),
        (_, None) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            format!("no account can serve '{model}' now"),
        )
        .code("no_account")),
    }
}

/// Keeps an account's concurrency slot taken until the answer's body has been sent (or the
/// client went away).
fn hold_until_sent(response: Response, guard: crate::routing::InFlight) -> Response {
    use futures_util::StreamExt;
    let (parts, body) = response.into_parts();
    let stream = body.into_data_stream().map(move |chunk| {
        let _held = &guard;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Marks an account as needing attention, off the request path.
pub fn set_aside(app: &AppState, account: i64, reason: &str) {
    tracing::warn!(account, "account set aside: {reason}");
    let store = app.store.clone();
    let reason = reason.to_string();
    tokio::spawn(async move {
        if let Err(e) = crate::store::routing::set_needs_attention(&store, account, Some(&reason)).await {
            tracing::warn!("cannot mark account {account}: {e}");
        }
    });
}

pub async fn read_upstream(response: reqwest::Response, candidate: &Candidate) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(reqwest::Body::from(response), MAX_UPSTREAM_BODY);
    limited.collect().await.map(|c| c.to_bytes()).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            format!(
                "cannot read the answer of provider '{}': {}",
                candidate.provider.id,
                upstream::error_chain(e.as_ref())
            ),
        )
    })
}

/// An upstream's error answer as the gateway's error, with the same status.
fn upstream_error(status: StatusCode, headers: &HeaderMap, message: &str, candidate: &Candidate) -> ApiError {
    let message = format!("provider '{}' answered {}: {}", candidate.provider.id, status.as_u16(), message);
    let error_type = match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "upstream_error",
    };
    let mut err = ApiError::new(status, error_type, message);
    err.retry_after = headers.get(http::header::RETRY_AFTER).cloned();
    err
}
