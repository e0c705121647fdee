//! The coding tools whose configuration Switchyard writes, as data: each one's files (relative
//! to the home folder), their format, and the keys Switchyard owns in each with the value it
//! puts there. Tools with no file Switchyard can own (Cursor, Cline, Roo, Kilo) get copyable
//! steps in the dashboard instead, as do Continue and Factory Droid for now.

use super::edit::FileFormat;
use super::Target;
use serde_json::{json, Value};

/// One key Switchyard owns in a file, and its value.
pub type Entry = (&'static [&'static str], Value);

/// One configuration file of a tool.
pub struct FileSpec {
    /// Relative to the home folder.
    pub path: &'static str,
    pub format: FileFormat,
    /// The keys Switchyard owns, with their values for a target.
    pub entries: fn(&Target) -> Vec<Entry>,
    /// What a file Switchyard creates starts as, before its keys are written (Continue
    /// requires its config's name, version and schema).
    pub starts_as: &'static str,
}

pub struct ToolSpec {
    /// The id the CLI and /api use (`claude-code`).
    pub id: &'static str,
    pub name: &'static str,
    /// Program names that tell the tool is installed.
    pub binaries: &'static [&'static str],
    pub files: &'static [FileSpec],
    /// How to try it once it is set up.
    pub try_it: &'static str,
}

fn v1(target: &Target) -> String {
    format!("{}/v1", target.base_url)
}

fn claude_settings(t: &Target) -> Vec<Entry> {
    vec![
        (&["env", "ANTHROPIC_BASE_URL"], json!(t.base_url)),
        (&["env", "ANTHROPIC_AUTH_TOKEN"], json!(t.key)),
        (&["env", "ANTHROPIC_MODEL"], json!(t.model)),
        (&["env", "ANTHROPIC_DEFAULT_OPUS_MODEL"], json!(t.model)),
        (&["env", "ANTHROPIC_DEFAULT_SONNET_MODEL"], json!(t.model)),
        (&["env", "ANTHROPIC_DEFAULT_HAIKU_MODEL"], json!(t.model)),
    ]
}

fn codex_config(t: &Target) -> Vec<Entry> {
    vec![
        (&["model"], json!(t.model)),
        (&["model_provider"], json!("switchyard")),
        (&["model_providers", "switchyard", "name"], json!("Switchyard")),
        (&["model_providers", "switchyard", "base_url"], json!(v1(t))),
        (&["model_providers", "switchyard", "wire_api"], json!("responses")),
        (&["model_providers", "switchyard", "experimental_bearer_token"], json!(t.key)),
    ]
}

fn gemini_env(t: &Target) -> Vec<Entry> {
    vec![
        (&["GOOGLE_GEMINI_BASE_URL"], json!(t.base_url)),
        (&["GEMINI_API_KEY"], json!(t.key)),
        (&["GEMINI_MODEL"], json!(t.model)),
    ]
}

fn gemini_settings(_: &Target) -> Vec<Entry> {
    vec![(&["security", "auth", "selectedType"], json!("gemini-api-key"))]
}

fn opencode_config(t: &Target) -> Vec<Entry> {
    vec![
        (&["provider", "switchyard", "npm"], json!("@ai-sdk/openai-compatible")),
        (&["provider", "switchyard", "name"], json!("Switchyard")),
        (&["provider", "switchyard", "options", "baseURL"], json!(v1(t))),
        (&["provider", "switchyard", "options", "apiKey"], json!(t.key)),
        (
            &["provider", "switchyard", "models"],
            Value::Object([(t.model.clone(), json!({"name": t.model}))].into_iter().collect()),
        ),
        (&["model"], json!(format!("switchyard/{}", t.model))),
    ]
}

fn qwen_env(t: &Target) -> Vec<Entry> {
    vec![(&["OPENAI_BASE_URL"], json!(v1(t))), (&["OPENAI_API_KEY"], json!(t.key)), (&["OPENAI_MODEL"], json!(t.model))]
}

fn aider_config(t: &Target) -> Vec<Entry> {
    vec![
        (&["openai-api-base"], json!(v1(t))),
        (&["openai-api-key"], json!(t.key)),
        // LiteLLM's OpenAI-compatible route: it sends the rest of the name as the model.
        (&["model"], json!(format!("openai/{}", t.model))),
    ]
}

/// Droid's entry in its custom-model list, and the default model set to it: Droid names a
/// custom model `custom:<display name>-<n>`, n counting entries of the same name.
fn droid_settings(t: &Target) -> Vec<Entry> {
    vec![
        (
            &["customModels", "[displayName=Switchyard]"],
            json!({
                "displayName": "Switchyard",
                "model": t.model,
                "baseUrl": v1(t),
                "apiKey": t.key,
                "provider": "generic-chat-completion-api",
                "maxOutputTokens": 16384,
            }),
        ),
        (&["model"], json!("custom:Switchyard-0")),
    ]
}

/// A new Continue config: the fields Continue requires.
const CONTINUE_NEW: &str = "name: Local Config\nversion: 1.0.0\nschema: v1\n";

/// Continue's entry in its model list, first so it is the default chat model.
fn continue_config(t: &Target) -> Vec<Entry> {
    vec![(
        &["models", "[name=Switchyard]"],
        json!({
            "name": "Switchyard",
            "provider": "openai",
            "model": t.model,
            "apiBase": v1(t),
            "apiKey": t.key,
            "roles": ["chat", "edit", "apply"],
            "capabilities": ["tool_use"],
        }),
    )]
}

fn qwen_settings(_: &Target) -> Vec<Entry> {
    vec![(&["security", "auth", "selectedType"], json!("openai"))]
}

pub const CATALOG: &[ToolSpec] = &[
    ToolSpec {
        id: "claude-code",
        name: "Claude Code",
        binaries: &["claude"],
        files: &[FileSpec {
            path: ".claude/settings.json",
            format: FileFormat::Json,
            entries: claude_settings,
            starts_as: "",
        }],
        try_it: "claude -p \"hello\"",
    },
    ToolSpec {
        id: "codex",
        name: "Codex CLI",
        binaries: &["codex"],
        files: &[FileSpec {
            path: ".codex/config.toml",
            format: FileFormat::Toml,
            entries: codex_config,
            starts_as: "",
        }],
        try_it: "codex exec \"hello\"",
    },
    ToolSpec {
        id: "gemini-cli",
        name: "Gemini CLI",
        binaries: &["gemini"],
        files: &[
            FileSpec { path: ".gemini/.env", format: FileFormat::DotEnv, entries: gemini_env, starts_as: "" },
            FileSpec {
                path: ".gemini/settings.json",
                format: FileFormat::Json,
                entries: gemini_settings,
                starts_as: "",
            },
        ],
        try_it: "gemini -p \"hello\" (in a folder you trust: Gemini CLI reads ~/.gemini/.env only there)",
    },
    ToolSpec {
        id: "opencode",
        name: "OpenCode",
        binaries: &["opencode"],
        files: &[FileSpec {
            path: ".config/opencode/opencode.json",
            format: FileFormat::Json,
            entries: opencode_config,
            starts_as: "",
        }],
        try_it: "opencode run \"hello\"",
    },
    ToolSpec {
        id: "qwen-code",
        name: "Qwen Code",
        binaries: &["qwen"],
        files: &[
            FileSpec { path: ".qwen/.env", format: FileFormat::DotEnv, entries: qwen_env, starts_as: "" },
            FileSpec { path: ".qwen/settings.json", format: FileFormat::Json, entries: qwen_settings, starts_as: "" },
        ],
        try_it: "qwen -p \"hello\"",
    },
    ToolSpec {
        id: "aider",
        name: "Aider",
        binaries: &["aider"],
        files: &[FileSpec { path: ".aider.conf.yml", format: FileFormat::Yaml, entries: aider_config, starts_as: "" }],
        try_it: "aider --message \"hello\"",
    },
    ToolSpec {
        id: "factory-droid",
        name: "Factory Droid",
        binaries: &["droid"],
        files: &[FileSpec {
            path: ".factory/settings.json",
            format: FileFormat::Json,
            entries: droid_settings,
            starts_as: "",
        }],
        try_it: "droid exec \"hello\" (in droid, /model lists Switchyard under Custom models)",
    },
    ToolSpec {
        id: "continue",
        name: "Continue",
        binaries: &["cn"],
        files: &[FileSpec {
            path: ".continue/config.yaml",
            format: FileFormat::Yaml,
            entries: continue_config,
            starts_as: CONTINUE_NEW,
        }],
        try_it: "cn -p \"hello\" (the Continue CLI; the VS Code and JetBrains extensions read the same file)",
    },
];

/// The tool with this id.
pub fn find(id: &str) -> Option<&'static ToolSpec> {
    CATALOG.iter().find(|t| t.id == id)
}
