//! Switchyard: a local AI model gateway for coding tools. The library holds all logic; the
//! binary (`main.rs`) is wiring.
//!
//! The modules form layers: each uses only the layers below it, never one above (a test,
//! tests/layers.rs, fails on any `crate::` path that goes up), so each can be read and
//! tested with only what is beneath it.
//! Layers, bottom first: base → formats → saver → tools → store → login → providers → snapshot → routing → usage → manage → gateway → desktop → cli
//!
//! - `base`: plain types every layer shares: kinds and strategies, settings, usage records
//!   and prices, the clock, the default port
//! - `formats`: wire formats of each API, decoded into and encoded from one IR
//! - `saver`: the token saver (long tool outputs compressed in requests)
//! - `tools`: coding tools' config files, pointed at Switchyard and put back
//! - `store`: SQLite or PostgreSQL through sqlx, migrations, sealed secrets, and what the
//!   gateways sharing a database coordinate through (sessions, counts, slots, leases)
//! - `login`: subscription logins (OAuth flows, imports, token refresh, quotas)
//! - `providers`: the catalog, a provider as the request path holds it, upstream requests
//! - `snapshot`: the live, atomically swapped configuration the gateway reads, loaded from
//!   the store and the sealer
//! - `routing`: model name → provider, account, upstream model; cooldowns and rotation
//! - `usage`: usage records written in batches, costs, per-key budgets and limits
//! - `manage`: every management operation, shared by the CLI, the desktop app and /api
//! - `gateway`: the axum server and its inbound API handlers
//! - `desktop` (feature `desktop`): the tray app around the same gateway
//! - `cli`: argument parsing and output of the `switchyard` command

pub mod base;
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
