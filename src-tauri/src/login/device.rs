//! The device-code flow (RFC 8628) as GitHub and Qwen run it: ask for a code, show the user
//! its code and URL, then poll the token endpoint at the interval the server asks, slowing
//! down by 5 s on `slow_down`, until the user approves, denies, or the code expires. Qwen's
//! variant adds PKCE.

use super::endpoints::{client_id, Endpoints};
use super::pkce::Pkce;
use super::{LoginError, LoginKind};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    #[serde(default = "default_expiry")]
    pub expires_in: u64,
    #[serde(default = "default_interval")]
    pub interval: u64,
}

fn default_expiry() -> u64 {
    900
}

fn default_interval() -> u64 {
    5
}

fn scope(kind: LoginKind) -> &'static str {
    match kind {
        LoginKind::Copilot => "read:user",
        _ => "openid profile email model.completion",
    }
}

/// Posts a form and reads a JSON answer, whatever its status (OAuth errors come as 400s).
pub async fn post_form(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Result<(u16, Value), LoginError> {
    let network = LoginError::network(url);
    let response =
        http.post(url).header(http::header::ACCEPT, "application/json").form(form).send().await.map_err(network)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(network)?;
    let value = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.chars().take(300).collect()));
    Ok((status, value))
}

/// Asks for a device code.
pub async fn start(
    http: &reqwest::Client,
    kind: LoginKind,
    endpoints: &Endpoints,
    pkce: Option<&Pkce>,
) -> Result<DeviceCode, LoginError> {
    let url = endpoints.get("device-code-url");
    let mut form = vec![("client_id", client_id(kind)), ("scope", scope(kind))];
    if let Some(p) = pkce {
        form.push(("code_challenge", p.challenge.as_str()));
        form.push(("code_challenge_method", "S256"));
    }
    let (status, body) = post_form(http, &url, &form).await?;
    if !(200..300).contains(&status) {
        return Err(LoginError::Refused(format!("{url} answered {status}: {body}")));
    }
    serde_json::from_value(body.clone())
        .map_err(|e| LoginError::Flow(format!("{url} sent a device code that cannot be read ({e}): {body}")))
}

/// Polls until the user has approved; returns the token endpoint's answer. `wait` sleeps
/// (tests pass a short one).
pub async fn poll(
    http: &reqwest::Client,
    kind: LoginKind,
    endpoints: &Endpoints,
    code: &DeviceCode,
    pkce: Option<&Pkce>,
    unit: Duration,
) -> Result<Value, LoginError> {
    let url = endpoints.get("token-url");
    let mut interval = code.interval.max(1);
    let deadline = tokio::time::Instant::now() + unit * code.expires_in as u32;
    let mut form = vec![
        ("client_id", client_id(kind)),
        ("device_code", code.device_code.as_str()),
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
    ];
    if let Some(p) = pkce {
        form.push(("code_verifier", p.verifier.as_str()));
    }
    loop {
        tokio::time::sleep(unit * interval as u32).await;
        if tokio::time::Instant::now() > deadline {
            return Err(LoginError::Flow("the device code expired before it was approved; run the login again".into()));
        }
        let (status, body) = post_form(http, &url, &form).await?;
        match body.get("error").and_then(Value::as_str) {
            Some("authorization_pending") => continue,
            Some("slow_down") => {
                interval += 5;
                continue;
            }
            Some("expired_token") => {
                return Err(LoginError::Flow(
                    "the device code expired before it was approved; run the login again".into(),
                ))
            }
            Some("access_denied") => return Err(LoginError::Refused("the request was denied in the browser".into())),
            Some(other) => {
                let why = body.get("error_description").and_then(Value::as_str).unwrap_or(other);
                return Err(LoginError::Refused(format!("{url} answered {status}: {why}")));
            }
            None if (200..300).contains(&status) && body.get("access_token").is_some() => return Ok(body),
            None => return Err(LoginError::Refused(format!("{url} answered {status}: {body}"))),
        }
    }
}
