//! Coding-tool setup as /api shows it: each tool's state, and what applying its setup changes
//! (a unified diff per file, also the dry run's answer).

use serde::{Deserialize, Serialize};

/// A coding tool Switchyard can set up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolStatus {
    pub id: String,
    pub name: String,
    /// Its program is on PATH.
    pub installed: bool,
    /// Switchyard set it up (and has not restored it).
    pub applied: bool,
    /// Keys Switchyard owns whose value the user (or the tool) changed since.
    pub drift: Vec<String>,
    /// The model it asks for, as its config says now.
    pub model: Option<String>,
    pub files: Vec<ToolFile>,
    pub try_it: String,
}

/// One of a tool's configuration files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolFile {
    pub path: String,
    pub exists: bool,
}

/// `POST /api/tools/{id}/apply`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolApply {
    /// The model the tool should ask for (None: its default through Switchyard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Only say what would change.
    #[serde(default)]
    pub dry_run: bool,
}

/// What applying a tool's setup changes (or would change, on a dry run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolPlan {
    pub id: String,
    pub files: Vec<ToolFilePlan>,
    /// What the user should know about where the tool now points (no gateway running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolFilePlan {
    pub path: String,
    pub changed: bool,
    pub diff: String,
}
