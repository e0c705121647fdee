//! The gateway inside the app: opened once at start (configuration, routing memory, usage
//! writer), listening on 127.0.0.1:PORT while it runs, stopped and started again from the tray
//! or the window without losing any of that. Its status is what the tray icon and the window
//! show. A taken port is a status (with what to do), not a failure of the app.

use crate::gateway::{AppState, Gateway, GatewayError, InProcessAnswer, Listening};
use crate::manage::Manager;
use tokio::sync::{watch, Mutex};

/// The app's gateway listens on loopback only (LAN exposure is `serve --host`).
const HOST: &str = "127.0.0.1";

pub use switchyard_api::GatewayStatus;

pub struct GatewayControl {
    /// Taken at shutdown (closing writes the last usage records).
    gateway: Mutex<Option<Gateway>>,
    /// The state the handlers read (a clone of the gateway's).
    state: AppState,
    manager: Manager,
    listening: Mutex<Option<Listening>>,
    status: watch::Sender<GatewayStatus>,
}

impl GatewayControl {
    pub async fn open(manager: Manager) -> Result<Self, GatewayError> {
        let gateway = Gateway::open(manager.clone(), false).await?;
        Ok(Self {
            state: gateway.state().clone(),
            gateway: Mutex::new(Some(gateway)),
            manager,
            listening: Mutex::new(None),
            status: watch::channel(GatewayStatus::Starting).0,
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn manager(&self) -> &Manager {
        &self.manager
    }

    pub fn status(&self) -> GatewayStatus {
        self.status.borrow().clone()
    }

    pub fn watch_status(&self) -> watch::Receiver<GatewayStatus> {
        self.status.subscribe()
    }

    /// The port in use, or the one last tried.
    pub fn port(&self) -> u16 {
        match &*self.status.borrow() {
            GatewayStatus::Running { port, .. }
            | GatewayStatus::Stopped { port }
            | GatewayStatus::Failed { port, .. } => *port,
            GatewayStatus::Starting => crate::gateway::DEFAULT_PORT,
        }
    }

    /// Listens on `port` (stopping first if it listens elsewhere); the new status.
    pub async fn start(&self, port: u16) -> GatewayStatus {
        let mut listening = self.listening.lock().await;
        if let Some(current) = listening.as_ref() {
            if current.local_addr().port() == port {
                return self.status();
            }
        }
        if let Some(current) = listening.take() {
            let _ = current.stop().await;
        }
        let status = match self.gateway.lock().await.as_ref() {
            None => GatewayStatus::Failed { port, message: "the app is quitting".into() },
            Some(gateway) => match gateway.listen(HOST, port).await {
                Ok(now) => {
                    let addr = now.local_addr();
                    *listening = Some(now);
                    tracing::info!("gateway listening on http://{addr}");
                    GatewayStatus::Running { port: addr.port(), endpoint: format!("http://{addr}") }
                }
                Err(GatewayError::PortInUse { .. }) => GatewayStatus::Failed {
                    port,
                    message: format!(
                        "Port {port} is already in use (another Switchyard, or another program). Choose another port in Settings, or start with --port N."
                    ),
                },
                Err(e) => GatewayStatus::Failed { port, message: e.to_string() },
            },
        };
        self.status.send_replace(status.clone());
        status
    }

    /// Stops listening; requests in flight finish first (the window keeps working).
    pub async fn stop(&self) -> GatewayStatus {
        let port = self.port();
        if let Some(current) = self.listening.lock().await.take() {
            if let Err(e) = current.stop().await {
                tracing::warn!("gateway stopped with an error: {e}");
            }
        }
        let status = GatewayStatus::Stopped { port };
        self.status.send_replace(status.clone());
        status
    }

    /// Starts on another port and keeps it as the `port` setting, for `serve` and next start.
    pub async fn move_to(&self, port: u16) -> Result<GatewayStatus, crate::manage::ManageError> {
        let status = self.start(port).await;
        if matches!(status, GatewayStatus::Running { .. }) {
            self.manager.settings_set("port", &port.to_string()).await?;
        }
        Ok(status)
    }

    /// One management call from the window, through /api in-process.
    pub async fn call_api(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> InProcessAnswer {
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], self.port()));
        let state = AppState { listen, ..self.state.clone() };
        crate::gateway::call_api(&state, method, path, body).await
    }

    /// At Quit: stop listening (in-flight requests finish), write the last usage records,
    /// close the store.
    pub async fn shutdown(&self) {
        self.stop().await;
        if let Some(gateway) = self.gateway.lock().await.take() {
            gateway.close().await;
        }
        self.manager.store().close().await;
    }
}
