//! The attempt loop every kind of request shares (chat in each inbound API, embeddings): the
//! routing plan's candidates in order, each provider's accounts in routing order, one retry
//! of a transient failure. Failures before the first byte are classified: cool the account
//! down, set it aside, try the next candidate, or hand the client's own mistake back at once.
//! What differs by kind (the upstream request, which candidates cannot serve it, the answer
//! in the client's shape) is a `Job`. The decisions live apart from the I/O (`decide`): a
//! typed attempt log, what a failed try was, and the one function that says what comes next.
//!
//! Where a request's resources end, in one place:
//! - an account's concurrency slot is taken before its first try (`try_account`) and freed
//!   when the account is left, or, for the account that answers, when the answer's body has
//!   been sent or dropped (`hold_until_sent`);
//! - the usage record is not written here: the loop fills the `Draft` (who answered, the
//!   attempt log) and `inbound::recorded` writes the record when the answer's last byte has
//!   been sent, the client went away, or at once for an error.

mod decide;
#[cfg(test)]
mod tests;

use decide::{decide, Attempt, Decision, Failed, LastFailure, Tally, Who};

use super::error::ApiError;
use super::upstreams::Upstream;
use super::{login_auth, AppState};
use crate::formats::translate::{self, Format};
use crate::providers::upstream;
use crate::routing::classify::{classify, Failure};
use crate::routing::{notices, AccountNotice, Candidate};
use crate::snapshot::{AccountRuntime, ProviderRuntime};
use crate::usage::{Draft, UsageTap};
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
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
    let timeouts = Timeouts {
        first_byte: Duration::from_secs(config.settings.first_byte_timeout_secs),
        stall: Duration::from_secs(config.settings.stall_timeout_secs),
    };
    drop(config);
    let mut tally = Tally::default();
    for candidate in candidates {
        let provider = &candidate.provider;
        let model_name = candidate.upstream_model.as_str();
        if let Some(reason) = job.skip(candidate) {
            note(draft, Attempt::Skipped { provider: &provider.id, model: model_name, reason: &reason });
            tally.skipped.push(reason);
            continue;
        }
        let session = if provider.accounts.len() > 1 { job.session() } else { None };
        let (ready, cooling) = app.routing.order_accounts(provider, model_name, session);
        for (account, cooldown) in &cooling {
            tally.cooling_until(cooldown.until);
            let reason = &cooldown.reason;
            note(draft, Attempt::Cooling { provider: &provider.id, account: account.id, model: model_name, reason });
        }
        let accounts: Vec<Option<Arc<AccountRuntime>>> =
            if provider.accounts.is_empty() { vec![None] } else { ready.into_iter().map(Some).collect() };
        for account in accounts {
            let tried = try_account(app, job, candidate, account.as_deref(), session, &timeouts, &mut tally, draft);
            match tried.await? {
                Step::Answered(response, tap) => {
                    if !draft.attempts.is_empty() {
                        tracing::info!(model = %model, answered_by = %provider.id, "fell back after: {}", draft.attempts.join("; "));
                    }
                    return Ok((response, Some(tap)));
                }
                Step::AnswerNow(response) => return Ok((response, None)),
                Step::NextAccount => continue,
                Step::NextCandidate => break,
            }
        }
    }
    tracing::warn!(model = %model, "no candidate answered: {}", draft.attempts.join("; "));
    tally.give_up(model, job.format(), SystemTime::now()).map(|response| (response, None))
}

struct Timeouts {
    first_byte: Duration,
    stall: Duration,
}

/// Where the loop goes after one account.
enum Step {
    Answered(Response, UsageTap),
    AnswerNow(Response),
    NextAccount,
    NextCandidate,
}

fn note(draft: &mut Draft, attempt: Attempt<'_>) {
    draft.attempts.push(attempt.to_string());
}

/// One account of one candidate: its concurrency slot, its login, then up to
/// `1 + TRANSIENT_RETRIES` tries (a login refreshed after a 401 takes one), each failure
/// decided by `decide`.
#[allow(clippy::too_many_arguments)]
async fn try_account<J: Job>(
    app: &AppState,
    job: &mut J,
    candidate: &Candidate,
    account: Option<&AccountRuntime>,
    session: Option<u64>,
    timeouts: &Timeouts,
    tally: &mut Tally,
    draft: &mut Draft,
) -> Result<Step, ApiError> {
    let provider = &candidate.provider;
    let account_id = account.map(|a| a.id);
    // The account's slot among its `max-concurrent` requests: held by the answer until it is
    // sent (`hold_until_sent`), freed here on every other way out.
    let slot = match account {
        Some(a) => Some(app.routing.begin(a).await),
        None => None,
    };
    let slot = match slot {
        Some(None) => {
            note(draft, Attempt::AtCapacity { provider: &provider.id, account: account_id.unwrap_or(0) });
            tally.busy = true;
            return Ok(Step::NextAccount);
        }
        Some(Some(slot)) => Some(slot),
        None => None,
    };
    let who = Who { provider: &provider.id, account: account_id, model: &candidate.upstream_model };
    let login_kind = provider.login;
    let mut login = None;
    if let (Some(_), Some(account)) = (login_kind, account) {
        match login_auth::auth(app, provider, account).await {
            Ok(auth) => login = Some(auth),
            Err(error) => {
                note(draft, Attempt::Failed { who: &who, reason: &error.message });
                tally.last = Some(Failed::Login(error).into_last());
                return Ok(Step::NextAccount);
            }
        }
    }
    let mut refreshed_after_401 = false;
    for try_no in 0..=TRANSIENT_RETRIES {
        let failed = match send(app, job, candidate, account, login.as_ref(), timeouts).await? {
            Sent::Answer(response, translated) => {
                draft.chosen = Some(why_chosen(app, provider, account_id, session, draft.attempts.len()));
                app.routing.on_success(account_id, &candidate.upstream_model, session);
                let stall = provider.stall_timeout.map(Duration::from_secs).unwrap_or(timeouts.stall);
                draft.provider = Some(provider.id.clone());
                draft.account_id = account_id;
                draft.subscription = login_kind.is_some();
                draft.model = Some(candidate.upstream_model.clone());
                let tap = UsageTap::default();
                let response = job.answer(response, candidate, translated, stall, &tap).await?;
                let response = match slot {
                    Some(slot) => hold_until_sent(response, slot),
                    None => response,
                };
                return Ok(Step::Answered(response, tap));
            }
            Sent::Failed(failed) => failed,
        };
        let next = decide(&failed, try_no < TRANSIENT_RETRIES, login.is_some() && !refreshed_after_401);
        if next == Decision::RefreshLogin {
            // A login's token may have been revoked early: one refresh, then once more.
            refreshed_after_401 = true;
            note(draft, Attempt::LoginRefreshed { who: &who });
            let (Some(used), Some(account)) = (&login, account) else { return Ok(Step::NextAccount) };
            match login_auth::after_unauthorized(app, provider, account, used).await {
                Ok(fresh) => {
                    login = Some(fresh);
                    continue;
                }
                Err(error) => {
                    tally.last = Some(LastFailure { error, raw: None });
                    return Ok(Step::NextAccount);
                }
            }
        }
        let failed = consequences(app, failed, &who, candidate, tally, draft);
        let last = failed.into_last();
        match next {
            Decision::AnswerNow => return Ok(Step::AnswerNow(last.respond(job.format()))),
            Decision::RetrySameAccount | Decision::RefreshLogin => tally.last = Some(last),
            Decision::NextAccount => {
                tally.last = Some(last);
                return Ok(Step::NextAccount);
            }
            Decision::NextCandidate => {
                tally.last = Some(last);
                return Ok(Step::NextCandidate);
            }
        }
    }
    Ok(Step::NextAccount)
}

/// Why the account that answered was chosen, for the usage record: the conversation's own,
/// or the provider's strategy, and after how many failed or skipped attempts.
fn why_chosen(
    app: &AppState,
    provider: &ProviderRuntime,
    account: Option<i64>,
    session: Option<u64>,
    before: usize,
) -> String {
    use crate::routing::Strategy;
    let why = match account {
        None => "the provider has no account",
        Some(id) if provider.accounts.len() > 1 && session.and_then(|s| app.routing.affinity_of(s)) == Some(id) => {
            "the conversation's account"
        }
        Some(_) if provider.accounts.len() <= 1 => "the provider's only account",
        Some(_) => match provider.strategy {
            Strategy::FillFirst => "first by priority",
            Strategy::RoundRobin => "round-robin turn",
            Strategy::StickyRoundRobin => "sticky round-robin turn",
            Strategy::LeastUsed => "least used",
        },
    };
    match before {
        0 => why.to_string(),
        n => format!("{why}, after {n} failed or skipped"),
    }
}

/// What one try brought back.
enum Sent {
    /// A success: the provider's answer, and whether the request was translated.
    Answer(reqwest::Response, bool),
    Failed(Failed),
}

/// One try: the job's request (with the login's credentials) to the provider, within the
/// first-byte timeout; an error answer read and classified.
async fn send<J: Job>(
    app: &AppState,
    job: &mut J,
    candidate: &Candidate,
    account: Option<&AccountRuntime>,
    login: Option<&crate::login::tokens::LoginAuth>,
    timeouts: &Timeouts,
) -> Result<Sent, ApiError> {
    let provider = &candidate.provider;
    let upstream = Upstream::of(provider);
    let mut prepared = job.prepare(candidate).await?;
    if let Some(login) = login {
        prepared = upstream.authorize(prepared, login, candidate, job.stream());
    }
    let accept = if job.stream() || prepared.gather { "text/event-stream" } else { "application/json" };
    let (gather, translated) = (prepared.gather, prepared.translated);
    let sent = app.upstream.post_json(provider, account, prepared.url, accept, prepared.extra, prepared.body);
    let first_byte = provider.first_byte_timeout.map(Duration::from_secs).unwrap_or(timeouts.first_byte);
    let response = match tokio::time::timeout(first_byte, sent).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => return Ok(Sent::Failed(Failed::Unreachable(ApiError::from(e)))),
        Err(_) => {
            let message = format!(
                "provider '{}' sent nothing for {} s (setting first-byte-timeout-secs)",
                provider.id,
                first_byte.as_secs()
            );
            let error = ApiError::new(StatusCode::GATEWAY_TIMEOUT, "upstream_error", message).code("upstream_timeout");
            return Ok(Sent::Failed(Failed::FirstByteTimeout(error)));
        }
    };
    if let Some(account) = account {
        login_auth::note_quota_headers(app, account, upstream.quota_windows(response.headers()));
    }
    let response = upstream.read_answer(response, gather, candidate).await?;
    let status = response.status();
    if status.is_success() {
        return Ok(Sent::Answer(response, translated));
    }
    let headers = response.headers().clone();
    let bytes = read_upstream(response, candidate).await.unwrap_or_default();
    let message = translate::upstream_error_message(&bytes);
    let failure = classify(status.as_u16(), &headers, &bytes, &message);
    let error = upstream_error(status, &headers, &message, candidate);
    let raw = (!translated).then_some((status, bytes));
    Ok(Sent::Failed(Failed::Upstream { status, failure, error, raw }))
}

/// A failure's mark on the log and on the account: a rate limit cools the account down (and
/// tells the user when its quota is out), a refused credential sets it aside.
fn consequences(
    app: &AppState,
    failed: Failed,
    who: &Who<'_>,
    candidate: &Candidate,
    tally: &mut Tally,
    draft: &mut Draft,
) -> Failed {
    let reason = match &failed {
        Failed::Login(error) | Failed::Unreachable(error) | Failed::FirstByteTimeout(error) => error.message.clone(),
        Failed::Upstream { failure, .. } => failure.reason().to_string(),
    };
    note(draft, Attempt::Failed { who, reason: &reason });
    let Failed::Upstream { status, failure, mut error, raw } = failed else { return failed };
    let provider = &candidate.provider;
    match (&failure, who.account) {
        (Failure::RateLimited { reset, reason }, Some(id)) => {
            let cooldown = app.routing.cool_down(id, &candidate.upstream_model, *reset, reason);
            if notices::is_out_of_quota(reason, cooldown.until, SystemTime::now()) {
                app.notices.send(|| AccountNotice::OutOfQuota {
                    account: id,
                    provider: provider.id.clone(),
                    model: candidate.upstream_model.clone(),
                    until_ms: crate::routing::state::unix_ms(cooldown.until),
                    reason: reason.clone(),
                });
            }
            tally.cooling_until(cooldown.until);
        }
        (Failure::Auth { reason }, account) => {
            if let Some(id) = account {
                set_aside(app, id, reason);
                app.notices.send(|| AccountNotice::NeedsLogin {
                    account: id,
                    provider: provider.id.clone(),
                    reason: reason.clone(),
                });
            }
            let id = account.unwrap_or(0);
            error.message = format!(
                "{} (account {id} set aside: fix its key, then `switchyard account set {id} --enabled true`)",
                error.message
            );
        }
        _ => {}
    }
    Failed::Upstream { status, failure, error, raw }
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
