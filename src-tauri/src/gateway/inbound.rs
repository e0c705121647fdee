//! The request path every inbound API shares: the gateway key, the body (token saver), the
//! model and the key's limits, then the routing plan handed to the attempt loop (`attempts`)
//! with the chat job (`chat`), or to a synthesis combo (`synthesis`). Every request, failed
//! ones included, gets exactly one usage record, written once its answer has been sent or the
//! client went away. Errors are rendered in the client's format.

use super::body::read_limited;
use super::chat::{model_and_stream, ChatJob};
use super::error::ApiError;
use super::{auth, AppState};
use crate::formats::translate::Format;
use crate::manage::settings::Durability;
use crate::routing;
use crate::usage::limits::Refusal;
use crate::usage::{self, Draft, Outcome, UsageRecorder, UsageTap};
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use std::future::Future;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

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
    let tool = tool_of(&headers);
    let state = app.clone();
    let work = async move |draft: &mut Draft, counting: &mut Option<tokio::task::JoinHandle<u64>>| {
        serve(app, inbound, uri, headers, body, draft, counting).await
    };
    recorded(state, format, format.as_str(), tool, work).await
}

/// The coding tool or SDK a request comes from, by its user agent.
pub fn tool_of(headers: &HeaderMap) -> String {
    let user_agent = headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    usage::tool_from_user_agent(user_agent)
}

/// Runs `work` for a request and writes its usage record: when the answer has been sent (or
/// the client went away), or at once for an error, which is rendered in `format`.
pub async fn recorded(
    app: AppState,
    format: Format,
    inbound_label: &str,
    tool: String,
    work: impl AsyncFnOnce(
        &mut Draft,
        &mut Option<tokio::task::JoinHandle<u64>>,
    ) -> Result<(Response, Option<UsageTap>), ApiError>,
) -> Response {
    let started = Instant::now();
    let mut draft = Draft {
        ts_ms: crate::routing::state::unix_ms(SystemTime::now()),
        tool,
        inbound: inbound_label.to_string(),
        ..Default::default()
    };
    let recorder = app.usage.clone();
    let limiter = app.limits.clone();
    let config = app.live.get();
    let mut counting = None;
    match work(&mut draft, &mut counting).await {
        Ok((response, tap)) => {
            let record = Recording { draft, tap, recorder, started, config, limiter, counting, format };
            record_when_sent(response, record)
        }
        Err(e) => {
            let latency = started.elapsed().as_millis() as i64;
            let record = draft.finish(e.status.as_u16(), Outcome::Error, latency, None, None, None);
            if config.settings.usage_durability == Durability::Strict {
                if !recorder.record_committed(record).await {
                    return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", UNRECORDED).render(format);
                }
            } else {
                recorder.record(record);
            }
            e.render(format)
        }
    }
}

/// A key's limit, as the client's error: 403 for what waiting does not fix soon, 429 with
/// `retry-after` for per-minute limits.
pub fn refusal(r: Refusal) -> ApiError {
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
    /// The client's API.
    format: Format,
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
        format: r.format,
        sent: Vec::new(),
        sent_len: 0,
    };
    let strict = r.config.settings.usage_durability == Durability::Strict;
    let (mut parts, body) = response.into_parts();
    if strict {
        // The answer's last byte is then the end of its chunked body, sent after the commit.
        parts.headers.remove(http::header::CONTENT_LENGTH);
    }
    let mut stream = body.into_data_stream();
    let mut committing: Option<std::pin::Pin<Box<dyn Future<Output = bool> + Send>>> = None;
    let mut guard = guard;
    let body = async_stream(move |cx| loop {
        use std::task::Poll;
        if let Some(commit) = committing.as_mut() {
            return match commit.as_mut().poll(cx) {
                Poll::Ready(true) => Poll::Ready(None),
                Poll::Ready(false) => Poll::Ready(Some(Err(axum::Error::new(std::io::Error::other(UNRECORDED))))),
                Poll::Pending => Poll::Pending,
            };
        }
        let polled = stream.poll_next_unpin(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) if !chunk.is_empty() => {
                guard.tap.first_byte();
                guard.keep_sent(chunk);
            }
            Poll::Ready(None) => {
                guard.tap.complete();
                if strict {
                    committing = Some(guard.commit());
                    continue;
                }
            }
            _ => {}
        }
        return polled;
    });
    Response::from_parts(parts, Body::from_stream(body))
}

/// Strict durability: what a client is told when its request's record could not be written
/// (a streamed answer is cut instead, so that it does not look complete).
const UNRECORDED: &str = "the usage record of this request could not be written (usage-durability strict)";

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
    /// The client's API, to read the request and the answer in for an estimate.
    format: Format,
    /// What was sent to the client (up to `MAX_KEPT`), for an estimate.
    sent: Vec<Bytes>,
    sent_len: usize,
}

/// An answer larger than this is estimated from its beginning.
const MAX_KEPT: usize = 1024 * 1024;

/// What a record still waits for before it is written: the token saver's count, and an
/// estimate of the usage its provider did not report for an answer that was served.
struct Pending {
    counting: Option<tokio::task::JoinHandle<u64>>,
    estimate: Option<(Format, Bytes, Bytes)>,
}

impl RecordOnDrop {
    fn keep_sent(&mut self, chunk: &Bytes) {
        if self.sent_len < MAX_KEPT {
            self.sent_len += chunk.len();
            self.sent.push(chunk.clone());
        }
    }

    /// The record, once (None after the first call), and what it still waits for.
    fn take(&mut self) -> Option<(usage::UsageRecord, Pending)> {
        let mut draft = self.draft.take()?;
        let (usage, first_byte, completed) = self.tap.read();
        let outcome = match (self.status < 400, completed) {
            (false, _) => Outcome::Error,
            (true, true) => Outcome::Ok,
            (true, false) => Outcome::ClientDisconnected,
        };
        let latency = self.started.elapsed().as_millis() as i64;
        let ttft = first_byte.map(|t| t.duration_since(self.started).as_millis() as i64);
        let request = std::mem::take(&mut draft.request_body);
        let served = self.status < 400 && !self.sent.is_empty() && !request.is_empty();
        let estimate = (usage.is_none() && served).then(|| (self.format, request, Bytes::from(self.sent.concat())));
        let record = draft.finish(self.status, outcome, latency, ttft, usage, self.price);
        Some((record, Pending { counting: self.counting.take(), estimate }))
    }

    /// The record once its count and estimate are in, settled against its key's limits.
    async fn completed(
        mut record: usage::UsageRecord,
        pending: Pending,
        price: Option<usage::Price>,
        limiter: &crate::usage::limits::KeyLimiter,
    ) -> usage::UsageRecord {
        if let Some(counting) = pending.counting {
            record.tokens_saved += counting.await.unwrap_or(0);
        }
        if let Some((format, request, sent)) = pending.estimate {
            let estimated = tokio::task::spawn_blocking(move || usage::estimate(format, &request, &sent)).await;
            if let Ok(estimated) = estimated {
                record = record.with_estimate(estimated, price);
            }
        }
        if let Some(key) = record.key_id {
            limiter.settle(key, record.usage.input + record.usage.output, record.cost_usd);
        }
        record
    }

    /// Strict durability: writes the record now and resolves once it is committed.
    fn commit(&mut self) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send>> {
        let taken = self.take();
        let (recorder, price, limiter) = (self.recorder.clone(), self.price, self.limiter.clone());
        Box::pin(async move {
            let Some((record, pending)) = taken else { return true };
            let record = Self::completed(record, pending, price, &limiter).await;
            recorder.record_committed(record).await
        })
    }
}

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        let Some((record, pending)) = self.take() else { return };
        let waits = pending.estimate.is_some() || pending.counting.as_ref().is_some_and(|c| !c.is_finished());
        match tokio::runtime::Handle::try_current() {
            // A count still running or an estimate to make: the record waits for them (the
            // writer stays open until it is in).
            Ok(runtime) if waits => {
                let (recorder, price, limiter) = (self.recorder.clone(), self.price, self.limiter.clone());
                runtime.spawn(async move {
                    recorder.record(Self::completed(record, pending, price, &limiter).await);
                });
            }
            _ => {
                let mut record = record;
                if let Some(counting) = pending.counting {
                    record.tokens_saved +=
                        futures_util::FutureExt::now_or_never(counting).and_then(Result::ok).unwrap_or(0);
                }
                if let Some(key) = record.key_id {
                    self.limiter.settle(key, record.usage.input + record.usage.output, record.cost_usd);
                }
                self.recorder.record(record);
            }
        }
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
    let mut body = read_limited(&headers, body, &config.settings).await?;
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
    draft.request_body = body.clone();
    let (model, stream, envelope) = model_and_stream(&inbound, &body)?;
    draft.requested_model = model.clone();
    draft.stream = stream;
    if let Some(limits) = draft.key_id.and_then(|id| config.key_limits.get(&id).map(|l| (id, l))) {
        app.limits.check(limits.0, limits.1, &model).await.map_err(refusal)?;
    }
    if let Some(combo) = super::synthesis::combo_for(&config, &model) {
        return super::synthesis::run(&app, &inbound, &headers, &body, &model, stream, combo, draft).await;
    }
    let candidates = routing::plan(&config, &app.routing, &model)?;
    let mut chat = ChatJob::new(&app, &inbound, &headers, &body, envelope, &model, stream);
    super::attempts::run(&app, &mut chat, &model, &candidates, draft).await
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
