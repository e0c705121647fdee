//! The contract between Switchyard's server and its dashboard (the wasm app in ui/), one crate
//! both build: the names of the kinds and strategies a user configures and of what became of
//! a request, each with its list, its name and its parsing written once (`kinds`), and the
//! answers of the /api routes moved here so far (`views`; the others still have a mirror in
//! the dashboard's `types.rs`). Serde types only: no I/O, nothing of the server.

pub mod kinds;
pub mod views;

pub use kinds::{AuthStyle, ComboStrategy, Format, LoginInfo, LoginKind, Outcome, Strategy};
pub use views::{Overview, OverviewAnswer, SessionStatus, Totals};
