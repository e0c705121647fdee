//! The contract between Switchyard's server and its dashboard (the wasm app in ui/), one crate
//! both build: the names of the kinds and strategies a user configures and of what became of
//! a request, each with its list, its name and its parsing written once (`kinds`). Serde
//! types only: no I/O, nothing of the server.

pub mod kinds;

pub use kinds::{AuthStyle, ComboStrategy, Format, LoginInfo, LoginKind, Outcome, Strategy};
