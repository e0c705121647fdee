//! Gemini CLI's Google login and what Code Assist needs after it: the OAuth client's secret
//! (Google's installed-app secret, read from the user's own Gemini CLI install or a setting,
//! never shipped here), the account's email, the Code Assist project (`loadCodeAssist`, then
//! `onboardUser` and its long-running operation for a first sign-in), the per-model quota
//! buckets (`retrieveUserQuota`), and the import of `~/.gemini/oauth_creds.json`.

use super::endpoints::Endpoints;
use super::quota::Window;
use super::{Credentials, LoginError, LoginKind};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// The scopes Gemini CLI asks for.
pub const SCOPES: &str = "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile";

/// The marker Google puts before its OAuth client secrets.
const SECRET_PREFIX: &str = "GOCSPX-";

/// The client secret of Gemini CLI's OAuth client: the `login.gemini-cli.client-secret`
/// setting, else the one the login was made with (`saved`), else
/// `GEMINI_CLI_OAUTH_CLIENT_SECRET`, else the one in the Gemini CLI installed on this machine
/// (Google's installed-app secrets are public by design, but Switchyard does not redistribute
/// Google's). A login keeps the secret it was made with, so the gateway can refresh it even
/// where Gemini CLI is not on its PATH.
pub fn client_secret(endpoints: &Endpoints, saved: Option<&str>) -> Result<String, LoginError> {
    let set = endpoints.get("client-secret");
    if !set.is_empty() {
        return Ok(set);
    }
    if let Some(saved) = saved.filter(|s| !s.is_empty()) {
        return Ok(saved.to_string());
    }
    if let Ok(env) = std::env::var("GEMINI_CLI_OAUTH_CLIENT_SECRET") {
        if !env.trim().is_empty() {
            return Ok(env.trim().to_string());
        }
    }
    static INSTALLED: OnceLock<Option<String>> = OnceLock::new();
    INSTALLED.get_or_init(installed_cli_secret).clone().ok_or_else(|| {
        LoginError::Flow(
            "Gemini CLI's OAuth client was not found on this machine: install Gemini CLI (`npm install -g @google/gemini-cli`) so that `gemini` is on PATH, or set `login.gemini-cli.client-secret`".into(),
        )
    })
}

/// The secret in the Gemini CLI found on PATH.
fn installed_cli_secret() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let exe = std::fs::canonicalize(dir.join("gemini")).ok()?;
        let root = exe.ancestors().find(|d| is_gemini_cli_package(d))?.to_path_buf();
        scripts_of(&root).iter().find_map(|file| secret_in(&std::fs::read(file).ok()?))
    })
}

fn is_gemini_cli_package(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .is_some_and(|v| v["name"] == "@google/gemini-cli")
}

/// The scripts of the package that may hold the OAuth client: its bundle (recent releases) or
/// the core package's `code_assist/oauth2.js` (older ones).
fn scripts_of(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("bundle"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .collect();
    files.sort();
    for core in [root.join("node_modules/@google/gemini-cli-core"), root.join("../gemini-cli-core")] {
        files.push(core.join("dist/src/code_assist/oauth2.js"));
    }
    files
}

/// The client secret assigned in a script (`OAUTH_CLIENT_SECRET = "GOCSPX-…"`).
fn secret_in(script: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(script);
    text.match_indices("OAUTH_CLIENT_SECRET").find_map(|(at, name)| {
        let rest = &text[at + name.len()..];
        let start = rest.find(SECRET_PREFIX).filter(|start| *start <= 8)?;
        let secret: String =
            rest[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
        (secret.len() > SECRET_PREFIX.len() + 8).then_some(secret)
    })
}

/// A Gemini CLI login that has no Code Assist project yet (imported while Google could not
/// be reached).
pub fn needs_set_up(creds: &Credentials) -> bool {
    creds.kind == crate::login::LoginKind::GeminiCli && creds.project.is_none()
}

/// Finds what an imported login still lacks: its email (best effort) and its Code Assist
/// project and tier.
pub async fn complete(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    mut creds: Credentials,
) -> Result<Credentials, LoginError> {
    if creds.email.is_none() {
        match email(http, endpoints, &creds.access_token).await {
            Ok(found) => creds.email = found,
            Err(e) => tracing::debug!("no email for the Gemini CLI login yet: {e}"),
        }
    }
    set_up(http, endpoints, creds, Duration::from_secs(1)).await
}

/// The email of the Google account the token belongs to.
pub async fn email(http: &reqwest::Client, endpoints: &Endpoints, token: &str) -> Result<Option<String>, LoginError> {
    let url = endpoints.get("userinfo-url");
    let response = http.get(&url).bearer_auth(token).send().await.map_err(LoginError::network(&url))?;
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Ok(body["email"].as_str().map(str::to_string))
}

/// Posts a Code Assist method (`loadCodeAssist`, `onboardUser`, `retrieveUserQuota`).
async fn call(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    token: &str,
    method: &str,
    body: &Value,
) -> Result<Value, LoginError> {
    let url = format!("{}:{method}", endpoints.get("code-assist-url").trim_end_matches('/'));
    let response = http.post(&url).bearer_auth(token).json(body).send().await.map_err(LoginError::network(&url))?;
    answer(&url, response).await
}

async fn answer(url: &str, response: reqwest::Response) -> Result<Value, LoginError> {
    let status = response.status().as_u16();
    let text = response.text().await.map_err(LoginError::network(url))?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let why = body.pointer("/error/message").and_then(Value::as_str).map(str::to_string);
    let why = why.unwrap_or_else(|| text.chars().take(300).collect());
    let reason = body.pointer("/error/details/0/reason").and_then(Value::as_str).unwrap_or_default();
    let message = format!("Code Assist answered {status} to {url}: {why}");
    Err(match (status, reason) {
        (_, "TOS_VIOLATION") => {
            LoginError::Refused(format!("{message} (Google has blocked this account's Code Assist use)"))
        }
        (401, _) => LoginError::NeedsLogin(message, LoginKind::GeminiCli),
        _ => LoginError::Flow(message),
    })
}

/// The project the user set for Code Assist (a setting, else Gemini CLI's own variables).
fn chosen_project(endpoints: &Endpoints) -> Option<String> {
    let set = endpoints.get("project");
    if !set.is_empty() {
        return Some(set);
    }
    ["GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT_ID"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

fn metadata(project: Option<&str>) -> Value {
    let mut m = json!({"ideType": "IDE_UNSPECIFIED", "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"});
    if let Some(p) = project {
        m["duetProject"] = json!(p);
    }
    m
}

/// A project named as a string or as `{"id": …}`.
fn project_id(v: &Value) -> Option<String> {
    v.as_str().or_else(|| v["id"].as_str()).filter(|s| !s.is_empty()).map(str::to_string)
}

fn needs_project(load: &Value) -> LoginError {
    let reasons: Vec<String> = load["ineligibleTiers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["reasonMessage"].as_str().map(str::to_string))
        .collect();
    let mut why = "this Google account's Code Assist tier needs a Google Cloud project: set it with `switchyard settings set login.gemini-cli.project PROJECT_ID` (or GOOGLE_CLOUD_PROJECT) and sign in again".to_string();
    if !reasons.is_empty() {
        why = format!("{} ({why})", reasons.join("; "));
    }
    LoginError::Flow(why)
}

/// Finds (or, on a first sign-in, sets up) the Code Assist project of the login, and its
/// tier as the plan. An onboarding is polled every five `poll_unit`s.
pub async fn set_up(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    mut creds: Credentials,
    poll_unit: Duration,
) -> Result<Credentials, LoginError> {
    let token = creds.access_token.clone();
    let chosen = chosen_project(endpoints);
    let mut load_body = json!({"metadata": metadata(chosen.as_deref())});
    if let Some(p) = &chosen {
        load_body["cloudaicompanionProject"] = json!(p);
    }
    let load = call(http, endpoints, &token, "loadCodeAssist", &load_body).await?;
    if load["currentTier"].is_object() {
        let project = project_id(&load["cloudaicompanionProject"]).or(chosen).ok_or_else(|| needs_project(&load))?;
        creds.project = Some(project);
        creds.plan = load["paidTier"]["id"].as_str().or(load["currentTier"]["id"].as_str()).map(str::to_string);
        return Ok(creds);
    }
    let tiers = load["allowedTiers"].as_array().cloned().unwrap_or_default();
    let tier = tiers.iter().find(|t| t["isDefault"] == true).cloned().unwrap_or_else(|| json!({"id": "legacy-tier"}));
    let tier_id = tier["id"].as_str().unwrap_or("legacy-tier").to_string();
    let free = tier_id == "free-tier";
    if tier["userDefinedCloudaicompanionProject"] == true && chosen.is_none() {
        return Err(needs_project(&load));
    }
    let mut onboard = json!({"tierId": tier_id, "metadata": metadata(if free { None } else { chosen.as_deref() })});
    if let (false, Some(p)) = (free, &chosen) {
        onboard["cloudaicompanionProject"] = json!(p);
    }
    let mut operation = call(http, endpoints, &token, "onboardUser", &onboard).await?;
    for _ in 0..60 {
        if operation["done"] == true {
            break;
        }
        tokio::time::sleep(poll_unit * 5).await;
        let name = operation["name"].as_str().unwrap_or_default();
        if name.is_empty() {
            operation = call(http, endpoints, &token, "onboardUser", &onboard).await?;
            continue;
        }
        let url = format!("{}/{name}", endpoints.get("code-assist-url").trim_end_matches('/'));
        let response = http.get(&url).bearer_auth(&token).send().await.map_err(LoginError::network(&url))?;
        operation = answer(&url, response).await?;
    }
    if operation["done"] != true {
        return Err(LoginError::Flow("Code Assist did not finish setting up the account within 5 minutes".into()));
    }
    let project = project_id(&operation["response"]["cloudaicompanionProject"]).or(chosen);
    creds.project = Some(project.ok_or_else(|| needs_project(&load))?);
    creds.plan = Some(tier_id);
    Ok(creds)
}

/// The quota buckets of the login's project: one window per model (and token type), used
/// up when nothing remains.
pub async fn quota(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    creds: &Credentials,
) -> Result<Vec<Window>, LoginError> {
    let body = json!({"project": creds.project.clone().unwrap_or_default()});
    let answer = call(http, endpoints, &creds.access_token, "retrieveUserQuota", &body).await?;
    Ok(parse_quota(&answer))
}

/// `retrieveUserQuota`'s answer: `buckets[]` of `{modelId, tokenType, remainingFraction, resetTime}`.
pub fn parse_quota(v: &Value) -> Vec<Window> {
    v["buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let model = b["modelId"].as_str()?.to_string();
            let remaining = b["remainingFraction"].as_f64()?;
            let name = match b["tokenType"].as_str() {
                Some(t) if !t.eq_ignore_ascii_case("REQUESTS") => format!("{model} {}", t.to_lowercase()),
                _ => model.clone(),
            };
            Some(Window {
                name,
                used_percent: super::quota::percent(1.0 - remaining),
                resets_at_ms: super::quota::rfc3339_ms(&b["resetTime"]),
                model: Some(model),
            })
        })
        .collect()
}

/// `~/.gemini/oauth_creds.json`: the token answer as Google gave it, with `expiry_date` (ms);
/// the email from its id token, else `google_accounts.json` beside it.
pub fn parse_creds_file(v: &Value, dir: &Path) -> Option<Credentials> {
    let text = |key: &str| v[key].as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let mut c = Credentials::new(LoginKind::GeminiCli, text("access_token").unwrap_or_default());
    c.refresh_token = text("refresh_token");
    c.refresh_token.as_ref()?;
    c.expires_at_ms = v["expiry_date"].as_i64();
    c.id_token = text("id_token");
    c.email = c
        .id_token
        .as_deref()
        .and_then(super::jwt_claims)
        .and_then(|claims| claims["email"].as_str().map(str::to_string));
    if c.email.is_none() {
        let accounts = std::fs::read_to_string(dir.join("google_accounts.json")).ok();
        let accounts: Option<Value> = accounts.and_then(|t| serde_json::from_str(&t).ok());
        c.email = accounts.and_then(|a| a["active"].as_str().map(str::to_string));
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_secret_is_read_from_the_installed_script() {
        let script = br#"var OAUTH_CLIENT_ID = "1-x.apps.googleusercontent.com";
var OAUTH_CLIENT_SECRET = "GOCSPX-abcdefghijklmnop_qr-st";
var OAUTH_SCOPE = [];"#;
        assert_eq!(secret_in(script).as_deref(), Some("GOCSPX-abcdefghijklmnop_qr-st"));
        assert_eq!(secret_in(b"var OTHER = \"GOCSPX-abcdefghijklmnop\";"), None);
        let used_first = br#"f({secret: OAUTH_CLIENT_SECRET}); var OAUTH_CLIENT_SECRET = "GOCSPX-abcdefghijklmnop";"#;
        assert_eq!(secret_in(used_first).as_deref(), Some("GOCSPX-abcdefghijklmnop"));
        let endpoints = Endpoints::new(
            LoginKind::GeminiCli,
            &[("login.gemini-cli.client-secret".to_string(), "set-here".to_string())].into(),
        );
        assert_eq!(client_secret(&endpoints, Some("saved")).unwrap(), "set-here");
        let unset = Endpoints::new(LoginKind::GeminiCli, &Default::default());
        assert_eq!(client_secret(&unset, Some("saved")).unwrap(), "saved");
    }

    #[test]
    fn quota_buckets_become_windows_per_model() {
        let windows = parse_quota(&json!({"buckets": [
            {"remainingAmount": "0", "remainingFraction": 0.0, "resetTime": "2026-12-03T00:00:00Z", "tokenType": "REQUESTS", "modelId": "gemini-2.5-pro"},
            {"remainingFraction": 0.75, "resetTime": "2026-12-03T00:00:00Z", "tokenType": "REQUESTS", "modelId": "gemini-2.5-flash"}
        ]}));
        assert_eq!(windows.len(), 2);
        assert_eq!((windows[0].name.as_str(), windows[0].used_percent), ("gemini-2.5-pro", 100.0));
        assert_eq!(windows[0].model.as_deref(), Some("gemini-2.5-pro"));
        assert_eq!(windows[1].used_percent, 25.0);
        assert_eq!(windows[0].resets_at_ms, Some(1796256000000));
    }

    #[test]
    fn the_saved_login_is_read_with_its_email() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("google_accounts.json"), r#"{"active":"me@gmail.com","old":[]}"#).unwrap();
        let file = json!({"access_token": "ya29.a", "refresh_token": "1//r", "scope": SCOPES, "token_type": "Bearer", "expiry_date": 1796256000000i64});
        let c = parse_creds_file(&file, dir.path()).unwrap();
        assert_eq!((c.refresh_token.as_deref(), c.expires_at_ms), (Some("1//r"), Some(1796256000000)));
        assert_eq!(c.email.as_deref(), Some("me@gmail.com"));
        assert!(parse_creds_file(&json!({"access_token": "a"}), dir.path()).is_none(), "no refresh token");
    }
}
