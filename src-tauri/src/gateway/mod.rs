//! The gateway: an axum server with one handler per inbound API, gateway-key auth, and a
//! graceful shutdown that lets in-flight requests finish. `bind` then `run`: binding first lets
//! callers report a taken port before anything else starts.

mod api;
mod auth;
mod body;
mod endpoints;
pub mod error;
mod inbound;
mod models;
mod selftest;
mod stall;
mod transcode;
mod ui;

use crate::manage::Manager;
use crate::providers::upstream::UpstreamClient;
use crate::routing::RoutingState;
use crate::snapshot::{ConfigSnapshot, LiveConfig};
use crate::usage::limits::KeyLimiter;
use crate::usage::{UsageRecorder, UsageWriter};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_PORT: u16 = 20130;
/// How long in-flight requests may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("port {port} on {host} is already in use (another Switchyard?): pick another with --port N")]
    PortInUse { host: String, port: u16 },
    #[error("cannot listen on {host}:{port}: {source}")]
    Bind { host: String, port: u16, source: std::io::Error },
    #[error("'{0}' is not an IP address or localhost")]
    BadHost(String),
    #[error("cannot load the configuration: {0}")]
    Config(#[from] crate::store::StoreError),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// What every handler reads: the live configuration and the upstream client.
#[derive(Clone)]
pub struct AppState {
    pub live: Arc<LiveConfig>,
    pub upstream: UpstreamClient,
    /// Listening beyond loopback: a gateway key is then always required.
    pub exposed: bool,
    /// Cooldowns, rotation counters, conversation affinity.
    pub routing: Arc<RoutingState>,
    /// For the gateway's own writes (cooldowns, accounts set aside).
    pub store: crate::store::Store,
    /// Where each request's usage record goes.
    pub usage: UsageRecorder,
    /// Per-key budgets and rate limits.
    pub limits: Arc<KeyLimiter>,
    /// Every management operation (the /api routes call it).
    pub manager: Manager,
    /// Dashboard logins.
    pub sessions: Arc<api::session::Sessions>,
    /// The address the gateway listens on.
    pub listen: SocketAddr,
    /// Turns true when the gateway begins to shut down: long-lived answers (the live usage
    /// feed) end then instead of holding the shutdown up.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(ui::index))
        .route("/health", get(health))
        .route("/v1/models", get(models::list_models))
        .route("/v1/chat/completions", post(endpoints::chat_completions))
        .route("/v1/messages", post(endpoints::messages))
        .route("/v1/messages/count_tokens", post(endpoints::count_tokens))
        .route("/v1/responses", post(endpoints::responses))
        .route("/v1beta/models", get(models::list_gemini_models))
        .route("/v1beta/models/{*rest}", post(endpoints::gemini))
        .route("/v1/models/{*rest}", post(endpoints::gemini))
        .merge(api::router(state.clone()))
        .fallback(ui::fallback)
        .with_state(state)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// A gateway whose socket is bound and whose configuration is loaded, ready to `run`.
pub struct BoundGateway {
    listener: tokio::net::TcpListener,
    state: AppState,
    manager: Manager,
    usage_writer: UsageWriter,
    stopping: tokio::sync::watch::Sender<bool>,
}

pub fn parse_host(host: &str) -> Result<IpAddr, GatewayError> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::from([127, 0, 0, 1]));
    }
    host.parse().map_err(|_| GatewayError::BadHost(host.to_string()))
}

pub async fn bind(manager: Manager, host: &str, port: u16) -> Result<BoundGateway, GatewayError> {
    let ip = parse_host(host)?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, port)).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            GatewayError::PortInUse { host: host.to_string(), port }
        } else {
            GatewayError::Bind { host: host.to_string(), port, source }
        }
    })?;
    let live = LiveConfig::new(ConfigSnapshot::load(&manager).await?);
    let routing = Arc::new(RoutingState::load(manager.store().clone()).await?);
    let (usage, usage_writer) = UsageRecorder::start(manager.store().clone());
    let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
    let state = AppState {
        live,
        upstream: UpstreamClient::new()?,
        exposed: !ip.is_loopback(),
        routing,
        store: manager.store().clone(),
        usage,
        limits: Arc::new(KeyLimiter::new(manager.store().clone())),
        manager: manager.clone(),
        sessions: Arc::new(api::session::Sessions::default()),
        listen: listener.local_addr().map_err(GatewayError::Serve)?,
        stopping: stopping_rx,
    };
    Ok(BoundGateway { listener, state, manager, usage_writer, stopping })
}

impl BoundGateway {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (up to
    /// `SHUTDOWN_GRACE`) and closes the store.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), GatewayError> {
        let BoundGateway { listener, state, manager, usage_writer, stopping } = self;
        if state.exposed && state.live.get().key_hashes.is_empty() {
            tracing::warn!("listening beyond loopback with no gateway key: every request will be refused until you run `switchyard key create`");
        }
        let watcher = tokio::spawn(state.live.clone().watch(manager.clone()));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        let mut server = tokio::spawn(async move { server.await });
        let result = tokio::select! {
            done = &mut server => done,
            () = shutdown => {
                tracing::info!("shutting down: waiting up to {} s for in-flight requests", SHUTDOWN_GRACE.as_secs());
                let _ = stop_tx.send(());
                let _ = stopping.send(true);
                match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
                    Ok(done) => done,
                    Err(_) => {
                        tracing::warn!("in-flight requests did not finish in time; closing them");
                        server.abort();
                        Ok(Ok(()))
                    }
                }
            }
        };
        watcher.abort();
        // Every request is done (or cut): write the last usage records, then close the store.
        if tokio::time::timeout(Duration::from_secs(5), usage_writer.close()).await.is_err() {
            tracing::warn!("usage records still pending after 5 s; closing anyway");
        }
        manager.store().close().await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(GatewayError::Serve(e)),
            Err(join) => Err(GatewayError::Serve(std::io::Error::other(join.to_string()))),
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
