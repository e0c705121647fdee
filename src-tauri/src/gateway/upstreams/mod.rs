//! One home for each kind of upstream, behind `Upstream`: what differs between a provider
//! reached with an API key and each subscription backend. Each says how a request is prepared
//! (whether the client's bytes may pass through, or it always goes through the IR), how a
//! login's credentials go on it, how a successful answer is read and answered, which quota
//! headers its answers carry, and whether it embeds. The chat job and the attempt loop ask the
//! candidate's `Upstream`; none of them asks which login it is.
//!
//! - `ApiKey`, `Copilot`, `Qwen`: one of the four APIs (`apis`), with a key or the login's
//!   bearer at the host its token names (Copilot's, Qwen's resource URL);
//! - `Claude`: Anthropic's API with Claude Code's OAuth bearer; quota windows in its headers;
//! - `Codex`: the ChatGPT Codex backend (`codex`): Responses with its own body rules, streamed
//!   only (gathered for a client that wants one answer); quota windows in its headers;
//! - `CodeAssist`: Gemini requests wrapped for Code Assist and its answers unwrapped
//!   (`code_assist`); it streams SSE only;
//! - `Kiro`: none of the four APIs (`kiro`): the IR into Kiro's conversation state, its AWS
//!   event stream back into the IR.
//!
//! Adding a login: its file in `login/`, its file here, a variant of `LoginKind` and of this.

mod apis;
pub mod code_assist;
mod codex;
pub mod kiro;

use super::attempts::Prepared;
use super::error::ApiError;
use super::inbound::Inbound;
use super::AppState;
use crate::formats::ir::Request;
use crate::formats::translate::Format;
use crate::login::tokens::LoginAuth;
use crate::login::{quota, LoginKind};
use crate::routing::Candidate;
use crate::snapshot::ProviderRuntime;
use crate::usage::UsageTap;
use axum::response::Response;
use http::HeaderMap;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    ApiKey,
    Claude,
    Codex,
    Copilot,
    Qwen,
    CodeAssist,
    Kiro,
}

/// What the client asked for, as an answer needs it.
pub struct Asked<'a> {
    pub inbound: &'a Inbound,
    pub stream: bool,
    /// The model the client named (the name translated answers carry).
    pub model: &'a str,
    /// A translated OpenAI stream ends with a usage chunk (the client asked for one).
    pub include_usage: bool,
    /// A relayed OpenAI stream carries a usage event the client did not ask for (the
    /// gateway asked, for its record): left out.
    pub strip_usage_event: bool,
}

impl Upstream {
    pub fn of(provider: &ProviderRuntime) -> Self {
        match provider.login {
            None => Self::ApiKey,
            Some(LoginKind::Claude) => Self::Claude,
            Some(LoginKind::Codex) => Self::Codex,
            Some(LoginKind::Copilot) => Self::Copilot,
            Some(LoginKind::Qwen) => Self::Qwen,
            Some(LoginKind::GeminiCli) => Self::CodeAssist,
            Some(LoginKind::Kiro) => Self::Kiro,
        }
    }

    /// The client's own bytes may go (with the model renamed): it speaks the provider's API,
    /// and the upstream takes that API as the client sends it. Kiro takes none of the four;
    /// Code Assist streams only as SSE, so a Gemini client streaming a JSON array is answered
    /// through the translation.
    pub fn passes_through(self, inbound: &Inbound, provider_kind: Format, stream: bool) -> bool {
        inbound.format == provider_kind
            && match self {
                Self::Kiro => false,
                Self::CodeAssist => !stream || inbound.gemini_sse,
                _ => true,
            }
    }

    /// The upstream request for a request in the IR. Gemini and Kiro take no image URLs: each
    /// is fetched and sent inline.
    pub async fn prepare_translated(
        self,
        app: &AppState,
        candidate: &Candidate,
        mut request: Request,
        stream: bool,
        extra: HeaderMap,
    ) -> Result<Prepared, ApiError> {
        if self == Self::Kiro || candidate.provider.kind == Format::Gemini {
            apis::inline_image_urls(app, &mut request).await?;
        }
        match self {
            Self::Kiro => kiro::prepare(candidate, &request),
            _ => apis::encode(candidate, &request, stream, extra),
        }
    }

    /// The request with the login's credentials, and the backend's own rules.
    pub fn authorize(self, prepared: Prepared, login: &LoginAuth, candidate: &Candidate, stream: bool) -> Prepared {
        let provider = &candidate.provider;
        let prepared = match self {
            Self::CodeAssist if provider.kind == Format::Gemini => code_assist::wrap(
                prepared,
                &provider.base_url,
                &candidate.upstream_model,
                login.project.as_deref(),
                stream,
            ),
            Self::Codex if provider.kind == Format::Responses => codex::adapt(prepared, stream),
            _ => prepared,
        };
        let prepared = super::login_auth::apply(prepared, login, provider);
        match (self, login.profile_arn.as_deref()) {
            (Self::Kiro, Some(arn)) => kiro::with_profile(prepared, arn),
            _ => prepared,
        }
    }

    /// The quota windows a backend reports in its answers' headers.
    pub fn quota_windows(self, headers: &HeaderMap) -> Vec<quota::Window> {
        match self {
            Self::Codex => quota::parse_codex_headers(headers),
            Self::Claude => quota::parse_claude_headers(headers),
            _ => Vec::new(),
        }
    }

    /// A successful answer as the job reads it: a Codex stream gathered for a client that
    /// wanted one whole answer (`gather`), a Code Assist answer unwrapped into a plain Gemini
    /// one.
    pub async fn read_answer(
        self,
        response: reqwest::Response,
        gather: bool,
        candidate: &Candidate,
    ) -> Result<reqwest::Response, ApiError> {
        if !response.status().is_success() {
            return Ok(response);
        }
        match self {
            _ if gather => codex::gather(response, candidate).await,
            Self::CodeAssist => code_assist::unwrap(response, &candidate.provider.id).await,
            _ => Ok(response),
        }
    }

    /// The client's answer from the upstream's successful one: Kiro's event stream read into
    /// the IR; the others relayed unchanged (`translated` false) or transcoded.
    pub async fn answer(
        self,
        response: reqwest::Response,
        candidate: &Candidate,
        asked: &Asked<'_>,
        translated: bool,
        stall: Duration,
        tap: &UsageTap,
    ) -> Result<Response, ApiError> {
        match self {
            Self::Kiro => kiro::answer(response, candidate, asked.inbound, asked.stream, asked.model, stall, tap).await,
            _ if !translated => Ok(apis::relay(response, candidate, asked, stall, tap)),
            _ => {
                let (inbound, stream, model, usage) = (asked.inbound, asked.stream, asked.model, asked.include_usage);
                apis::translated_answer(response, candidate, inbound, stream, model, usage, stall, tap).await
            }
        }
    }

    /// The provider answers quota questions (`login::quota::fetch`); Qwen and API keys do not.
    pub fn reads_quota(self) -> bool {
        !matches!(self, Self::ApiKey | Self::Qwen)
    }

    /// Why this upstream cannot embed, if it cannot.
    pub fn no_embeddings(self) -> Option<&'static str> {
        match self {
            Self::CodeAssist => Some(LoginKind::GeminiCli.name()),
            Self::Codex => Some(LoginKind::Codex.name()),
            _ => None,
        }
    }
}
