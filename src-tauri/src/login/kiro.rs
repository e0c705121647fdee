//! Kiro's login: the AWS Builder ID device flow through AWS SSO OIDC (register a public
//! client, ask for a device code, poll for the token; JSON in camelCase), the same flow for
//! IAM Identity Center (the organisation's start URL, the OIDC endpoint of its region, then
//! the CodeWhisperer profile its requests name, from `ListAvailableProfiles`), the refresh of
//! a token through the same OIDC endpoint with the registered client, the refresh of
//! a social (Google/GitHub) Kiro login through Kiro's own `refreshToken` endpoint, and the
//! import of what the Kiro IDE saved (`~/.aws/sso/cache/kiro-auth-token.json`, with the
//! client registration it names).

use super::endpoints::Endpoints;
use super::{now_ms, Credentials, LoginError, LoginKind};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// What Kiro's API needs to be allowed for a Builder ID token.
const SCOPES: [&str; 3] = ["codewhisperer:completions", "codewhisperer:analysis", "codewhisperer:conversations"];

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> Result<(u16, Value), LoginError> {
    let network = LoginError::network(url);
    let response =
        http.post(url).header(http::header::ACCEPT, "application/json").json(body).send().await.map_err(network)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(network)?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text.chars().take(300).collect()))))
}

/// The AWS error code of an OIDC answer (`error`, or an exception name in `__type`).
fn error_code(body: &Value) -> Option<String> {
    let raw = text(body, "error").or_else(|| text(body, "__type"))?;
    let name = raw.rsplit('#').next().unwrap_or(&raw);
    Some(match name {
        "AuthorizationPendingException" => "authorization_pending".into(),
        "SlowDownException" => "slow_down".into(),
        "ExpiredTokenException" => "expired_token".into(),
        "AccessDeniedException" => "access_denied".into(),
        "InvalidGrantException" => "invalid_grant".into(),
        other => other.to_string(),
    })
}

/// A device code to show the user, and what polling for it needs.
pub struct DeviceLogin {
    pub user_code: String,
    pub url: String,
    device_code: String,
    client_id: String,
    client_secret: String,
    interval: u64,
    expires_in: u64,
    region: String,
}

/// The SSO OIDC endpoint of `region` (else the `login.kiro.region` setting); a
/// `login.kiro.oidc-url` setting wins.
fn oidc_url(endpoints: &Endpoints, region: Option<&str>) -> String {
    endpoints.overridden("oidc-url").unwrap_or_else(|| {
        let region = region.map_or_else(|| endpoints.get("region"), str::to_string);
        format!("https://oidc.{region}.amazonaws.com")
    })
}

/// The login is through an organisation's IAM Identity Center (its own start URL), not
/// Builder ID.
pub fn is_identity_center(endpoints: &Endpoints) -> bool {
    let builder_id =
        super::endpoints::defaults(LoginKind::Kiro).iter().find(|(n, _)| *n == "start-url").map(|(_, v)| *v);
    endpoints.overridden("start-url").is_some_and(|url| Some(url.as_str()) != builder_id)
}

/// Registers a client and asks for a device code.
pub async fn start(http: &reqwest::Client, endpoints: &Endpoints) -> Result<DeviceLogin, LoginError> {
    let oidc = oidc_url(endpoints, None);
    let register = json!({
        "clientName": "Switchyard",
        "clientType": "public",
        "scopes": SCOPES,
        "grantTypes": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
    });
    let (status, client) = post_json(http, &format!("{oidc}/client/register"), &register).await?;
    let (Some(client_id), Some(client_secret)) = (text(&client, "clientId"), text(&client, "clientSecret")) else {
        return Err(LoginError::Refused(format!("{oidc}/client/register answered {status}: {client}")));
    };
    let ask = json!({"clientId": client_id, "clientSecret": client_secret, "startUrl": endpoints.get("start-url")});
    let (status, code) = post_json(http, &format!("{oidc}/device_authorization"), &ask).await?;
    let (Some(device_code), Some(user_code)) = (text(&code, "deviceCode"), text(&code, "userCode")) else {
        return Err(LoginError::Refused(format!("{oidc}/device_authorization answered {status}: {code}")));
    };
    let url = text(&code, "verificationUriComplete").or_else(|| text(&code, "verificationUri")).unwrap_or_default();
    Ok(DeviceLogin {
        user_code,
        url,
        device_code,
        client_id,
        client_secret,
        interval: code.get("interval").and_then(Value::as_u64).unwrap_or(5).max(1),
        expires_in: code.get("expiresIn").and_then(Value::as_u64).unwrap_or(600),
        region: endpoints.get("region"),
    })
}

fn credentials(answer: &Value, previous: Option<&Credentials>) -> Credentials {
    let mut c = previous.cloned().unwrap_or_else(|| Credentials::new(LoginKind::Kiro, ""));
    c.access_token = text(answer, "accessToken").unwrap_or_default();
    if let Some(refresh) = text(answer, "refreshToken") {
        c.refresh_token = Some(refresh);
    }
    let now = now_ms();
    c.obtained_at_ms = Some(now);
    c.expires_at_ms = answer.get("expiresIn").and_then(Value::as_i64).map(|s| now + s * 1000).or(c.expires_at_ms);
    if let Some(arn) = text(answer, "profileArn") {
        c.profile_arn = Some(arn);
    }
    c
}

/// Polls until the user approved the device code; slows down by 5 s when asked.
pub async fn poll(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    login: &DeviceLogin,
    unit: Duration,
) -> Result<Credentials, LoginError> {
    let url = format!("{}/token", oidc_url(endpoints, Some(&login.region)));
    let body = json!({
        "clientId": login.client_id,
        "clientSecret": login.client_secret,
        "deviceCode": login.device_code,
        "grantType": "urn:ietf:params:oauth:grant-type:device_code",
    });
    let mut interval = login.interval;
    let deadline = tokio::time::Instant::now() + unit * login.expires_in as u32;
    loop {
        tokio::time::sleep(unit * interval as u32).await;
        if tokio::time::Instant::now() > deadline {
            return Err(LoginError::Flow("the device code expired before it was approved; run the login again".into()));
        }
        let (status, answer) = post_json(http, &url, &body).await?;
        match error_code(&answer).as_deref() {
            Some("authorization_pending") => continue,
            Some("slow_down") => interval += 5,
            Some("access_denied") => return Err(LoginError::Refused("the request was denied in the browser".into())),
            Some(other) => return Err(LoginError::Refused(format!("{url} answered {status}: {other}"))),
            None if answer.get("accessToken").is_some() => {
                let mut c = credentials(&answer, None);
                c.client_id = Some(login.client_id.clone());
                c.client_secret = Some(login.client_secret.clone());
                c.auth_method = Some(if is_identity_center(endpoints) { "idc" } else { "builder-id" }.into());
                c.region = Some(login.region.clone());
                return Ok(c);
            }
            None => return Err(LoginError::Refused(format!("{url} answered {status}: {answer}"))),
        }
    }
}

/// A new access token: through OIDC with the registered client (Builder ID, IAM Identity
/// Center), or through Kiro's own endpoint (a social login).
pub async fn refresh(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    creds: &Credentials,
) -> Result<Credentials, LoginError> {
    let Some(refresh_token) = creds.refresh_token.clone() else {
        return Err(LoginError::NeedsLogin("the login has no refresh token".into(), LoginKind::Kiro));
    };
    let (url, body) = match (&creds.client_id, &creds.client_secret) {
        (Some(id), Some(secret)) => (
            format!("{}/token", oidc_url(endpoints, creds.region.as_deref())),
            json!({"clientId": id, "clientSecret": secret, "grantType": "refresh_token", "refreshToken": refresh_token}),
        ),
        _ => (endpoints.get("social-refresh-url"), json!({"refreshToken": refresh_token})),
    };
    let (status, answer) = post_json(http, &url, &body).await?;
    if (200..300).contains(&status) && answer.get("accessToken").is_some() {
        return Ok(credentials(&answer, Some(creds)));
    }
    let why = error_code(&answer).unwrap_or_else(|| answer.to_string());
    if matches!(status, 400 | 401 | 403) {
        Err(LoginError::NeedsLogin(format!("{url} answered {status}: {why}"), LoginKind::Kiro))
    } else {
        Err(LoginError::Flow(format!("{url} answered {status}: {why}")))
    }
}

/// The first CodeWhisperer profile the token may use (`ListAvailableProfiles`): what an
/// Identity Center login's requests name. None when there is none (Builder ID).
pub async fn profile(http: &reqwest::Client, endpoints: &Endpoints, token: &str) -> Result<Option<String>, LoginError> {
    let url = endpoints.get("profiles-url");
    let network = LoginError::network(&url);
    let response = http
        .post(&url)
        .bearer_auth(token)
        .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.0")
        .header("x-amz-target", "AmazonCodeWhispererService.ListAvailableProfiles")
        .body(json!({"maxResults": 10}).to_string())
        .send()
        .await
        .map_err(network)?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        return Err(LoginError::Flow(format!("{url} answered {status} to ListAvailableProfiles: {body}")));
    }
    let first = body["profiles"].as_array().and_then(|p| p.first()).cloned().unwrap_or(Value::Null);
    Ok(text(&first, "arn").or_else(|| text(&first, "profileArn")))
}

fn rfc3339_ms(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The login the Kiro IDE saved: the token file, and for a Builder ID or Identity Center
/// login the client registration next to it (`<clientIdHash>.json`).
pub fn parse_token_file(v: &Value, cache_dir: &Path) -> Option<Credentials> {
    let mut c = Credentials::new(LoginKind::Kiro, text(v, "accessToken")?);
    c.refresh_token = text(v, "refreshToken");
    c.expires_at_ms = v.get("expiresAt").and_then(Value::as_str).and_then(rfc3339_ms);
    c.profile_arn = text(v, "profileArn");
    c.auth_method = text(v, "authMethod");
    c.region = text(v, "region");
    if let Some(hash) = text(v, "clientIdHash") {
        let registration = std::fs::read_to_string(cache_dir.join(format!("{hash}.json"))).ok();
        if let Some(reg) = registration.and_then(|r| serde_json::from_str::<Value>(&r).ok()) {
            c.client_id = text(&reg, "clientId");
            c.client_secret = text(&reg, "clientSecret");
        }
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kiro_ide_token_file_and_its_client_registration_are_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("abc123.json"),
            r#"{"clientId":"cid","clientSecret":"csecret","expiresAt":"2027-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let token = serde_json::json!({"accessToken": "aoaAAAAAG-x", "refreshToken": "aorAAAAAG-y", "expiresAt": "2026-12-02T20:00:00Z",
            "authMethod": "IdC", "provider": "BuilderId", "clientIdHash": "abc123", "region": "us-east-1"});
        let c = parse_token_file(&token, dir.path()).unwrap();
        assert_eq!((c.client_id.as_deref(), c.client_secret.as_deref()), (Some("cid"), Some("csecret")));
        assert_eq!(c.expires_at_ms, Some(1796241600000));
        let social = parse_token_file(
            &serde_json::json!({"accessToken": "a", "refreshToken": "r", "authMethod": "social",
            "profileArn": "arn:aws:codewhisperer:us-east-1:1:profile/X"}),
            dir.path(),
        )
        .unwrap();
        assert!(social.client_id.is_none() && social.profile_arn.is_some());
        assert_eq!(
            error_code(&serde_json::json!({"__type": "com.amazonaws#AuthorizationPendingException"})).as_deref(),
            Some("authorization_pending")
        );
        // Identity Center: the OIDC endpoint of the organisation's region, unless set.
        let rows = |pairs: &[(&str, &str)]| {
            let rows = pairs.iter().map(|(k, v)| (format!("login.kiro.{k}"), v.to_string())).collect();
            Endpoints::new(LoginKind::Kiro, &rows)
        };
        let idc = rows(&[("start-url", "https://d-123.awsapps.com/start"), ("region", "eu-central-1")]);
        assert!(is_identity_center(&idc) && !is_identity_center(&rows(&[])));
        assert_eq!(oidc_url(&idc, None), "https://oidc.eu-central-1.amazonaws.com");
        assert_eq!(oidc_url(&rows(&[]), Some("ap-southeast-1")), "https://oidc.ap-southeast-1.amazonaws.com");
        assert_eq!(
            oidc_url(&rows(&[("oidc-url", "http://127.0.0.1:9/oidc")]), Some("eu-west-1")),
            "http://127.0.0.1:9/oidc"
        );
    }
}
