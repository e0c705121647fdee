//! Imports of what the official CLIs saved on this machine: Claude Code
//! (`~/.claude/.credentials.json`, or on macOS its Keychain entry), Codex (`~/.codex/auth.json`), Qwen Code
//! (`~/.qwen/oauth_creds.json`) and the GitHub Copilot editor plugins
//! (`~/.config/github-copilot/apps.json` or `hosts.json`), and the Kiro IDE
//! (`~/.aws/sso/cache/kiro-auth-token.json`), and Gemini CLI (`~/.gemini/oauth_creds.json`).
//! Nothing is written to those files.

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
        LoginKind::GeminiCli => &[".gemini/oauth_creds.json"],
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
            LoginKind::GeminiCli => super::gemini::parse_creds_file(&value, path.parent().unwrap_or(home)),
            _ => parse(kind, &value),
        };
        let creds = parsed
            .ok_or_else(|| LoginError::NothingToImport(format!("~/{relative} holds no {} login", kind.name())))?;
        return Ok((creds, path));
    }
    if kind == LoginKind::Claude {
        if let Some(program) = keychain_program() {
            tried.push(format!("the macOS Keychain entry \"{CLAUDE_KEYCHAIN_SERVICE}\""));
            if let Some(creds) = read_keychain(&program, CLAUDE_KEYCHAIN_SERVICE)
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                .and_then(|value| parse(kind, &value))
            {
                return Ok((creds, PathBuf::from(format!("macOS Keychain: {CLAUDE_KEYCHAIN_SERVICE}"))));
            }
        }
    }
    Err(LoginError::NothingToImport(format!(
        "no {} login saved on this machine (looked for {}); sign in with `switchyard login {}`",
        kind.name(),
        tried.join(", "),
        kind.provider_id()
    )))
}

/// The generic password Claude Code keeps its login in on macOS (the same JSON as its file).
pub const CLAUDE_KEYCHAIN_SERVICE: &str = "Claude Code-credentials";

/// macOS's Keychain tool (elsewhere there is no Keychain to read).
fn keychain_program() -> Option<PathBuf> {
    cfg!(target_os = "macos").then(|| PathBuf::from("/usr/bin/security"))
}

/// The password of a generic Keychain item, through `security find-generic-password -s
/// SERVICE -w` (macOS asks the user to allow it). `security` prints a password that is not
/// plain text as hex; that is decoded.
pub fn read_keychain(program: &Path, service: &str) -> Option<String> {
    let out = std::process::Command::new(program)
        .args(["find-generic-password", "-s", service, "-w"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let is_hex = !text.is_empty() && text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex {
        return hex::decode(&text).ok().and_then(|bytes| String::from_utf8(bytes).ok());
    }
    (!text.is_empty()).then_some(text)
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
        LoginKind::Kiro | LoginKind::GeminiCli => None,
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

    /// `security` stood in by a script that answers as macOS's does for Claude Code's item
    /// (plain, then hex-encoded), and fails for any other.
    #[cfg(unix)]
    #[test]
    fn claude_codes_keychain_entry_is_read_through_security() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let saved = r#"{"claudeAiOauth":{"accessToken":"sk-ant-oat01-k","refreshToken":"sk-ant-ort01-k","expiresAt":1767225600000,"subscriptionType":"pro"}}"#;
        let mut answers = Vec::new();
        for (name, printed) in [("plain", saved.to_string()), ("hex", hex::encode(saved))] {
            let program = dir.path().join(name);
            let script = format!(
                "#!/bin/sh\n[ \"$1 $2 $3 $4\" = 'find-generic-password -s {CLAUDE_KEYCHAIN_SERVICE} -w' ] || exit 44\necho '{printed}'\n"
            );
            std::fs::write(&program, script).unwrap();
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
            answers.push(read_keychain(&program, CLAUDE_KEYCHAIN_SERVICE));
            assert_eq!(read_keychain(&program, "Other-credentials"), None, "an item that is not there");
        }
        for answer in answers {
            let creds = parse(LoginKind::Claude, &serde_json::from_str(&answer.unwrap()).unwrap()).unwrap();
            assert_eq!((creds.access_token.as_str(), creds.plan.as_deref()), ("sk-ant-oat01-k", Some("pro")));
        }
    }
}
