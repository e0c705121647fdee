//! Integration tests: the real `switchyard` binary (CLI and `serve`) against a mock
//! OpenAI-compatible provider, each test in its own data directory.

#[path = "../common/mod.rs"]
mod common;

mod cancel;
mod cli;
mod conformance;
mod connections;
mod container;
mod dashboard_api;
mod dashboard_ui;
mod desktop;
mod durability;
mod embeddings;
mod errors;
mod fleet;
mod gemini_login;
mod keys;
mod kiro_shape;
mod live_reload;
mod login_refresh;
mod logins;
mod passthrough;
mod routing;
mod saver;
mod sdk;
mod secrets;
mod security;
mod shutdown;
mod store;
mod synthesis;
mod tool_clis;
mod tools;
mod translation;
mod usage;
