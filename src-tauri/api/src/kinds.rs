//! The names of the things a user configures: the API a client or a provider speaks
//! (`Format`, a provider's `--kind`), how its accounts' secrets are sent (`AuthStyle`), how
//! requests spread over accounts and combo members (`Strategy`, `ComboStrategy`), and which
//! subscription login an account holds (`LoginKind`, `LoginInfo`), and what became of a
//! request (`Outcome`). Each with its list, its name and its parsing, written once.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The wire format an upstream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// OpenAI Chat Completions (`POST {base}/chat/completions`).
    Openai,
    /// Anthropic Messages (`POST {base}/v1/messages`).
    Anthropic,
    /// Google Gemini (`POST {base}/v1beta/models/{model}:generateContent`).
    Gemini,
    /// OpenAI Responses (`POST {base}/responses`).
    Responses,
}

impl Format {
    pub const ALL: [Format; 4] = [Self::Openai, Self::Anthropic, Self::Gemini, Self::Responses];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Responses => "responses",
        }
    }

    /// The auth style a custom provider of this kind gets when none is given.
    pub fn default_auth(self) -> AuthStyle {
        match self {
            Self::Openai | Self::Responses => AuthStyle::Bearer,
            Self::Anthropic => AuthStyle::XApiKey,
            Self::Gemini => AuthStyle::XGoogApiKey,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown provider kind '{s}': expected openai, anthropic, gemini or responses"))
    }
}

/// How the account's secret is presented to the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthStyle {
    /// `Authorization: Bearer KEY`
    #[serde(rename = "bearer")]
    Bearer,
    /// `x-api-key: KEY` (Anthropic)
    #[serde(rename = "x-api-key")]
    XApiKey,
    /// `x-goog-api-key: KEY` (Gemini)
    #[serde(rename = "x-goog-api-key")]
    XGoogApiKey,
    /// `api-key: KEY` (Azure OpenAI)
    #[serde(rename = "api-key")]
    ApiKeyHeader,
    /// No credential (a local server such as Ollama).
    #[serde(rename = "none")]
    None,
    /// A subscription login: the account holds OAuth tokens (`login`), refreshed as needed.
    #[serde(rename = "login")]
    Login,
}

impl AuthStyle {
    pub const ALL: [AuthStyle; 6] =
        [Self::Bearer, Self::XApiKey, Self::XGoogApiKey, Self::ApiKeyHeader, Self::None, Self::Login];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::XApiKey => "x-api-key",
            Self::XGoogApiKey => "x-goog-api-key",
            Self::ApiKeyHeader => "api-key",
            Self::None => "none",
            Self::Login => "login",
        }
    }
}

impl fmt::Display for AuthStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            format!("unknown auth style '{s}': expected bearer, x-api-key, x-goog-api-key, api-key, none or login")
        })
    }
}
/// How a provider's accounts take turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Always the first healthy account by priority: use one up before touching the next.
    FillFirst,
    /// Each request starts at the next account.
    RoundRobin,
    /// Round-robin, but each account serves N requests in a row (keeps prompt caches warm).
    StickyRoundRobin,
    /// The account that has served the fewest requests.
    LeastUsed,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Self::FillFirst, Self::RoundRobin, Self::StickyRoundRobin, Self::LeastUsed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FillFirst => "fill-first",
            Self::RoundRobin => "round-robin",
            Self::StickyRoundRobin => "sticky-round-robin",
            Self::LeastUsed => "least-used",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sticky" => Ok(Self::StickyRoundRobin),
            _ => Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
                format!("unknown strategy '{s}': expected fill-first, round-robin, sticky-round-robin (or sticky) or least-used")
            }),
        }
    }
}

/// How a combo uses its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComboStrategy {
    /// Members in order; the next one answers when one fails.
    Fallback,
    /// Each request starts at the next member, then falls back through the others.
    RoundRobin,
    /// Every member answers in parallel; a judge model writes the final answer from theirs.
    Synthesize,
}

impl ComboStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fallback => "fallback",
            Self::RoundRobin => "round-robin",
            Self::Synthesize => "synthesize",
        }
    }
}

impl FromStr for ComboStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fallback" => Ok(Self::Fallback),
            "round-robin" => Ok(Self::RoundRobin),
            "synthesize" => Ok(Self::Synthesize),
            _ => Err(format!("unknown combo strategy '{s}': expected fallback, round-robin or synthesize")),
        }
    }
}

/// Which official CLI's login an account holds; its provider id is the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginKind {
    /// Claude Pro/Max through Claude Code's OAuth login.
    Claude,
    /// ChatGPT Plus/Pro through the Codex CLI's login.
    Codex,
    /// GitHub Copilot through the editor plugins' device login.
    Copilot,
    /// Qwen Code's free tier through its device login.
    Qwen,
    /// Kiro through its AWS Builder ID login (or the Kiro IDE's saved login).
    Kiro,
    /// Gemini Code Assist through Gemini CLI's Google login.
    GeminiCli,
}

impl LoginKind {
    pub const ALL: [LoginKind; 6] = [Self::Claude, Self::Codex, Self::Copilot, Self::GeminiCli, Self::Qwen, Self::Kiro];

    /// The kind whose provider id is exactly `id` (no aliases: a provider named `gemini` is
    /// the API-key one).
    pub fn of_provider(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.provider_id() == id)
    }

    /// The provider id (catalog entry) of the kind.
    pub fn provider_id(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Copilot => "copilot",
            Self::Qwen => "qwen",
            Self::Kiro => "kiro",
            Self::GeminiCli => "gemini-cli",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Claude => "Claude Code (Claude Pro/Max)",
            Self::Codex => "OpenAI Codex (ChatGPT Plus/Pro)",
            Self::Copilot => "GitHub Copilot",
            Self::Qwen => "Qwen Code",
            Self::Kiro => "Kiro (AWS Builder ID or IAM Identity Center)",
            Self::GeminiCli => "Gemini CLI (Google account)",
        }
    }

    /// What the provider's terms say about using this login from another program: shown
    /// beside every login button and printed by `switchyard login`.
    pub fn terms_risk(self) -> &'static str {
        match self {
            Self::Claude => "Anthropic's consumer terms allow Claude subscriptions through Claude Code and its SDK; using the login from other tools may breach them and get the account limited.",
            Self::Codex => "OpenAI allows the ChatGPT login in Codex clients; heavy use through other tools may be treated as abuse of the plan.",
            Self::Copilot => "GitHub's Copilot terms cover use in supported editors and tools; heavy automated use through a proxy can trip GitHub's abuse detection and suspend Copilot access.",
            Self::Kiro => "Kiro's terms cover use in the Kiro IDE and CLI; using its login from other tools may breach them and get the account suspended.",
            Self::GeminiCli => "HIGH RISK: Gemini CLI's terms say its Google login must not be used from other tools, and Google has blocked accounts doing so (TOS_VIOLATION). Prefer a Gemini API key; sign in here only with an account you accept to lose Code Assist access on.",
            Self::Qwen => "Qwen ended the free Qwen Code OAuth tier on 2026-04-15: new sign-ins are likely refused and saved logins may stop working; kept for accounts that still have access.",
        }
    }

    /// How long before expiry a token is refreshed.
    pub fn refresh_lead(self) -> std::time::Duration {
        let minutes = match self {
            Self::Claude => 4 * 60,
            Self::Codex => 5 * 24 * 60,
            Self::Copilot => 5,
            Self::Qwen => 20,
            Self::Kiro => 10,
            Self::GeminiCli => 5,
        };
        std::time::Duration::from_secs(minutes * 60)
    }
}

impl fmt::Display for LoginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.provider_id())
    }
}

impl FromStr for LoginKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = match s {
            "claude-code" | "anthropic-oauth" => "claude",
            "github" | "github-copilot" => "copilot",
            "qwen-code" => "qwen",
            "gemini" | "google" | "gemini-code-assist" => "gemini-cli",
            other => other,
        };
        Self::ALL.into_iter().find(|k| k.provider_id() == s).ok_or_else(|| {
            format!("no login for '{s}': logins exist for claude, codex, copilot, gemini-cli, qwen and kiro")
        })
    }
}

/// The part of a login that is shown (stored in clear beside the sealed credentials).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginInfo {
    pub kind: LoginKind,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
}

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Error,
    ClientDisconnected,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::ClientDisconnected => "client_disconnected",
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Ok, Self::Error, Self::ClientDisconnected]
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown outcome '{s}': expected ok, error or client_disconnected"))
    }
}
