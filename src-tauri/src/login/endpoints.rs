//! The endpoints each login flow uses, with the official CLIs' public client ids. Each URL is
//! a setting (`login.PROVIDER.NAME`, e.g. `login.codex.token-url`) so tests and corporate
//! proxies can point a flow elsewhere; the defaults are the providers' own.

use super::LoginKind;
use std::collections::BTreeMap;

/// (name, default) of every endpoint of a kind.
pub fn defaults(kind: LoginKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        LoginKind::Claude => &[
            ("authorize-url", "https://claude.ai/oauth/authorize"),
            ("token-url", "https://platform.claude.com/v1/oauth/token"),
            ("usage-url", "https://api.anthropic.com/api/oauth/usage"),
        ],
        LoginKind::Codex => &[
            ("authorize-url", "https://auth.openai.com/oauth/authorize"),
            ("token-url", "https://auth.openai.com/oauth/token"),
            ("callback-port", "1455"),
            ("usage-url", "https://chatgpt.com/backend-api/wham/usage"),
        ],
        LoginKind::Copilot => &[
            ("device-code-url", "https://github.com/login/device/code"),
            ("token-url", "https://github.com/login/oauth/access_token"),
            ("copilot-token-url", "https://api.github.com/copilot_internal/v2/token"),
            ("usage-url", "https://api.github.com/copilot_internal/user"),
        ],
        LoginKind::Qwen => &[
            ("device-code-url", "https://chat.qwen.ai/api/v1/oauth2/device/code"),
            ("token-url", "https://chat.qwen.ai/api/v1/oauth2/token"),
        ],
        LoginKind::GeminiCli => &[
            ("authorize-url", "https://accounts.google.com/o/oauth2/v2/auth"),
            ("token-url", "https://oauth2.googleapis.com/token"),
            ("userinfo-url", "https://www.googleapis.com/oauth2/v2/userinfo"),
            ("code-assist-url", "https://cloudcode-pa.googleapis.com/v1internal"),
            // The Google Cloud project of a Code Assist Standard/Enterprise seat (empty: the
            // one Code Assist assigns).
            ("project", ""),
            // Empty: the one of the Gemini CLI installed here (see `gemini::client_secret`).
            ("client-secret", ""),
        ],
        LoginKind::Kiro => &[
            // Builder ID's; an IAM Identity Center login sets its own start URL and region (the
            // OIDC endpoint follows the region unless set).
            ("oidc-url", "https://oidc.us-east-1.amazonaws.com"),
            ("start-url", "https://view.awsapps.com/start"),
            ("region", "us-east-1"),
            ("profiles-url", "https://codewhisperer.us-east-1.amazonaws.com"),
            ("social-refresh-url", "https://prod.us-east-1.auth.desktop.kiro.dev/refreshToken"),
            ("usage-url", "https://q.us-east-1.amazonaws.com/getUsageLimits"),
        ],
    }
}

/// The endpoint settings a user may need to fill in before signing in (name, label, help),
/// shown beside the login button.
pub fn user_options(kind: LoginKind) -> &'static [(&'static str, &'static str, &'static str)] {
    match kind {
        LoginKind::GeminiCli => &[(
            "project",
            "Google Cloud project",
            "only for a Code Assist Standard/Enterprise seat; empty: the project Code Assist assigns",
        )],
        LoginKind::Kiro => &[
            ("start-url", "Start URL", "your organisation's IAM Identity Center start URL; empty: AWS Builder ID"),
            ("region", "Region", "the Identity Center's AWS region (such as eu-central-1)"),
        ],
        _ => &[],
    }
}

/// The public OAuth client id of the official CLI.
pub fn client_id(kind: LoginKind) -> &'static str {
    match kind {
        LoginKind::Claude => "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
        LoginKind::Codex => "app_EMoamEEZ73f0CkXaXp7hrann",
        LoginKind::Copilot => "Iv1.b507a08c87ecfe98",
        LoginKind::Qwen => "f0304373b74a44d2b584a3fb70ca9e56",
        LoginKind::GeminiCli => "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com",
        // Kiro's client is registered per login (AWS SSO OIDC).
        LoginKind::Kiro => "",
    }
}

/// The setting that overrides an endpoint.
pub fn setting_name(kind: LoginKind, name: &str) -> String {
    format!("login.{}.{name}", kind.provider_id())
}

/// Checks a `login.PROVIDER.NAME` setting and its value.
pub fn validate(key: &str, value: &str) -> Result<(), String> {
    let mut parts = key.splitn(3, '.');
    let (Some("login"), Some(provider), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("'{key}' is not a login endpoint setting (login.PROVIDER.NAME)"));
    };
    let kind = LoginKind::of_provider(provider).ok_or_else(|| {
        let ids: Vec<&str> = LoginKind::ALL.iter().map(|k| k.provider_id()).collect();
        format!("no login for '{provider}': logins exist for {}", ids.join(", "))
    })?;
    if !defaults(kind).iter().any(|(n, _)| *n == name) {
        let names: Vec<&str> = defaults(kind).iter().map(|(n, _)| *n).collect();
        return Err(format!("{provider} has no endpoint '{name}': it has {}", names.join(", ")));
    }
    if value.is_empty() {
        return Ok(());
    }
    if name == "client-secret" {
        return Ok(());
    }
    if name == "region" {
        let parts: Vec<&str> = value.split('-').collect();
        let ok = parts.len() >= 3
            && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        return if ok { Ok(()) } else { Err(format!("'{value}' is not an AWS region (such as eu-central-1)")) };
    }
    if name == "project" {
        let ok = value.len() <= 64 && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.'));
        return if ok { Ok(()) } else { Err(format!("'{value}' is not a Google Cloud project id")) };
    }
    if name.ends_with("-port") {
        return value.parse::<u16>().map(|_| ()).map_err(|_| format!("'{value}' is not a port"));
    }
    let url = reqwest::Url::parse(value).map_err(|e| format!("'{value}' is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("'{value}' must be http:// or https://"));
    }
    Ok(())
}

/// The endpoints of a kind in force: the settings (`login.*` rows) over the defaults.
#[derive(Debug, Clone)]
pub struct Endpoints {
    kind: LoginKind,
    overrides: BTreeMap<String, String>,
}

impl Endpoints {
    pub fn new(kind: LoginKind, settings: &BTreeMap<String, String>) -> Self {
        let prefix = format!("login.{}.", kind.provider_id());
        // A stored value that no longer passes (an endpoint renamed since) is left out.
        let overrides = settings
            .iter()
            .filter(|(k, v)| validate(k, v).is_ok())
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone())))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Self { kind, overrides }
    }

    /// The endpoint `name` when a setting names it (None: the default is in force).
    pub fn overridden(&self, name: &str) -> Option<String> {
        self.overrides.get(name).cloned()
    }

    /// The endpoint `name` (one of `defaults`).
    pub fn get(&self, name: &str) -> String {
        self.overrides.get(name).cloned().unwrap_or_else(|| {
            defaults(self.kind).iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()).unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_override_defaults_and_are_checked() {
        let mut rows = BTreeMap::new();
        rows.insert("login.codex.token-url".to_string(), "http://127.0.0.1:9/token".to_string());
        let codex = Endpoints::new(LoginKind::Codex, &rows);
        assert_eq!(codex.get("token-url"), "http://127.0.0.1:9/token");
        assert_eq!(codex.get("authorize-url"), "https://auth.openai.com/oauth/authorize");
        assert_eq!(Endpoints::new(LoginKind::Claude, &rows).get("token-url"), defaults(LoginKind::Claude)[1].1);
        assert!(validate("login.codex.token-url", "http://x/t").is_ok());
        assert!(validate("login.codex.nope", "http://x").unwrap_err().contains("no endpoint"));
        assert!(validate("login.codex.token-url", "ftp://x").is_err());
        assert!(validate("login.codex.callback-port", "1456").is_ok());
        assert!(validate("login.gemini.token-url", "http://x").unwrap_err().contains("no login"));
        assert!(validate("login.gemini-cli.project", "my-project-123").is_ok());
        assert!(validate("login.gemini-cli.project", "no spaces").is_err());
        assert!(validate("login.kiro.region", "eu-central-1").is_ok());
        assert!(validate("login.kiro.region", "Frankfurt").is_err());
    }
}
