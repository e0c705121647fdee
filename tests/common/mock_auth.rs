//! A mock authorization server for the login tests, one for every flow the gateway speaks:
//! `/authorize` (auto-approves: redirects to the redirect URI with a code and the state),
//! `/token` (JSON or form: the authorization-code grant checks the PKCE verifier against the
//! challenge; the refresh grant issues new tokens and counts refreshes, slowly, so concurrent
//! requests would show up as several, or answers 503 while a test has it down; the device
//! grant answers `authorization_pending`, then `slow_down`, then tokens), `/device/code`,
//! Copilot's `/copilot/token` exchange, and usage endpoints whose answers a test sets;
//! Google's userinfo and Code Assist setup in `mock_google`.
//!
//! Tokens are `tok-access-N` and `tok-refresh-N`, N counting every issue.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
pub struct AuthState {
    /// code → (challenge, redirect URI)
    codes: Mutex<HashMap<String, (String, String)>>,
    /// device code → (polls so far, PKCE challenge)
    devices: Mutex<HashMap<String, (u32, Option<String>)>>,
    issued: AtomicU64,
    pub refreshes: AtomicU64,
    pub exchanges: AtomicU64,
    /// Seconds an access token lives.
    pub expires_in: AtomicU64,
    /// Extra claims of Codex's id token and the resource URL of Qwen's tokens.
    pub resource_url: Mutex<String>,
    pub claude_usage: Mutex<Value>,
    /// The authorization each Claude usage request carried.
    pub usage_bearers: Mutex<Vec<String>>,
    pub copilot_user: Mutex<Value>,
    /// What Kiro's getUsageLimits answers, and the queries it was asked with.
    pub kiro_usage: Mutex<Value>,
    pub kiro_usage_queries: Mutex<Vec<HashMap<String, String>>>,
    /// The start URLs device authorizations were asked for.
    pub start_urls: Mutex<Vec<String>>,
    /// Refresh tokens refused from now on.
    pub revoked: Mutex<Vec<String>>,
    /// Refresh requests still to be answered 503 (the token endpoint down for a moment).
    pub refresh_outage: AtomicU64,
    /// Every token request's grant type, in order.
    pub grants: Mutex<Vec<String>>,
    /// Every refresh token presented to the refresh grant, in order.
    pub refresh_tokens_seen: Mutex<Vec<String>>,
    /// Google's side (Gemini CLI's login and Code Assist).
    pub google: crate::common::mock_google::GoogleState,
}

pub struct MockAuth {
    pub addr: SocketAddr,
    pub state: Arc<AuthState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockAuth {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockAuth {
    pub async fn start() -> Self {
        let state = Arc::new(AuthState::default());
        state.expires_in.store(3600, Ordering::SeqCst);
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/device/code", post(device_code))
            .route("/copilot/token", get(copilot_token))
            .route(
                "/claude/usage",
                get(|State(s): State<Arc<AuthState>>, headers: HeaderMap| async move {
                    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    s.usage_bearers.lock().unwrap().push(bearer.to_string());
                    Json(s.claude_usage.lock().unwrap().clone())
                }),
            )
            .route(
                "/copilot/user",
                get(|State(s): State<Arc<AuthState>>| async move { Json(s.copilot_user.lock().unwrap().clone()) }),
            )
            .route("/codex/usage", get(codex_usage))
            .route("/oidc/client/register", post(oidc_register))
            .route("/oidc/device_authorization", post(oidc_device))
            .route("/oidc/token", post(oidc_token))
            .route("/kiro/refreshToken", post(kiro_refresh))
            .route("/kiro/getUsageLimits", get(kiro_usage))
            .route("/kiro/profiles", post(kiro_profiles))
            .merge(crate::common::mock_google::routes())
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind mock auth");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn refreshes(&self) -> u64 {
        self.state.refreshes.load(Ordering::SeqCst)
    }
}

fn b64(v: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

/// An unsigned JWT with these claims (the gateway only reads them).
pub fn jwt(claims: &Value) -> String {
    format!("{}.{}.sig", b64(br#"{"alg":"none"}"#), b64(claims.to_string().as_bytes()))
}

async fn authorize(State(s): State<Arc<AuthState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let (Some(redirect), Some(challenge), Some(state)) =
        (q.get("redirect_uri"), q.get("code_challenge"), q.get("state"))
    else {
        return (StatusCode::BAD_REQUEST, "missing redirect_uri, code_challenge or state").into_response();
    };
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") || !q.contains_key("client_id") {
        return (StatusCode::BAD_REQUEST, "S256 and a client_id are required").into_response();
    }
    let code = format!("code-{}", s.codes.lock().unwrap().len() + 1);
    s.codes.lock().unwrap().insert(code.clone(), (challenge.clone(), redirect.clone()));
    Redirect::to(&format!("{redirect}?code={code}&state={state}")).into_response()
}

fn fields(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let json = headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("json"));
    if json {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        v.as_object()
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default()
    } else {
        url_pairs(body)
    }
}

fn url_pairs(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    reqwest::Url::parse(&format!("http://x/?{text}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn challenge_of(verifier: &str) -> String {
    b64(&Sha256::digest(verifier.as_bytes()))
}

fn error(code: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": code, "error_description": format!("mock: {code}")})))
        .into_response()
}

fn tokens(s: &AuthState) -> Value {
    let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let access = format!("tok-access-{n}");
    let id_token = jwt(
        &json!({"email": "dev@example.com", "https://api.openai.com/auth": {"chatgpt_account_id": "acct-123", "chatgpt_plan_type": "plus"}}),
    );
    json!({
        "access_token": access,
        "refresh_token": format!("tok-refresh-{n}"),
        "expires_in": s.expires_in.load(Ordering::SeqCst),
        "token_type": "Bearer",
        "id_token": id_token,
        "resource_url": s.resource_url.lock().unwrap().clone(),
        "account": {"email_address": "dev@example.com"},
    })
}

async fn token(State(s): State<Arc<AuthState>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let f = fields(&headers, &body);
    let grant = f.get("grant_type").cloned().unwrap_or_default();
    s.grants.lock().unwrap().push(grant.clone());
    // Google's installed-app clients authenticate with their (public) secret.
    if f.get("client_id").is_some_and(|id| id.ends_with(".apps.googleusercontent.com")) {
        match f.get("client_secret").filter(|secret| secret.starts_with("GOCSPX-")) {
            Some(secret) => s.google.secrets.lock().unwrap().push(secret.clone()),
            None => return error("invalid_client"),
        }
    }
    match grant.as_str() {
        "authorization_code" => {
            let Some((challenge, redirect)) = f.get("code").and_then(|c| s.codes.lock().unwrap().remove(c)) else {
                return error("invalid_grant");
            };
            let verified = f.get("code_verifier").is_some_and(|v| challenge_of(v) == challenge);
            if !verified || f.get("redirect_uri") != Some(&redirect) {
                return error("invalid_grant");
            }
            Json(tokens(&s)).into_response()
        }
        "refresh_token" => {
            let token = f.get("refresh_token").cloned().unwrap_or_default();
            s.refresh_tokens_seen.lock().unwrap().push(token.clone());
            if token.is_empty() || s.revoked.lock().unwrap().contains(&token) {
                return error("invalid_grant");
            }
            if s.refresh_outage.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "temporarily_unavailable"})))
                    .into_response();
            }
            // Slow on purpose: concurrent requests that each refreshed would be counted.
            tokio::time::sleep(Duration::from_millis(300)).await;
            s.refreshes.fetch_add(1, Ordering::SeqCst);
            Json(tokens(&s)).into_response()
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let code = f.get("device_code").cloned().unwrap_or_default();
            let mut devices = s.devices.lock().unwrap();
            let Some((polls, challenge)) = devices.get_mut(&code) else { return error("invalid_grant") };
            *polls += 1;
            match *polls {
                1 => error("authorization_pending"),
                2 => error("slow_down"),
                _ => {
                    if let Some(challenge) = challenge.clone() {
                        if f.get("code_verifier").map(|v| challenge_of(v)) != Some(challenge) {
                            return error("invalid_grant");
                        }
                    }
                    drop(devices);
                    Json(tokens(&s)).into_response()
                }
            }
        }
        _ => error("unsupported_grant_type"),
    }
}

async fn device_code(State(s): State<Arc<AuthState>>, body: axum::body::Bytes) -> Response {
    let f = url_pairs(&body);
    if !f.contains_key("client_id") {
        return error("invalid_client");
    }
    let n = s.devices.lock().unwrap().len() + 1;
    let code = format!("dev-{n}");
    s.devices.lock().unwrap().insert(code.clone(), (0, f.get("code_challenge").cloned()));
    Json(json!({"device_code": code, "user_code": format!("WXYZ-{n:04}"), "verification_uri": "http://127.0.0.1/device", "expires_in": 120, "interval": 1})).into_response()
}

async fn copilot_token(State(s): State<Arc<AuthState>>, headers: HeaderMap) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !auth.starts_with("token ") || auth.len() <= 6 {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials"}))).into_response();
    }
    let n = s.exchanges.fetch_add(1, Ordering::SeqCst) + 1;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    Json(json!({"token": format!("copilot-{n}"), "expires_at": now + s.expires_in.load(Ordering::SeqCst), "refresh_in": 1500})).into_response()
}

async fn codex_usage() -> Json<Value> {
    Json(json!({"plan_type": "plus", "rate_limit": {"allowed": true, "limit_reached": false,
        "primary_window": {"used_percent": 12, "limit_window_seconds": 18000, "reset_after_seconds": 600, "reset_at": 4102444800i64}}}))
}

// ---- AWS SSO OIDC (Kiro's Builder ID login): JSON in camelCase, errors as AWS exceptions.

fn aws_error(name: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": name, "__type": format!("com.amazonaws.ssooidc#{name}")})))
        .into_response()
}

async fn oidc_register(Json(body): Json<Value>) -> Response {
    let scoped = body["scopes"].as_array().is_some_and(|s| s.iter().any(|x| x == "codewhisperer:conversations"));
    if body["clientType"] != "public" || !scoped {
        return aws_error("InvalidClientMetadataException");
    }
    Json(json!({"clientId": "oidc-client-1", "clientSecret": "oidc-secret-1", "clientSecretExpiresAt": 4102444800i64}))
        .into_response()
}

async fn oidc_device(State(s): State<Arc<AuthState>>, Json(body): Json<Value>) -> Response {
    if body["clientId"] != "oidc-client-1" || body["startUrl"].as_str().is_none() {
        return aws_error("InvalidClientException");
    }
    s.start_urls.lock().unwrap().push(body["startUrl"].as_str().unwrap_or_default().to_string());
    let n = s.devices.lock().unwrap().len() + 1;
    let code = format!("aws-dev-{n}");
    s.devices.lock().unwrap().insert(code.clone(), (0, None));
    Json(json!({"deviceCode": code, "userCode": format!("AWSX-{n:04}"), "verificationUri": "http://127.0.0.1/device",
        "verificationUriComplete": format!("http://127.0.0.1/device?code=AWSX-{n:04}"), "expiresIn": 120, "interval": 1}))
    .into_response()
}

async fn oidc_token(State(s): State<Arc<AuthState>>, Json(body): Json<Value>) -> Response {
    s.grants.lock().unwrap().push(body["grantType"].as_str().unwrap_or_default().to_string());
    if body["clientId"] != "oidc-client-1" || body["clientSecret"] != "oidc-secret-1" {
        return aws_error("InvalidClientException");
    }
    let tokens = || {
        let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
        json!({"accessToken": format!("aoa-access-{n}"), "refreshToken": format!("aor-refresh-{n}"), "expiresIn": 3600, "tokenType": "Bearer"})
    };
    match body["grantType"].as_str() {
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            let code = body["deviceCode"].as_str().unwrap_or_default().to_string();
            let mut devices = s.devices.lock().unwrap();
            let Some((polls, _)) = devices.get_mut(&code) else { return aws_error("InvalidGrantException") };
            *polls += 1;
            match *polls {
                1 => aws_error("AuthorizationPendingException"),
                2 => aws_error("SlowDownException"),
                _ => Json(tokens()).into_response(),
            }
        }
        Some("refresh_token") => {
            s.refreshes.fetch_add(1, Ordering::SeqCst);
            Json(tokens()).into_response()
        }
        _ => aws_error("UnsupportedGrantTypeException"),
    }
}

async fn kiro_refresh(State(s): State<Arc<AuthState>>, Json(body): Json<Value>) -> Response {
    if body["refreshToken"].as_str().is_none_or(|t| !t.starts_with("aor")) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Invalid refresh token"}))).into_response();
    }
    s.refreshes.fetch_add(1, Ordering::SeqCst);
    let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({"accessToken": format!("aoa-social-{n}"), "refreshToken": format!("aor-social-{n}"), "expiresIn": 3600,
        "profileArn": "arn:aws:codewhisperer:us-east-1:123:profile/SOCIAL"}))
    .into_response()
}

async fn kiro_usage(
    State(s): State<Arc<AuthState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !bearer.starts_with("Bearer aoa-") {
        return (StatusCode::FORBIDDEN, Json(json!({"message": "mock: bad bearer"}))).into_response();
    }
    s.kiro_usage_queries.lock().unwrap().push(q);
    Json(s.kiro_usage.lock().unwrap().clone()).into_response()
}

/// CodeWhisperer's ListAvailableProfiles (AWS JSON 1.0, the operation in `x-amz-target`).
async fn kiro_profiles(headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if header("x-amz-target") != "AmazonCodeWhispererService.ListAvailableProfiles"
        || header("content-type") != "application/x-amz-json-1.0"
        || !header("authorization").starts_with("Bearer aoa-")
        || body["maxResults"].as_u64().is_none()
    {
        return (StatusCode::BAD_REQUEST, Json(json!({"__type": "ValidationException"}))).into_response();
    }
    Json(json!({"profiles": [{"arn": "arn:aws:codewhisperer:eu-central-1:123:profile/IDC", "profileName": "Org"}]}))
        .into_response()
}
