//! Imports of what the official CLIs saved on this machine: Claude Code
//! (`~/.claude/.credentials.json`), Codex (`~/.codex/auth.json`), Qwen Code
//! (`~/.qwen/oauth_creds.json`) and the GitHub Copilot editor plugins
//! (`~/.config/github-copilot/apps.json` or `hosts.json`), and the Kiro IDE
//! (`~/.aws/sso/cache/kiro-auth-token.json`). Nothing is written to those files.

use super::{Credentials, LoginError, LoginKind};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The files a kind's CLI keeps its login in, relative to the home folder, in the order read.
pub fn sources(kind: LoginKind) -> &'static [&'static str] {
    match kind {
        LoginKind::Claude => &[".claude/.credentials.json"],
        LoginKind::Codex => &[".codex/auth.json"],
        LoginKind::Qwen => &[".qwen/oauth_creds.json"],
        LoginKind::Copilot => &[".config/github-copilot/apps.json", ".config/github-copilot/hosts.json"],
        LoginKind::Kiro => &[".aws/sso/cache/kiro-auth-token.json"],
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The login saved by `kind`'s official CLI under `home`, and the file it came from.
pub fn read(kind: LoginKind, home: &Path) -> Result<(Credentials, PathBuf), LoginError> {
    let mut tried = Vec::new();
    for relative in sources(kind) {
        let path = home.join(relative);
        let Ok(raw) = std::fs::read_to_string(&path) else {
            tried.push(format!("~/{relative}"));
            continue;
        };
        let value: Value = serde_json::from_str(&raw)
            .map_err(|e| LoginError::Flow(format!("~/{relative} is not valid JSON ({e}); nothing was imported")))?;
        let parsed = match kind {
            LoginKind::Kiro => super::kiro::parse_token_file(&value, path.parent().unwrap_or(home)),
            _ => parse(kind, &value),
        };
        let creds = parsed
            .ok_or_else(|| LoginError::NothingToImport(format!("~/{relative} holds no {} login", kind.name())))?;
        return Ok((creds, path));
    }
    Err(LoginError::NothingToImport(format!(
        "no {} login saved on this machine (looked for {}); sign in with `switchyard login {}`",
        kind.name(),
        tried.join(", "),
        kind.provider_id()
    )))
}

/// The login in one of `kind`'s files.
pub fn parse(kind: LoginKind, v: &Value) -> Option<Credentials> {
    match kind {
        LoginKind::Claude => {
            let o = v.get("claudeAiOauth")?;
            let mut c = Credentials::new(kind, text(o, "accessToken")?);
            c.refresh_token = text(o, "refreshToken");
            c.expires_at_ms = o.get("expiresAt").and_then(Value::as_i64);
            c.plan = text(o, "subscriptionType");
            Some(c)
        }
        LoginKind::Codex => {
            let t = v.get("tokens")?;
            let mut c = super::tokens::credentials_from(kind, t, None);
            if c.access_token.is_empty() {
                return None;
            }
            c.account_id = text(t, "account_id").or(c.account_id);
            c.expires_at_ms = super::jwt_claims(&c.access_token)
                .and_then(|claims| claims.get("exp").and_then(Value::as_i64))
                .map(|s| s * 1000);
            Some(c)
        }
        LoginKind::Qwen => {
            let mut c = Credentials::new(kind, text(v, "access_token")?);
            c.refresh_token = text(v, "refresh_token");
            c.expires_at_ms = v.get("expiry_date").and_then(Value::as_i64);
            c.resource_url = text(v, "resource_url");
            Some(c)
        }
        LoginKind::Kiro => None,
        LoginKind::Copilot => {
            // {"github.com:CLIENT_ID": {"user": "...", "oauth_token": "ghu_..."}}
            let (_, entry) = v
                .as_object()?
                .iter()
                .find(|(host, e)| host.starts_with("github.com") && e.get("oauth_token").is_some())?;
            let mut c = Credentials::new(kind, "");
            c.github_token = text(entry, "oauth_token");
            c.email = text(entry, "user");
            Some(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_cli_file_format_is_read() {
        let claude = parse(
            LoginKind::Claude,
            &json!({"claudeAiOauth": {"accessToken": "sk-ant-oat01-a", "refreshToken": "sk-ant-ort01-r", "expiresAt": 1767225600000i64, "scopes": ["user:inference"], "subscriptionType": "max"}}),
        )
        .unwrap();
        assert_eq!(
            (claude.refresh_token.as_deref(), claude.expires_at_ms, claude.plan.as_deref()),
            (Some("sk-ant-ort01-r"), Some(1767225600000), Some("max"))
        );
        let qwen = parse(
            LoginKind::Qwen,
            &json!({"access_token": "q", "refresh_token": "r", "resource_url": "portal.qwen.ai", "expiry_date": 5}),
        )
        .unwrap();
        assert_eq!((qwen.resource_url.as_deref(), qwen.expires_at_ms), (Some("portal.qwen.ai"), Some(5)));
        let copilot = parse(
            LoginKind::Copilot,
            &json!({"github.com:Iv1.b507a08c87ecfe98": {"user": "octo", "oauth_token": "ghu_x"}}),
        )
        .unwrap();
        assert_eq!(copilot.github_token.as_deref(), Some("ghu_x"));
        assert!(
            parse(LoginKind::Codex, &json!({"OPENAI_API_KEY": "sk-x"})).is_none(),
            "an API-key-only auth.json is no login"
        );
    }
}
