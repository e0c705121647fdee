//! The one request path every inbound API shares: key check, body, model, then the attempt
//! loop over the routing plan. Each attempt is same-format pass-through (the client's bytes
//! with only the model name changed) or translation through the IR; failures before the first
//! byte are classified (cool down, set the account aside, retry, next candidate, or the
//! client's own mistake returned at once). The answer is relayed or transcoded as it streams.
//! Errors are rendered in the client's format.

use super::body::{read_limited, RelayBody};
use super::error::ApiError;
use super::stall::StallGuard;
use super::transcode::TranscodeBody;
use super::{auth, AppState};
use crate::formats::envelope::{conversation_hash, Envelope};
use crate::formats::ir::{Image, Part, Request};
use crate::formats::translate::{self, Format, StreamDecoder, StreamEncoder};
use crate::providers::{capabilities, upstream};
use crate::routing::classify::{classify, Failure};
use crate::routing::{self, notices, AccountNotice, Candidate};
use crate::snapshot::AccountRuntime;
use crate::usage::limits::Refusal;
use crate::usage::{self, Draft, Outcome, SseUsageScanner, UsageRecorder, UsageTap};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eventsource_stream::Eventsource;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Largest upstream answer read whole (non-streaming translation, error bodies).
const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;
/// Extra tries of the same account after a transient failure (5xx, connection, timeout).
const TRANSIENT_RETRIES: usize = 1;

/// What the route tells about a request before its body is read.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub format: Format,
    /// Gemini: the model named in the URL.
    pub path_model: Option<String>,
    /// Gemini: `:streamGenerateContent`.
    pub path_stream: bool,
    /// Gemini: `?alt=sse`.
    pub gemini_sse: bool,
    /// Sent by the gateway itself (the dashboard's model test): no gateway key to check.
    pub internal: bool,
}

impl Inbound {
    pub fn body_format(format: Format) -> Self {
        Self { format, path_model: None, path_stream: false, gemini_sse: false, internal: false }
    }
}

pub async fn handle(app: AppState, inbound: Inbound, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let format = inbound.format;
    let started = Instant::now();
    let user_agent = headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut draft = Draft {
        ts_ms: crate::routing::state::unix_ms(SystemTime::now()),
        tool: usage::tool_from_user_agent(user_agent),
        inbound: format.as_str().to_string(),
        ..Default::default()
    };
    let recorder = app.usage.clone();
    let limiter = app.limits.clone();
    let config = app.live.get();
    let mut counting = None;
    match serve(app, inbound, uri, headers, body, &mut draft, &mut counting).await {
        Ok((response, tap)) => {
            let record = Recording { draft, tap, recorder, started, config, limiter, counting };
            record_when_sent(response, record)
        }
        Err(e) => {
            let latency = started.elapsed().as_millis() as i64;
            recorder.record(draft.finish(e.status.as_u16(), Outcome::Error, latency, None, None, None));
            e.render(format)
        }
    }
}

/// A key's limit, as the client's error: 403 for what waiting does not fix soon, 429 with
/// `retry-after` for per-minute limits.
fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::Forbidden(message) => {
            ApiError::new(StatusCode::FORBIDDEN, "permission_error", message).code("key_limit")
        }
        Refusal::RateLimited(message, wait) => {
            let mut e =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message).code("key_rate_limit");
            e.retry_after = HeaderValue::from_str(&wait.as_secs().max(1).to_string()).ok();
            e
        }
    }
}

/// What a successful attempt's usage record is made of, besides the answer.
struct Recording {
    draft: Draft,
    tap: Option<UsageTap>,
    recorder: UsageRecorder,
    started: Instant,
    config: Arc<crate::snapshot::ConfigSnapshot>,
    limiter: Arc<crate::usage::limits::KeyLimiter>,
    /// The token saver's count of what it saved, still running.
    counting: Option<tokio::task::JoinHandle<u64>>,
}

/// Writes the request's usage record once its answer has been sent, or the client went away:
/// exactly one record per request, whatever happens to the stream.
fn record_when_sent(response: Response, r: Recording) -> Response {
    use futures_util::StreamExt;
    let status = response.status().as_u16();
    let tap = r.tap.unwrap_or_default();
    let price = match (&r.draft.provider, &r.draft.model) {
        (Some(provider), Some(model)) => usage::price_for(&r.config.prices, provider, model),
        _ => None,
    };
    let guard = RecordOnDrop {
        draft: Some(r.draft),
        tap: tap.clone(),
        recorder: r.recorder,
        started: r.started,
        status,
        price,
        limiter: r.limiter,
        counting: r.counting,
    };
    let (parts, body) = response.into_parts();
    let mut stream = body.into_data_stream();
    let body = async_stream(move |cx| {
        let polled = stream.poll_next_unpin(cx);
        match &polled {
            std::task::Poll::Ready(Some(Ok(chunk))) if !chunk.is_empty() => guard.tap.first_byte(),
            std::task::Poll::Ready(None) => guard.tap.complete(),
            _ => {}
        }
        polled
    });
    Response::from_parts(parts, Body::from_stream(body))
}

/// A stream made of a poll function (keeps `record_when_sent` free of a named stream type).
fn async_stream<T, F>(f: F) -> futures_util::stream::PollFn<F>
where
    F: FnMut(&mut std::task::Context<'_>) -> std::task::Poll<Option<T>>,
{
    futures_util::stream::poll_fn(f)
}

struct RecordOnDrop {
    draft: Option<Draft>,
    tap: UsageTap,
    recorder: UsageRecorder,
    started: Instant,
    status: u16,
    price: Option<usage::Price>,
    limiter: Arc<crate::usage::limits::KeyLimiter>,
    counting: Option<tokio::task::JoinHandle<u64>>,
}

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        let Some(draft) = self.draft.take() else { return };
        let (usage, first_byte, completed) = self.tap.read();
        let outcome = match (self.status < 400, completed) {
            (false, _) => Outcome::Error,
            (true, true) => Outcome::Ok,
            (true, false) => Outcome::ClientDisconnected,
        };
        let latency = self.started.elapsed().as_millis() as i64;
        let ttft = first_byte.map(|t| t.duration_since(self.started).as_millis() as i64);
        let mut record = draft.finish(self.status, outcome, latency, ttft, usage, self.price);
        if let Some(key) = record.key_id {
            self.limiter.settle(key, record.usage.input + record.usage.output, record.cost_usd);
        }
        match self.counting.take() {
            Some(counting) if counting.is_finished() => {
                record.tokens_saved +=
                    futures_util::FutureExt::now_or_never(counting).and_then(Result::ok).unwrap_or(0);
                self.recorder.record(record);
            }
            // Still counting: the record waits for it (the writer stays open until it is in).
            Some(counting) => match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let recorder = self.recorder.clone();
                    runtime.spawn(async move {
                        record.tokens_saved += counting.await.unwrap_or(0);
                        recorder.record(record);
                    });
                }
                Err(_) => self.recorder.record(record),
            },
            None => self.recorder.record(record),
        }
    }
}

/// The model and stream flag, from the body's top level or (Gemini) the path, and the body's
/// envelope (parsed once here, reused by every same-format attempt).
fn model_and_stream<'a>(inbound: &Inbound, body: &'a [u8]) -> Result<(String, bool, Option<Envelope<'a>>), ApiError> {
    match &inbound.path_model {
        Some(model) => {
            if !body.is_empty() {
                crate::formats::envelope::check_object(body)?;
            }
            Ok((model.clone(), inbound.path_stream, None))
        }
        None => {
            let envelope = Envelope::parse(body)?;
            Ok((envelope.model().to_string(), envelope.stream(), Some(envelope)))
        }
    }
}

/// Headers coding tools send to name their conversation.
const SESSION_HEADERS: [&str; 5] =
    ["x-session-id", "session_id", "x-claude-code-session-id", "conversation_id", "x-conversation-id"];

/// The conversation a request belongs to: the tool's own session header, else a hash of the
/// conversation's beginning (which stays the same as it grows).
fn session_key(headers: &HeaderMap, body: &[u8]) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    for name in SESSION_HEADERS {
        if let Some(v) = headers.get(name).filter(|v| !v.is_empty()) {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            v.as_bytes().hash(&mut h);
            return Some(h.finish());
        }
    }
    conversation_hash(body)
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

/// One upstream request, ready to send.
struct Prepared {
    url: reqwest::Url,
    body: Bytes,
    extra: HeaderMap,
    translated: bool,
}

/// State shared by the attempts of one request.
struct Attempts<'a> {
    app: &'a AppState,
    inbound: &'a Inbound,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    /// The top level of the body (not for Gemini, whose model is in the path).
    envelope: Option<Envelope<'a>>,
    model: &'a str,
    stream: bool,
    /// The request in the IR, decoded once when a first candidate needs translation.
    decoded: Option<Request>,
    session: Option<Option<u64>>,
}

impl Attempts<'_> {
    fn session(&mut self) -> Option<u64> {
        *self.session.get_or_insert_with(|| session_key(self.headers, self.body))
    }

    async fn prepare(&mut self, candidate: &Candidate) -> Result<Prepared, ApiError> {
        let upstream_format = candidate.provider.kind;
        let extra = forwarded_headers(self.headers, self.inbound.format, upstream_format);
        if upstream_format == self.inbound.format {
            let body = match self.inbound.format {
                Format::Gemini => self.body.clone(),
                _ => match &self.envelope {
                    Some(envelope) => Bytes::from(envelope.with_model(&candidate.upstream_model)),
                    None => Bytes::from(Envelope::parse(self.body)?.with_model(&candidate.upstream_model)),
                },
            };
            let url = upstream::endpoint(
                &candidate.provider,
                &candidate.upstream_model,
                self.stream,
                self.inbound.gemini_sse,
            )?;
            return Ok(Prepared { url, body, extra, translated: false });
        }
        if self.decoded.is_none() {
            self.decoded = Some(translate::decode_request(self.inbound.format, self.body, self.model, self.stream)?);
        }
        let mut request = self.decoded.clone().unwrap_or_default();
        request.model = candidate.upstream_model.clone();
        if upstream_format == Format::Gemini {
            inline_image_urls(self.app, &mut request).await?;
        }
        let body = serde_json::to_vec(&translate::encode_request(upstream_format, &request)).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", format!("cannot encode the request: {e}"))
        })?;
        let url = upstream::endpoint(&candidate.provider, &candidate.upstream_model, self.stream, true)?;
        Ok(Prepared { url, body: Bytes::from(body), extra, translated: true })
    }
}

async fn serve(
    app: AppState,
    inbound: Inbound,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    draft: &mut Draft,
    counting: &mut Option<tokio::task::JoinHandle<u64>>,
) -> Result<(Response, Option<UsageTap>), ApiError> {
    let config = app.live.get();
    draft.key_id = if inbound.internal { None } else { auth::check(&config, app.exposed, &headers, &uri)? };
    let mut body = read_limited(&headers, body, config.settings.max_body_bytes()).await?;
    if config.token_saver_for(draft.key_id) {
        if let Some(saved) = save_tokens(inbound.format, &body).await {
            draft.tokens_saved = saved.tokens_saved;
            if !saved.uncounted.is_empty() {
                let uncounted = saved.uncounted;
                *counting = Some(tokio::task::spawn_blocking(move || uncounted.count()));
            }
            body = Bytes::from(saved.body);
        }
    }
    let (model, stream, envelope) = model_and_stream(&inbound, &body)?;
    draft.requested_model = model.clone();
    draft.stream = stream;
    if let Some(limits) = draft.key_id.and_then(|id| config.key_limits.get(&id).map(|l| (id, l))) {
        app.limits.check(limits.0, limits.1, &model).await.map_err(refusal)?;
    }
    let candidates = routing::plan(&config, &app.routing, &model)?;
    let first_byte = Duration::from_secs(config.settings.first_byte_timeout_secs);
    let stall = Duration::from_secs(config.settings.stall_timeout_secs);
    let mut attempts = Attempts {
        app: &app,
        inbound: &inbound,
        headers: &headers,
        body: &body,
        envelope,
        model: &model,
        stream,
        decoded: None,
        session: None,
    };
    let mut last: Option<LastFailure> = None;
    let mut earliest_reset: Option<SystemTime> = None;
    let mut needs: Option<capabilities::Needs> = None;
    let mut busy = false;
    let mut skipped: Vec<String> = Vec::new();
    for candidate in &candidates {
        let provider = &candidate.provider;
        if capabilities::lookup(&candidate.upstream_model).is_some() {
            let needs = *needs.get_or_insert_with(|| capabilities::needs_of(&body));
            if let Some(reason) = capabilities::skip_reason(&candidate.upstream_model, &needs) {
                draft.attempts.push(format!("{}/{}: skipped: {reason}", provider.id, candidate.upstream_model));
                skipped.push(reason);
                continue;
            }
        }
        let session = if provider.accounts.len() > 1 { attempts.session() } else { None };
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
            for try_no in 0..=TRANSIENT_RETRIES {
                let prepared = attempts.prepare(candidate).await?;
                let accept = if stream { "text/event-stream" } else { "application/json" };
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
                if response.status().is_success() {
                    app.routing.on_success(account_id, &candidate.upstream_model, session);
                    if !draft.attempts.is_empty() {
                        tracing::info!(model = %model, answered_by = %who, "fell back after: {}", draft.attempts.join("; "));
                    }
                    let stall = provider.stall_timeout.map(Duration::from_secs).unwrap_or(stall);
                    draft.provider = Some(provider.id.clone());
                    draft.account_id = account_id;
                    draft.model = Some(candidate.upstream_model.clone());
                    let tap = UsageTap::default();
                    let response =
                        answer(response, candidate, &inbound, stream, translated, &model, &attempts, stall, &tap)
                            .await?;
                    let response = match in_flight {
                        Some(guard) => hold_until_sent(response, guard),
                        None => response,
                    };
                    return Ok((response, Some(tap)));
                }
                let status = response.status();
                let response_headers = response.headers().clone();
                let bytes = read_upstream(response, candidate).await.unwrap_or_default();
                let message = translate::upstream_error_message(&bytes);
                let failure = classify(status.as_u16(), &response_headers, &bytes, &message);
                draft.attempts.push(format!("{who}: {}", failure.reason()));
                let mut error = upstream_error(status, &response_headers, &message, candidate);
                let raw = (!translated).then(|| (status, bytes.clone()));
                match failure {
                    Failure::Client => return Ok((LastFailure { error, raw }.respond(inbound.format), None)),
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
                            set_aside(&app, id, &reason);
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
        (_, Some(last)) => Ok((last.respond(inbound.format), None)),
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

/// Bodies larger than this are given to the token saver on a blocking thread (it takes
/// ~1.5 ms per MB of new tool output), not to hold up other requests.
const SAVER_INLINE_MAX: usize = 512 * 1024;

/// The body with its long tool results compressed, or None when nothing changed.
async fn save_tokens(format: Format, body: &Bytes) -> Option<crate::saver::SavedBody> {
    let saved = if body.len() <= SAVER_INLINE_MAX {
        crate::saver::save(format, body)
    } else {
        let body = body.clone();
        tokio::task::spawn_blocking(move || crate::saver::save(format, &body)).await.ok().flatten()
    }?;
    tracing::debug!(results = saved.results, new = !saved.uncounted.is_empty(), "token saver compressed tool results");
    Some(saved)
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
fn set_aside(app: &AppState, account: i64, reason: &str) {
    tracing::warn!(account, "account set aside: {reason}");
    let store = app.store.clone();
    let reason = reason.to_string();
    tokio::spawn(async move {
        if let Err(e) = crate::store::routing::set_needs_attention(&store, account, Some(&reason)).await {
            tracing::warn!("cannot mark account {account}: {e}");
        }
    });
}

/// The answer of a successful attempt, relayed (same format) or translated.
#[allow(clippy::too_many_arguments)]
async fn answer(
    response: reqwest::Response,
    candidate: &Candidate,
    inbound: &Inbound,
    stream: bool,
    translated: bool,
    model: &str,
    attempts: &Attempts<'_>,
    stall: Duration,
    tap: &UsageTap,
) -> Result<Response, ApiError> {
    if !translated {
        return Ok(relay(response, candidate, inbound, stream, stall, tap));
    }
    let upstream_format = candidate.provider.kind;
    if stream {
        let include_usage = attempts.decoded.as_ref().is_some_and(|r| r.stream_usage);
        let decoder = StreamDecoder::new(upstream_format);
        let encoder = StreamEncoder::new(inbound.format, model, include_usage, inbound.gemini_sse);
        let events = StallGuard::new(response.bytes_stream(), stall).eventsource();
        let body = TranscodeBody::new(events, decoder, encoder, candidate.provider.id.clone(), tap.clone());
        let content_type = if inbound.format == Format::Gemini && !inbound.gemini_sse {
            "application/json"
        } else {
            "text/event-stream"
        };
        let headers = [(http::header::CONTENT_TYPE, content_type), (http::header::CACHE_CONTROL, "no-cache")];
        return Ok((headers, Body::from_stream(body)).into_response());
    }
    let bytes = read_upstream(response, candidate).await?;
    let mut answer = translate::decode_response(upstream_format, &bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            format!("provider '{}' sent an answer that cannot be read: {e}", candidate.provider.id),
        )
    })?;
    if answer.model.is_empty() {
        answer.model = candidate.upstream_model.clone();
    }
    tap.add_usage(answer.usage);
    Ok(axum::Json(translate::encode_response(inbound.format, &answer)).into_response())
}

/// Gemini takes no image URLs: fetch each and send it inline.
async fn inline_image_urls(app: &AppState, request: &mut Request) -> Result<(), ApiError> {
    use base64::Engine;
    let images = request.messages.iter_mut().flat_map(|m| m.parts.iter_mut()).flat_map(|p| match p {
        Part::ToolResult { content, .. } => content.iter_mut().collect::<Vec<_>>(),
        other => vec![other],
    });
    for part in images {
        if let Part::Image(Image::Url(url)) = part {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                continue;
            }
            let (media_type, bytes) = app.upstream.fetch_image(url).await.map_err(|why| {
                ApiError::bad_request(format!("cannot fetch the image {url} to send it inline: {why}"))
                    .code("image_fetch_failed")
            })?;
            *part = Part::Image(Image::Base64 {
                media_type,
                data: base64::engine::general_purpose::STANDARD.encode(&bytes),
            });
        }
    }
    Ok(())
}

/// Client headers that must reach a same-family upstream: Anthropic's API version and beta
/// flags (Claude Code relies on them).
fn forwarded_headers(headers: &HeaderMap, inbound: Format, upstream: Format) -> HeaderMap {
    let mut extra = HeaderMap::new();
    if inbound == Format::Anthropic && upstream == Format::Anthropic {
        for name in ["anthropic-version", "anthropic-beta"] {
            for value in headers.get_all(name) {
                extra.append(HeaderName::from_static(name), value.clone());
            }
        }
    }
    extra
}

async fn read_upstream(response: reqwest::Response, candidate: &Candidate) -> Result<Bytes, ApiError> {
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

/// Response headers worth keeping from the upstream: the body's type and the provider's
/// rate-limit and request-id information. Hop-by-hop and length headers are not relayed.
fn keep_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    matches!(
        n,
        "content-type" | "cache-control" | "retry-after" | "x-request-id" | "request-id" | "openai-processing-ms"
    ) || n.starts_with("x-ratelimit-")
        || n.starts_with("anthropic-ratelimit-")
}

/// Relays a same-format answer as it streams.
fn relay(
    upstream: reqwest::Response,
    candidate: &Candidate,
    inbound: &Inbound,
    stream: bool,
    stall: Duration,
    tap: &UsageTap,
) -> Response {
    let status = upstream.status();
    let mut headers = HeaderMap::with_capacity(8);
    for (name, value) in upstream.headers() {
        if keep_header(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let sse = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    if sse {
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    let stream_format = (status.is_success() && (sse || stream)).then_some((inbound.format, sse));
    let guarded = StallGuard::new(upstream.bytes_stream(), stall);
    let scanner = SseUsageScanner::new(inbound.format, sse);
    let body = RelayBody::new(Box::pin(guarded), stream_format, candidate.provider.id.clone())
        .with_usage(scanner, tap.clone(), inbound.format)
        .into_body();
    (status, headers, body).into_response()
}
