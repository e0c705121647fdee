//! Tokens on the request path: what a login account's requests carry (`LoginAuth`), its
//! refresh ahead of expiry (each kind's lead time) and once after a 401, with one refresh at
//! a time per account however many requests wait for it (the account's lock is held through
//! the refresh, and those waiting find the new token). A refreshed login is stored sealed at
//! once; a refused refresh means the user must sign in again.

use super::endpoints::{client_id, Endpoints};
use super::{now_ms, Credentials, LoginError, LoginKind};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Claude's OAuth beta flag: an OAuth bearer is accepted on the Messages API with it.
pub const CLAUDE_OAUTH_BETA: &str = "oauth-2025-04-20";
/// The GitHub API version Copilot's token exchange, user and chat calls are made with.
pub const COPILOT_API_VERSION: &str = "2025-04-01";

/// Posts a token request (Claude's endpoint takes JSON, the others a form) and returns the
/// JSON answer, or why it failed (a refused grant is `NeedsLogin`).
pub async fn token_request(
    http: &reqwest::Client,
    kind: LoginKind,
    url: &str,
    fields: &[(&str, &str)],
) -> Result<Value, LoginError> {
    let network = LoginError::network(url);
    let request = http.post(url).header(http::header::ACCEPT, "application/json");
    let request = if kind == LoginKind::Claude {
        let body: serde_json::Map<String, Value> =
            fields.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
        request.json(&body)
    } else {
        request.form(fields)
    };
    let response = request.send().await.map_err(network)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(network)?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if (200..300).contains(&status) && body.get("access_token").is_some() {
        return Ok(body);
    }
    let why = body
        .get("error_description")
        .or_else(|| body.get("error"))
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .unwrap_or_else(|| text.chars().take(200).collect());
    if matches!(status, 400 | 401 | 403) {
        Err(LoginError::NeedsLogin(format!("{url} answered {status}: {why}"), kind))
    } else {
        Err(LoginError::Flow(format!("{url} answered {status}: {why}")))
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Credentials from a token endpoint's answer; `previous` keeps what the answer leaves out
/// (a refresh token not rotated, the account id, the email).
pub fn credentials_from(kind: LoginKind, answer: &Value, previous: Option<&Credentials>) -> Credentials {
    let mut c = previous.cloned().unwrap_or_else(|| Credentials::new(kind, ""));
    c.access_token = text(answer, "access_token").unwrap_or_default();
    if let Some(refresh) = text(answer, "refresh_token") {
        c.refresh_token = Some(refresh);
    }
    let now = now_ms();
    c.obtained_at_ms = Some(now);
    c.expires_at_ms = answer.get("expires_in").and_then(Value::as_i64).map(|s| now + s * 1000).or(c.expires_at_ms);
    if let Some(resource) = text(answer, "resource_url") {
        c.resource_url = Some(resource);
    }
    if let Some(email) = answer.pointer("/account/email_address").and_then(Value::as_str) {
        c.email = Some(email.to_string());
    }
    if let Some(id_token) = text(answer, "id_token") {
        if let Some(claims) = super::jwt_claims(&id_token) {
            let auth = &claims["https://api.openai.com/auth"];
            c.account_id = auth["chatgpt_account_id"].as_str().map(str::to_string).or(c.account_id);
            c.plan = auth["chatgpt_plan_type"].as_str().map(str::to_string).or(c.plan);
            c.email = claims["email"].as_str().map(str::to_string).or(c.email);
        }
        c.id_token = Some(id_token);
    }
    c
}

/// Mints a Copilot token from the GitHub token.
pub async fn copilot_token(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    mut creds: Credentials,
) -> Result<Credentials, LoginError> {
    let url = endpoints.get("copilot-token-url");
    let github = creds.github_token.clone().unwrap_or_default();
    let network = LoginError::network(&url);
    let response = http
        .get(&url)
        .header(http::header::AUTHORIZATION, format!("token {github}"))
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::USER_AGENT, crate::base::USER_AGENT)
        .header("x-github-api-version", COPILOT_API_VERSION)
        .send()
        .await
        .map_err(network)?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match (status, text(&body, "token")) {
        (200..=299, Some(token)) => {
            creds.access_token = token;
            creds.obtained_at_ms = Some(now_ms());
            creds.expires_at_ms = body.get("expires_at").and_then(Value::as_i64).map(|s| s * 1000);
            // The API host this account is served at (individual, business, enterprise).
            creds.resource_url = body.pointer("/endpoints/api").and_then(Value::as_str).map(str::to_string);
            Ok(creds)
        }
        (401 | 403 | 404, _) => Err(LoginError::NeedsLogin(
            format!("{url} answered {status}: this GitHub account has no Copilot access ({body})"),
            LoginKind::Copilot,
        )),
        _ => Err(LoginError::Flow(format!("{url} answered {status}: {body}"))),
    }
}

/// A new access token for `creds`.
pub async fn refresh(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    creds: &Credentials,
) -> Result<Credentials, LoginError> {
    if creds.kind == LoginKind::Copilot {
        return copilot_token(http, endpoints, creds.clone()).await;
    }
    if creds.kind == LoginKind::Kiro {
        return super::kiro::refresh(http, endpoints, creds).await;
    }
    let Some(refresh_token) = creds.refresh_token.as_deref() else {
        return Err(LoginError::NeedsLogin("the login has no refresh token".into(), creds.kind));
    };
    let mut fields =
        vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id(creds.kind))];
    let secret;
    if creds.kind == LoginKind::GeminiCli {
        secret = super::gemini::client_secret(endpoints, creds.client_secret.as_deref())?;
        fields.push(("client_secret", secret.as_str()));
    }
    let answer = token_request(http, creds.kind, &endpoints.get("token-url"), &fields).await?;
    Ok(credentials_from(creds.kind, &answer, Some(creds)))
}

/// What a login account's request carries: its headers, and for Qwen the API host the token
/// belongs to.
#[derive(Debug, Clone)]
pub struct LoginAuth {
    pub token: String,
    pub headers: HeaderMap,
    /// Replaces the provider's base URL (Qwen's per-token host).
    pub base_url: Option<String>,
    /// Kiro: the profile the request body names.
    pub profile_arn: Option<String>,
    /// Gemini CLI: the Google Cloud project Code Assist requests name.
    pub project: Option<String>,
}

fn header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// The headers each official client's protocol requires with the token.
pub fn auth_of(creds: &Credentials) -> LoginAuth {
    let mut headers = HeaderMap::new();
    header(&mut headers, "authorization", &format!("Bearer {}", creds.access_token));
    let mut base_url = None;
    match creds.kind {
        LoginKind::Claude => header(&mut headers, "anthropic-beta", CLAUDE_OAUTH_BETA),
        LoginKind::Codex => {
            if let Some(account) = &creds.account_id {
                header(&mut headers, "chatgpt-account-id", account);
            }
            header(&mut headers, "openai-beta", "responses=experimental");
            header(&mut headers, "originator", "codex_cli_rs");
        }
        LoginKind::Copilot => {
            header(&mut headers, "copilot-integration-id", "vscode-chat");
            header(&mut headers, "editor-version", concat!("switchyard/", env!("CARGO_PKG_VERSION")));
            header(&mut headers, "openai-intent", "conversation-panel");
            header(&mut headers, "x-github-api-version", COPILOT_API_VERSION);
            base_url = creds.resource_url.as_ref().map(|api| api.trim_end_matches('/').to_string());
        }
        LoginKind::Kiro | LoginKind::GeminiCli => {}
        LoginKind::Qwen => {
            base_url = creds.resource_url.as_ref().map(|host| {
                let host = host.trim_end_matches('/');
                let host = if host.starts_with("http") { host.to_string() } else { format!("https://{host}") };
                if host.ends_with("/v1") {
                    host
                } else {
                    format!("{host}/v1")
                }
            })
        }
    }
    LoginAuth {
        token: creds.access_token.clone(),
        headers,
        base_url,
        profile_arn: creds.profile_arn.clone(),
        project: creds.project.clone(),
    }
}

/// One account's login, shared by the requests that use it.
struct Cell {
    /// The stored secret it was read from: a new login (another secret) replaces the cell.
    origin: u64,
    creds: tokio::sync::Mutex<Credentials>,
    /// After an early refresh failed for a passing reason (network, 5xx), no other is tried
    /// before this while the current token still works.
    early_refresh_paused_until: Mutex<Option<Instant>>,
}

/// How long an early refresh that failed for a passing reason waits before it is tried again.
const EARLY_REFRESH_RETRY: Duration = Duration::from_secs(30);

/// A token still good for this long is used when its early refresh fails for a passing reason.
const STILL_USABLE_MS: i64 = 30_000;

impl Cell {
    fn early_refresh_paused(&self) -> bool {
        let paused = self.early_refresh_paused_until.lock().unwrap_or_else(|e| e.into_inner());
        paused.is_some_and(|until| Instant::now() < until)
    }

    fn pause_early_refresh(&self) {
        *self.early_refresh_paused_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + EARLY_REFRESH_RETRY);
    }
}

/// Whether the token works for a while yet (a token without a known expiry is taken to).
fn still_usable(creds: &Credentials, now_ms: i64) -> bool {
    !creds.access_token.is_empty() && creds.expires_at_ms.is_none_or(|at| at - now_ms > STILL_USABLE_MS)
}

/// Stores a refreshed login (sealed) for an account, and lets one gateway of those sharing
/// a store refresh it at a time.
pub trait Keeper: Send + Sync {
    fn keep(&self, account: i64, creds: &Credentials) -> futures_util::future::BoxFuture<'_, Result<(), String>>;

    /// The login as stored now (another gateway may have refreshed it).
    fn stored(&self, _account: i64) -> futures_util::future::BoxFuture<'_, Option<Credentials>> {
        Box::pin(async { None })
    }

    /// Waits until this gateway holds the right to refresh the account's login (false: it
    /// could not be had in time; the refresh goes ahead).
    fn hold(&self, _account: i64) -> futures_util::future::BoxFuture<'_, bool> {
        Box::pin(async { true })
    }

    fn release(&self, _account: i64) -> futures_util::future::BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The logins in use by the gateway, one cell per account.
pub struct Logins {
    http: reqwest::Client,
    keeper: Arc<dyn Keeper>,
    cells: Mutex<HashMap<i64, Arc<Cell>>>,
}

fn fingerprint(secret: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    secret.hash(&mut h);
    h.finish()
}

impl Logins {
    pub fn new(keeper: Arc<dyn Keeper>) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(crate::base::USER_AGENT)
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self { http, keeper, cells: Mutex::default() }
    }

    fn cell(&self, account: i64, secret: &str) -> Result<Arc<Cell>, LoginError> {
        let origin = fingerprint(secret);
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cell) = cells.get(&account).filter(|c| c.origin == origin) {
            return Ok(cell.clone());
        }
        let creds: Credentials = serde_json::from_str(secret)
            .map_err(|e| LoginError::Flow(format!("account {account} holds no readable login ({e})")))?;
        let cell = Arc::new(Cell {
            origin,
            creds: tokio::sync::Mutex::new(creds),
            early_refresh_paused_until: Mutex::default(),
        });
        cells.insert(account, cell.clone());
        Ok(cell)
    }

    async fn renew(
        &self,
        account: i64,
        creds: &mut Credentials,
        settings: &BTreeMap<String, String>,
    ) -> Result<(), LoginError> {
        // One refresh per login across the gateways sharing the store: the others wait for
        // it and take the stored result; a rotated refresh token is never sent twice.
        let held = self.keeper.hold(account).await;
        let renewed = self.renew_held(account, creds, settings).await;
        if held {
            self.keeper.release(account).await;
        }
        renewed
    }

    async fn renew_held(
        &self,
        account: i64,
        creds: &mut Credentials,
        settings: &BTreeMap<String, String>,
    ) -> Result<(), LoginError> {
        if let Some(stored) = self.keeper.stored(account).await {
            let newer = stored.access_token != creds.access_token && !stored.access_token.is_empty();
            if newer && !stored.expires_within(now_ms(), stored.kind.refresh_lead()) {
                tracing::info!(account, "login token refreshed by another gateway: taken from the store");
                *creds = stored;
                return Ok(());
            }
            if newer || stored.refresh_token != creds.refresh_token {
                // Whatever was stored last holds the refresh token that still works.
                *creds = stored;
            }
        }
        let endpoints = Endpoints::new(creds.kind, settings);
        let fresh = refresh(&self.http, &endpoints, creds).await?;
        if let Err(why) = self.keeper.keep(account, &fresh).await {
            tracing::warn!(account, "the refreshed login could not be stored: {why}");
        }
        tracing::info!(account, kind = %creds.kind, "login token refreshed");
        *creds = fresh;
        Ok(())
    }

    /// What a request of `account` (its stored `secret`) carries, refreshed first when the
    /// token is within its kind's lead time of expiry. An early refresh that fails for a
    /// passing reason (the token endpoint unreachable or failing) leaves the current token in
    /// use while it still works, and is tried again after EARLY_REFRESH_RETRY; a refused one
    /// (`NeedsLogin`) is told at once.
    pub async fn auth(
        &self,
        account: i64,
        secret: &str,
        settings: &BTreeMap<String, String>,
    ) -> Result<LoginAuth, LoginError> {
        let cell = self.cell(account, secret)?;
        let mut creds = cell.creds.lock().await;
        let now = now_ms();
        let due = creds.access_token.is_empty() || creds.expires_within(now, creds.kind.refresh_lead());
        let usable = still_usable(&creds, now);
        if due && !(usable && cell.early_refresh_paused()) {
            match self.renew(account, &mut creds, settings).await {
                Ok(()) => {}
                Err(e) if usable && !matches!(e, LoginError::NeedsLogin(..)) => {
                    tracing::warn!(account, "early token refresh failed, the current token is used meanwhile: {e}");
                    cell.pause_early_refresh();
                }
                Err(e) => return Err(e),
            }
        }
        if crate::login::gemini::needs_set_up(&creds) {
            // Imported while Google could not be reached: its project (and email) are found
            // now that a request needs them.
            let endpoints = Endpoints::new(creds.kind, settings);
            let ready = crate::login::gemini::complete(&self.http, &endpoints, creds.clone()).await?;
            if let Err(why) = self.keeper.keep(account, &ready).await {
                tracing::warn!(account, "the completed login could not be stored: {why}");
            }
            tracing::info!(account, project = ?ready.project, "Gemini CLI login set up for Code Assist");
            *creds = ready;
        }
        Ok(auth_of(&creds))
    }

    /// After a 401 to a request that carried `used`: a refresh, unless another request has
    /// already replaced that token.
    pub async fn after_unauthorized(
        &self,
        account: i64,
        secret: &str,
        used: &str,
        settings: &BTreeMap<String, String>,
    ) -> Result<LoginAuth, LoginError> {
        let cell = self.cell(account, secret)?;
        let mut creds = cell.creds.lock().await;
        if creds.access_token == used {
            self.renew(account, &mut creds, settings).await?;
        }
        Ok(auth_of(&creds))
    }

    /// The login of an account as the gateway holds it now (quotas are fetched with it).
    pub async fn current(&self, account: i64, secret: &str) -> Result<Credentials, LoginError> {
        Ok(self.cell(account, secret)?.creds.lock().await.clone())
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn codex_answers_name_the_chatgpt_account_and_plan() {
        let claims = serde_json::json!({"email": "a@b.c", "https://api.openai.com/auth": {"chatgpt_account_id": "acc-1", "chatgpt_plan_type": "plus"}});
        let id_token = format!("x.{}.y", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string()));
        let answer =
            serde_json::json!({"access_token": "at", "refresh_token": "rt", "id_token": id_token, "expires_in": 3600});
        let c = credentials_from(LoginKind::Codex, &answer, None);
        assert_eq!(
            (c.account_id.as_deref(), c.plan.as_deref(), c.email.as_deref()),
            (Some("acc-1"), Some("plus"), Some("a@b.c"))
        );
        assert!(c.expires_at_ms.unwrap() > now_ms());
        let auth = auth_of(&c);
        assert_eq!(auth.headers["chatgpt-account-id"], "acc-1");
        // A refresh that does not rotate the refresh token keeps the old one.
        let again = credentials_from(LoginKind::Codex, &serde_json::json!({"access_token": "at2"}), Some(&c));
        assert_eq!((again.access_token.as_str(), again.refresh_token.as_deref()), ("at2", Some("rt")));
    }

    #[test]
    fn qwen_requests_go_to_the_host_of_their_token() {
        let mut c = Credentials::new(LoginKind::Qwen, "t");
        c.resource_url = Some("portal.qwen.ai".into());
        assert_eq!(auth_of(&c).base_url.as_deref(), Some("https://portal.qwen.ai/v1"));
        let mut claude = Credentials::new(LoginKind::Claude, "t");
        claude.expires_at_ms = Some(now_ms() + 60_000);
        assert!(claude.expires_within(now_ms(), LoginKind::Claude.refresh_lead()));
        // A fresh one-hour token is not refreshed at once for a four-hour lead: at half-life.
        claude.obtained_at_ms = Some(now_ms());
        claude.expires_at_ms = Some(now_ms() + 3_600_000);
        assert!(!claude.expires_within(now_ms(), LoginKind::Claude.refresh_lead()));
        assert!(claude.expires_within(now_ms() + 1_900_000, LoginKind::Claude.refresh_lead()));
        assert_eq!(auth_of(&claude).headers["anthropic-beta"], CLAUDE_OAUTH_BETA);
    }
}
