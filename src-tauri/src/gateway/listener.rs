//! The accept loop: each connection served by hyper (HTTP/1.1 and HTTP/2) under limits that a
//! client cannot outwait. A connection must send a request's head within
//! `header-timeout-secs` of its start or of the end of its last answer, and may sit idle
//! (sending nothing) for `idle-timeout-secs`; then it is closed. A request being served (a
//! stream being sent included) is never cut by these. Beyond `max-connections` a new
//! connection gets one 503 with `retry-after` in its client's shape and is closed; far beyond
//! it, it is closed at once. Beyond `max-in-flight` requests being served, a request gets the
//! same 503. At start the process's open-file limit is raised as far as the
//! OS allows. Stopping closes idle connections and lets requests in flight finish.

use super::admission;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use tower::ServiceExt;

/// Connections beyond the cap that still get their 503 (past this, closed unanswered).
const OVERFLOW_ANSWERED: usize = 256;
/// How long an over-cap connection has to send the request its 503 answers.
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// The limits read from the settings when a connection is accepted.
#[derive(Clone, Copy)]
struct Limits {
    header_timeout: Duration,
    idle_timeout: Duration,
    max_connections: usize,
    max_in_flight: usize,
}

impl Limits {
    fn of(settings: &crate::manage::Settings) -> Self {
        Self {
            header_timeout: Duration::from_secs(settings.header_timeout_secs),
            idle_timeout: Duration::from_secs(settings.idle_timeout_secs),
            max_connections: settings.max_connections as usize,
            max_in_flight: settings.max_in_flight as usize,
        }
    }
}

/// Serves `app` on `listener` until `stop` resolves, then closes idle connections and waits
/// for those serving a request.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    live: Arc<crate::snapshot::LiveConfig>,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> std::io::Result<()> {
    raise_open_file_limit();
    let open = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    // Built once, cloned for each connection: tokio timers for both protocols; a connection
    // beyond the cap is answered once and closed.
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let mut overflow = builder.clone();
    overflow.http1().keep_alive(false);
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors or a connection reset before accept: wait a
                        // little rather than spin.
                        tracing::warn!("cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let limits = Limits::of(&live.get().settings);
                let count = OpenCount::enter(&open);
                if count.n > limits.max_connections + OVERFLOW_ANSWERED {
                    continue;
                }
                let over = count.n > limits.max_connections;
                if over {
                    tracing::warn!(open = count.n, cap = limits.max_connections, "connection refused: too many open (setting max-connections)");
                }
                let builder = if over { overflow.clone() } else { builder.clone() };
                let shared = Shared { app: app.clone(), in_flight: in_flight.clone(), builder };
                connections.spawn(connection(tcp, peer, shared, limits, over, stopping.clone(), count));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = &mut stop => break,
        }
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One open connection, counted until it closes.
struct OpenCount {
    open: Arc<AtomicUsize>,
    n: usize,
}

impl OpenCount {
    fn enter(open: &Arc<AtomicUsize>) -> Self {
        let n = open.fetch_add(1, Ordering::Relaxed) + 1;
        Self { open: open.clone(), n }
    }
}

impl Drop for OpenCount {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What every connection of a listener shares.
struct Shared {
    app: Router,
    /// Requests being served, across connections (capped by `max-in-flight`).
    in_flight: Arc<AtomicUsize>,
    builder: hyper_util::server::conn::auto::Builder<TokioExecutor>,
}

async fn connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: Shared,
    mut limits: Limits,
    over: bool,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    _count: OpenCount,
) {
    let _ = tcp.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { inner: tcp, activity: activity.clone() });
    if over {
        limits.header_timeout = OVERFLOW_HEADER_TIMEOUT;
        limits.idle_timeout = OVERFLOW_HEADER_TIMEOUT;
    }
    let Shared { app, in_flight, builder } = shared;
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
            let app = app.clone();
            // Held by the answer's body until it has been sent: the connection's clocks stop,
            // and the request keeps its place among those in flight.
            let busy = Busy::start(&activity);
            let slot = InFlight::enter(&in_flight, limits.max_in_flight);
            request.extensions_mut().insert(ConnectInfo(peer));
            async move {
                let response = match (over, &slot) {
                    (true, _) => admission::overloaded(request.uri().path(), "max-connections"),
                    (false, None) => admission::overloaded(request.uri().path(), "max-in-flight"),
                    (false, Some(_)) => {
                        let Ok(response) = app.oneshot(request.map(Body::new)).await;
                        response
                    }
                };
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| Body::new(admission::Held::new(body, (busy, slot)))),
                )
            }
        })
    };
    let served = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(served);
    let mut shutting_down = false;
    loop {
        let deadline = activity.deadline(&limits);
        tokio::select! {
            _ = served.as_mut() => return,
            () = tokio::time::sleep_until(deadline) => {
                if activity.expired(&limits) {
                    tracing::debug!(%peer, "connection closed: no request within the time allowed");
                    return;
                }
            }
            _ = stopping.changed(), if !shutting_down => {
                shutting_down = true;
                served.as_mut().graceful_shutdown();
            }
        }
    }
}

/// What a connection has been doing: requests being served, and since when it waits for the
/// next one (and whether any of it has arrived).
struct Activity {
    opened: Instant,
    busy: AtomicU32,
    /// Milliseconds from `opened` to the end of the last answer (0: none yet).
    waiting_since_ms: AtomicU64,
    /// Bytes arrived since then: a request's head is on its way.
    heard: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            busy: AtomicU32::new(0),
            waiting_since_ms: AtomicU64::new(0),
            heard: AtomicBool::new(false),
        }
    }

    /// When the connection should be looked at again.
    fn deadline(&self, limits: &Limits) -> Instant {
        let since = self.opened + Duration::from_millis(self.waiting_since_ms.load(Ordering::Relaxed));
        if self.busy.load(Ordering::Relaxed) > 0 {
            return Instant::now() + limits.header_timeout.min(limits.idle_timeout);
        }
        since + if self.heard.load(Ordering::Relaxed) { limits.header_timeout } else { limits.idle_timeout }
    }

    fn expired(&self, limits: &Limits) -> bool {
        self.busy.load(Ordering::Relaxed) == 0 && Instant::now() >= self.deadline(limits)
    }
}

/// A request being served on a connection: the connection's clocks stop until it is dropped
/// (with the answer's body, once sent).
pub struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: &Arc<Activity>) -> Self {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        Self(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.busy.fetch_sub(1, Ordering::Relaxed) == 1 {
            activity.heard.store(false, Ordering::Relaxed);
            let ms = activity.opened.elapsed().as_millis() as u64;
            activity.waiting_since_ms.store(ms.max(1), Ordering::Relaxed);
        }
    }
}

/// A request's place among those in flight on a listener.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// A place, unless `cap` requests are already in flight.
    fn enter(count: &Arc<AtomicUsize>, cap: usize) -> Option<Self> {
        let before = count.fetch_add(1, Ordering::Relaxed);
        let place = Self(count.clone());
        (before < cap).then_some(place)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The socket, noting when bytes arrive.
struct Watched {
    inner: tokio::net::TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.heard.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Raises the soft limit on open files to the hard limit (capped where the OS wants a finite
/// value), once per process: each connection is a file descriptor.
pub fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            // SAFETY: getrlimit and setrlimit only read and write the struct given.
            if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
                return;
            }
            let wanted =
                if cfg!(target_os = "macos") { limit.rlim_max.min(10_240) } else { limit.rlim_max.min(1 << 20) };
            if wanted > limit.rlim_cur {
                let raised = libc::rlimit { rlim_cur: wanted, rlim_max: limit.rlim_max };
                // SAFETY: as above.
                if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                    tracing::debug!(from = limit.rlim_cur, to = wanted, "raised the open-file limit");
                }
            }
        });
    }
}
