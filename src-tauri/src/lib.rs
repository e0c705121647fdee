//! Switchyard: a local AI model gateway for coding tools. The library holds all logic; the
//! binary (`main.rs`) is wiring. Modules:
//! - `gateway`: the axum server and its inbound API handlers
//! - `formats`: wire formats of each API
//! - `providers`: the catalog and upstream requests
//! - `routing`: model name → provider, account, upstream model
//! - `snapshot`: the live, atomically swapped configuration the gateway reads
//! - `store`: SQLite through sqlx, migrations, sealed secrets
//! - `login`: subscription logins (OAuth flows, imports, token refresh, quotas)
//! - `tools`: coding tools' config files, pointed at Switchyard and put back
//! - `manage`: every management operation, shared by the CLI, the desktop app and /api
//! - `cli`: argument parsing and output of the `switchyard` command
//! - `desktop` (feature `desktop`): the tray app around the same gateway

pub mod cli;
#[cfg(feature = "desktop")]
pub mod desktop;
pub mod formats;
pub mod gateway;
pub mod login;
pub mod manage;
pub mod providers;
pub mod routing;
pub mod saver;
pub mod snapshot;
pub mod store;
pub mod tools;
pub mod usage;
