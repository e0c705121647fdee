//! What the desktop app's own commands answer (not /api: they exist only inside the app):
//! the gateway's status (`gateway_status`, and the `gateway` event) and an update check.

use crate::settings::DEFAULT_PORT;
use serde::{Deserialize, Serialize};

/// The app's gateway: starting, serving, stopped by the user, or unable to listen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GatewayStatus {
    /// Not started yet.
    Starting,
    Running {
        port: u16,
        endpoint: String,
    },
    /// Stopped by the user.
    Stopped {
        port: u16,
    },
    /// Could not listen: the port is taken, or another failure; says what to do.
    Failed {
        port: u16,
        message: String,
    },
}

impl GatewayStatus {
    /// The port it serves (or would serve) on.
    pub fn port(&self) -> u16 {
        match self {
            Self::Running { port, .. } | Self::Stopped { port } | Self::Failed { port, .. } => *port,
            Self::Starting => DEFAULT_PORT,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Starting => "Starting…".into(),
            Self::Running { endpoint, .. } => format!("Running on {endpoint}"),
            Self::Stopped { port } => format!("Stopped (port {port})"),
            Self::Failed { message, .. } => message.clone(),
        }
    }
}

/// What a check for updates found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpdateCheck {
    UpToDate { current: String },
    Available { current: String, version: String, notes: Option<String> },
    CouldNotCheck { current: String, reason: String },
}

impl UpdateCheck {
    /// One line for the tray menu and notifications.
    pub fn summary(&self) -> String {
        match self {
            Self::UpToDate { current } => format!("Switchyard {current} is up to date"),
            Self::Available { version, .. } => format!("Switchyard {version} is available: install it from Settings"),
            Self::CouldNotCheck { .. } => "Could not check for updates (offline?)".into(),
        }
    }

    /// One sentence for the window.
    pub fn describe(&self) -> String {
        match self {
            Self::UpToDate { current } => format!("Switchyard {current} is up to date."),
            Self::Available { current, version, .. } => {
                format!("Switchyard {version} is available (you have {current}).")
            }
            Self::CouldNotCheck { .. } => "Could not check for updates (offline?). Try again later.".into(),
        }
    }
}
