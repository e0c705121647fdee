//! The gateway: an axum server with one handler per inbound API, gateway-key auth, and a
//! graceful shutdown that lets in-flight requests finish. `bind` then `run`: binding first lets
//! callers report a taken port before anything else starts.

mod admission;
mod api;
mod attempts;
mod auth;
mod body;
mod browser;
mod chat;
mod embeddings;
mod endpoints;
pub mod error;
mod inbound;
mod listener;
mod login_auth;
mod model_lists;
mod models;
mod quotas;
mod selftest;
mod stall;
mod synthesis;
mod transcode;
mod ui;
mod upstreams;

pub use api::in_process::{call_api, InProcessAnswer};

use crate::manage::Manager;
use crate::providers::upstream::UpstreamClient;
use crate::routing::RoutingState;
use crate::snapshot::{ConfigSnapshot, LiveConfig};
use crate::usage::limits::KeyLimiter;
use crate::usage::{UsageRecorder, UsageWriter};
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub use crate::base::DEFAULT_PORT;
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
    /// Account events worth telling the user (out of quota, key or login rejected).
    pub notices: crate::routing::Notices,
    /// Subscription logins in use: their tokens, refreshed one at a time per account.
    pub logins: Arc<crate::login::tokens::Logins>,
    /// Sign-ins the dashboard started.
    pub pending_logins: Arc<crate::manage::logins::PendingLogins>,
    /// The models providers configured without `--models` list themselves.
    pub model_lists: Arc<model_lists::ModelLists>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(ui::index))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/v1/models", get(models::list_models))
        .route("/v1/chat/completions", post(endpoints::chat_completions))
        .route("/v1/embeddings", post(endpoints::embeddings))
        .route("/v1/messages", post(endpoints::messages))
        .route("/v1/messages/count_tokens", post(endpoints::count_tokens))
        .route("/v1/responses", post(endpoints::responses))
        .route("/v1beta/models", get(models::list_gemini_models))
        .route("/v1beta/models/{*rest}", post(endpoints::gemini))
        .route("/v1/models/{*rest}", post(endpoints::gemini))
        .merge(api::router(state.clone()))
        .fallback(ui::fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), admission::admit))
        .with_state(state)
}

/// For load balancers: the process is alive.
async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// For load balancers: this gateway should get requests. 503 while it drains (SIGTERM), or
/// when its database cannot be reached or holds another schema than this build's.
async fn ready(axum::extract::State(app): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let unready = |reason: String| {
        let body = serde_json::json!({"status": "unavailable", "reason": reason});
        (http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
    };
    if *app.stopping.borrow() {
        return unready("shutting down".into());
    }
    let store = app.manager.store();
    match tokio::time::timeout(std::time::Duration::from_secs(2), store.schema_current()).await {
        Err(_) => unready("the database did not answer within 2 s".into()),
        Ok(Err(e)) => unready(format!("database: {e}")),
        Ok(Ok(false)) => unready("the database's schema is not this build's".into()),
        Ok(Ok(true)) => {
            let body = serde_json::json!({"status": "ready", "config_rev": app.live.get().rev});
            axum::Json(body).into_response()
        }
    }
}

/// The gateway without its socket: live configuration, routing memory, usage recorder, key
/// limits and dashboard sessions. `serve` opens one and listens once; the desktop app keeps one
/// for its whole life, starts and stops listening from the tray, and calls /api in-process.
pub struct Gateway {
    state: AppState,
    manager: Manager,
    usage_writer: UsageWriter,
    watcher: tokio::task::JoinHandle<()>,
    quota_watch: tokio::task::JoinHandle<()>,
    /// Loads the cooldowns other gateways on the same database learnt.
    state_watch: tokio::task::JoinHandle<()>,
    model_watch: tokio::task::JoinHandle<()>,
}

/// A gateway listening on a socket; `stop` lets in-flight requests finish.
pub struct Listening {
    addr: SocketAddr,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    stop: tokio::sync::oneshot::Sender<()>,
    stopping: tokio::sync::watch::Sender<bool>,
    /// Where `serving.json` says this gateway serves, until it stops.
    data_dir: std::path::PathBuf,
}

pub fn parse_host(host: &str) -> Result<IpAddr, GatewayError> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::from([127, 0, 0, 1]));
    }
    host.parse().map_err(|_| GatewayError::BadHost(host.to_string()))
}

async fn bind_socket(host: &str, port: u16) -> Result<tokio::net::TcpListener, GatewayError> {
    let ip = parse_host(host)?;
    tokio::net::TcpListener::bind(SocketAddr::new(ip, port)).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            GatewayError::PortInUse { host: host.to_string(), port }
        } else {
            GatewayError::Bind { host: host.to_string(), port, source }
        }
    })
}

impl Gateway {
    /// Loads the configuration and starts the usage writer and the configuration watcher.
    /// `exposed`: it will listen beyond loopback (a gateway key is then always required).
    pub async fn open(manager: Manager, exposed: bool) -> Result<Self, GatewayError> {
        let live = LiveConfig::new(ConfigSnapshot::load(manager.store(), manager.sealer()).await?);
        let routing = Arc::new(RoutingState::load(manager.store().clone()).await?);
        let (usage, usage_writer) = UsageRecorder::start(manager.store().clone());
        let (_, stopping) = tokio::sync::watch::channel(false);
        let state = AppState {
            live,
            upstream: UpstreamClient::new()?,
            exposed,
            routing,
            store: manager.store().clone(),
            usage,
            limits: Arc::new(KeyLimiter::new(manager.store().clone())),
            manager: manager.clone(),
            sessions: Arc::new(api::session::Sessions::new(manager.store().clone())),
            notices: crate::routing::Notices::default(),
            logins: Arc::new(crate::login::tokens::Logins::new(Arc::new(crate::manage::logins::ManagerKeeper::new(
                manager.clone(),
            )))),
            pending_logins: Arc::default(),
            model_lists: Arc::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            stopping,
        };
        let watcher = tokio::spawn(state.live.clone().watch(manager.store().clone(), manager.sealer().clone()));
        let quota_watch = tokio::spawn(quotas::watch(state.clone()));
        let state_watch = tokio::spawn(state.routing.clone().follow());
        let model_watch = tokio::spawn(model_lists::watch(state.clone()));
        Ok(Self { state, manager, usage_writer, watcher, quota_watch, state_watch, model_watch })
    }

    /// The state the handlers read (the desktop app calls /api in-process with it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The whole router (gateway endpoints, /api, dashboard files) over this gateway's state,
    /// as served at `listen`.
    pub fn router_at(&self, listen: SocketAddr) -> Router {
        router(AppState { listen, ..self.state.clone() })
    }

    /// Starts answering on an already bound socket.
    pub fn listen_on(&self, listener: tokio::net::TcpListener) -> Result<Listening, GatewayError> {
        let addr = listener.local_addr().map_err(GatewayError::Serve)?;
        if self.state.exposed && self.state.live.get().key_hashes.is_empty() {
            tracing::warn!("listening beyond loopback with no gateway key: every request will be refused until you run `switchyard key create`");
        }
        let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
        let state = AppState { listen: addr, stopping: stopping_rx, ..self.state.clone() };
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let live = self.state.live.clone();
        let server = tokio::spawn(listener::serve(listener, router(state), live, stop_rx));
        let data_dir = self.manager.data_dir().to_path_buf();
        crate::store::serving::record(&data_dir, addr);
        Ok(Listening { addr, server, stop, stopping, data_dir })
    }

    /// Binds `host:port` and starts answering there.
    pub async fn listen(&self, host: &str, port: u16) -> Result<Listening, GatewayError> {
        self.listen_on(bind_socket(host, port).await?)
    }

    /// Stops the watcher and writes the last usage records (every request must be done).
    pub async fn close(self) {
        self.watcher.abort();
        self.quota_watch.abort();
        self.state_watch.abort();
        self.model_watch.abort();
        if tokio::time::timeout(Duration::from_secs(5), self.usage_writer.close()).await.is_err() {
            tracing::warn!("usage records still pending after 5 s; closing anyway");
        }
    }
}

impl Listening {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Resolves if the server ends by itself (an accept error); it normally runs until `stop`.
    pub async fn ended(&mut self) -> Result<(), GatewayError> {
        match (&mut self.server).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(GatewayError::Serve(e)),
            Err(join) => Err(GatewayError::Serve(std::io::Error::other(join.to_string()))),
        }
    }

    /// Stops accepting, ends the live feeds, and lets in-flight requests finish (up to
    /// `SHUTDOWN_GRACE`; then they are cut).
    pub async fn stop(self) -> Result<(), GatewayError> {
        let Listening { mut server, stop, stopping, data_dir, .. } = self;
        crate::store::serving::clear(&data_dir);
        tracing::info!("shutting down: waiting up to {} s for in-flight requests", SHUTDOWN_GRACE.as_secs());
        let _ = stop.send(());
        let _ = stopping.send(true);
        let done = match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(done) => done,
            Err(_) => {
                tracing::warn!("in-flight requests did not finish in time; closing them");
                server.abort();
                Ok(Ok(()))
            }
        };
        match done {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(GatewayError::Serve(e)),
            Err(join) => Err(GatewayError::Serve(std::io::Error::other(join.to_string()))),
        }
    }
}

/// A gateway whose socket is bound and whose configuration is loaded, ready to `run`: what
/// `serve` does, once.
pub struct BoundGateway {
    listener: tokio::net::TcpListener,
    gateway: Gateway,
}

/// Binds first (a taken port is reported before anything else starts), then opens the gateway.
pub async fn bind(manager: Manager, host: &str, port: u16) -> Result<BoundGateway, GatewayError> {
    let exposed = !parse_host(host)?.is_loopback();
    let listener = bind_socket(host, port).await?;
    let gateway = Gateway::open(manager, exposed).await?;
    Ok(BoundGateway { listener, gateway })
}

impl BoundGateway {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (up to
    /// `SHUTDOWN_GRACE`), writes the last usage records and closes the store.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), GatewayError> {
        let BoundGateway { listener, gateway } = self;
        let mut listening = gateway.listen_on(listener)?;
        let ended = tokio::select! {
            ended = listening.ended() => Some(ended),
            () = shutdown => None,
        };
        let result = match ended {
            Some(ended) => ended,
            None => listening.stop().await,
        };
        let store = gateway.manager.store().clone();
        gateway.close().await;
        store.close().await;
        result
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
