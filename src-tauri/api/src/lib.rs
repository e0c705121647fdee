//! The contract between Switchyard's server and its dashboard (the wasm app in ui/), one crate
//! both build, serde types only (no I/O, nothing of the server):
//! - `kinds`: the names a user configures (provider kind, auth style, strategies, login kinds)
//!   and what became of a request, each with its list, its name and its parsing written once;
//! - `routes`: every /api route as a typed item (method, path, body, answer);
//! - the bodies and answers, by subject: `overview` (session and overview), `config`
//!   (catalog, providers, accounts, cooldowns, combos), `keys`, `settings`, `logins`,
//!   `tools`, `usage`; `error` (the error body); `desktop` (the desktop app's own commands).
//!
//! The server builds these views from its store rows; its rows are never the wire format.

pub mod config;
pub mod desktop;
pub mod error;
pub mod keys;
pub mod kinds;
pub mod logins;
pub mod overview;
pub mod routes;
pub mod settings;
pub mod tools;
pub mod usage;

pub use config::*;
pub use desktop::{GatewayStatus, UpdateCheck};
pub use error::{ErrorBody, ErrorDetail};
pub use keys::*;
pub use kinds::{AuthStyle, ComboStrategy, Format, LoginInfo, LoginKind, Outcome, Strategy};
pub use logins::*;
pub use overview::*;
pub use routes::{Method, Route};
pub use settings::{Durability, SettingValue, Settings, DASHBOARD_PASSWORD_SETTING, DEFAULT_PORT};
pub use tools::*;
pub use usage::*;
