//! Coding-tool setup: which tools Switchyard can point at itself, which files and keys of
//! theirs it owns, and the apply / restore of those keys (`setup`). Only the keys Switchyard
//! owns change; the rest of each file stays byte for byte (`edit`). What a tool's config held
//! before is kept in the data dir, so restore puts it back.

pub mod catalog;
pub mod edit;
mod lines;
pub mod setup;
mod yaml;

pub use catalog::{ToolSpec, CATALOG};
pub use setup::{FileStatus, Plan, ToolSetup, ToolStatus, ToolsError};

/// The alias a tool is pointed at when no model is named (the tray's "Default model").
pub const DEFAULT_MODEL: &str = "default";

/// What a tool is pointed at.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The gateway's root URL, e.g. `http://127.0.0.1:20130`.
    pub base_url: String,
    /// The gateway key the tool presents.
    pub key: String,
    /// The model name the tool asks for (PROVIDER/MODEL, a combo or an alias).
    pub model: String,
}
