//! Subscription logins: accounts that hold an OAuth login of an official coding CLI instead of
//! an API key (Claude Code, OpenAI Codex, GitHub Copilot, Gemini CLI, Qwen Code, Kiro). This
//! module owns the
//! flows that make one (`authcode`: authorization code with PKCE and a localhost callback or
//! a pasted URL; `device`: device code), the import of what the official CLIs saved on this
//! machine (`import`), the token lifecycle on the request path (`tokens`: refresh ahead of
//! expiry and once after a 401, one refresh at a time per account, the new token stored
//! sealed), and quotas (`quota`). Every endpoint a flow uses is a setting (`endpoints`).

pub mod authcode;
pub mod codex;
pub mod device;
pub mod endpoints;
pub mod gemini;
pub mod import;
pub mod kiro;
pub mod pkce;
pub mod quota;
pub mod tokens;

use serde::{Deserialize, Serialize};

pub use crate::base::kinds::{LoginInfo, LoginKind};

/// A login's tokens and what belongs with them; stored sealed as the account's secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub kind: LoginKind,
    /// What requests carry (Copilot: the short-lived Copilot token).
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
    /// When the access token was issued, Unix ms (a refresh comes no sooner than half its
    /// life, whatever the kind's lead time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obtained_at_ms: Option<i64>,
    /// Codex: the OpenAI id token (its claims name the ChatGPT account and plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Codex: the ChatGPT account the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Copilot: the GitHub token the Copilot token is minted from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_token: Option<String>,
    /// Qwen: the API host this token works at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_url: Option<String>,
    /// Kiro: the OIDC client the token was issued to (it refreshes the token); Gemini CLI: the
    /// OAuth client secret the login was made with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Kiro: the CodeWhisperer profile requests name, its region, and how the user signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
    /// Gemini CLI: the Google Cloud project Code Assist requests name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

impl Credentials {
    pub fn new(kind: LoginKind, access_token: impl Into<String>) -> Self {
        Self {
            kind,
            access_token: access_token.into(),
            refresh_token: None,
            expires_at_ms: None,
            obtained_at_ms: None,
            id_token: None,
            account_id: None,
            github_token: None,
            resource_url: None,
            client_id: None,
            client_secret: None,
            profile_arn: None,
            region: None,
            auth_method: None,
            project: None,
            email: None,
            plan: None,
        }
    }

    /// What may be shown about the login (no token).
    pub fn info(&self) -> LoginInfo {
        LoginInfo {
            kind: self.kind,
            email: self.email.clone(),
            plan: self.plan.clone(),
            expires_at_ms: self.expires_at_ms,
        }
    }

    /// The token is due for a refresh: it expires within `lead` of `now_ms` (or has expired).
    /// A token that lives less than twice the lead is refreshed at half its life instead.
    pub fn expires_within(&self, now_ms: i64, lead: std::time::Duration) -> bool {
        let Some(at) = self.expires_at_ms else { return false };
        let lead = lead.as_millis() as i64;
        let lead = self.obtained_at_ms.map_or(lead, |from| lead.min((at - from) / 2));
        at - now_ms <= lead
    }
}

/// What went wrong in a login, a refresh or an import.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("{0}")]
    Flow(String),
    #[error("the login was refused: {0}")]
    Refused(String),
    #[error("the login expired or was revoked ({0}): sign in again with `switchyard login {1}`")]
    NeedsLogin(String, LoginKind),
    #[error("cannot reach {url}: {reason}")]
    Network { url: String, reason: String },
    #[error("nothing to import: {0}")]
    NothingToImport(String),
}

impl LoginError {
    /// What becomes of a request to `url` that got no answer (for `map_err`).
    pub fn network(url: &str) -> impl Fn(reqwest::Error) -> LoginError + Copy + '_ {
        move |e| LoginError::Network { url: url.to_string(), reason: crate::base::error_chain(&e) }
    }
}

/// Now, in Unix ms.
pub use crate::base::now_ms;

/// The claims of a JWT (not verified: it came from the issuer over TLS and is only read for
/// who it belongs to).
pub fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}
