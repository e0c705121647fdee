//! Routing: turns the model name a client asked for into a plan of candidates (provider,
//! upstream model) — through aliases and combos (named, ordered fallback chains, nested) —
//! and each candidate's accounts in the order to try them (`state`: rotation strategies,
//! conversation affinity, cooldowns). `classify` says what an upstream failure means for the
//! next attempt.

pub mod classify;
pub mod notices;
mod plan;
pub mod state;

pub use crate::base::kinds::{ComboStrategy, Strategy};
pub use notices::{AccountNotice, Notices};
pub use plan::{plan, resolve_single, validate_combo_member, Candidate};
pub use state::{Cooldown, InFlight, RoutingState};

/// How deep combos may nest.
pub const MAX_COMBO_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    #[error("unknown provider '{provider}' in model '{model}': {hint}")]
    UnknownProvider { provider: String, model: String, hint: String },
    #[error(
        "unknown model '{model}': name it as PROVIDER/MODEL, a combo or an alias ({hint}); GET /v1/models lists them"
    )]
    UnknownModel { model: String, hint: String },
    #[error("model '{model}' is offered by several providers ({providers}): write it as PROVIDER/{model}")]
    Ambiguous { model: String, providers: String },
    #[error(
        "provider '{provider}' has no enabled account: add one with `switchyard account add {provider} --api-key KEY`"
    )]
    NoAccount { provider: String },
    #[error("combo '{combo}' refers to itself through {path}")]
    Cycle { combo: String, path: String },
}
