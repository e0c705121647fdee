//! The authorization-code flow with PKCE: the authorize URL the user opens, a one-shot
//! callback server on localhost that receives the code (Codex's on its fixed port 1455,
//! Claude's and Gemini CLI's on a free port), the pasted callback URL as the fallback when that
//! port is taken or the browser runs elsewhere, and the code's exchange for tokens.

use super::endpoints::{client_id, Endpoints};
use super::pkce::Pkce;
use super::{LoginError, LoginKind};
use serde_json::Value;
use std::collections::HashMap;
use tokio::net::TcpListener;

/// One authorization in progress.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub kind: LoginKind,
    pub url: String,
    pub redirect_uri: String,
    pub state: String,
    pub pkce: Pkce,
}

fn scopes(kind: LoginKind) -> &'static str {
    match kind {
        LoginKind::Claude => "user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload",
        LoginKind::GeminiCli => super::gemini::SCOPES,
        _ => "openid profile email offline_access",
    }
}

/// The callback path of a kind's redirect URI.
pub fn callback_path(kind: LoginKind) -> &'static str {
    match kind {
        LoginKind::Codex => "/auth/callback",
        LoginKind::GeminiCli => "/oauth2callback",
        _ => "/callback",
    }
}

/// The host of a kind's redirect URI, as its official client names it.
fn callback_host(kind: LoginKind) -> &'static str {
    match kind {
        LoginKind::GeminiCli => "127.0.0.1",
        _ => "localhost",
    }
}

impl Authorization {
    pub fn new(kind: LoginKind, endpoints: &Endpoints, port: u16) -> Self {
        let pkce = Pkce::new();
        let state = super::pkce::state();
        let redirect_uri = format!("http://{}:{port}{}", callback_host(kind), callback_path(kind));
        let mut url = reqwest::Url::parse(&endpoints.get("authorize-url"))
            .unwrap_or_else(|_| reqwest::Url::parse("http://invalid.invalid/").expect("a valid URL"));
        {
            let mut q = url.query_pairs_mut();
            if kind == LoginKind::Claude {
                q.append_pair("code", "true");
            }
            q.append_pair("response_type", "code")
                .append_pair("client_id", client_id(kind))
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("scope", scopes(kind))
                .append_pair("code_challenge", &pkce.challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("state", &state);
            if kind == LoginKind::GeminiCli {
                // A refresh token, also for an account that consented to Gemini CLI before.
                q.append_pair("access_type", "offline").append_pair("prompt", "consent");
            }
            if kind == LoginKind::Codex {
                q.append_pair("id_token_add_organizations", "true")
                    .append_pair("codex_cli_simplified_flow", "true")
                    .append_pair("originator", "codex_cli_rs");
            }
        }
        Self { kind, url: url.to_string(), redirect_uri, state, pkce }
    }

    /// The code from a callback URL (or its query, or a bare code; Claude's may end in
    /// `#STATE`), once its state matches.
    pub fn code_from(&self, pasted: &str) -> Result<String, LoginError> {
        let pasted = pasted.trim();
        let query = pasted.split_once('?').map_or(pasted, |(_, q)| q);
        let params: HashMap<String, String> = if query.contains('=') {
            let query = query.split('#').next().unwrap_or(query);
            reqwest::Url::parse(&format!("http://callback.invalid/?{query}"))
                .map(|u| u.query_pairs().into_owned().collect())
                .unwrap_or_default()
        } else {
            // A bare code, possibly `CODE#STATE`.
            let (code, state) = query.split_once('#').unwrap_or((query, &self.state));
            [("code".to_string(), code.to_string()), ("state".to_string(), state.to_string())].into()
        };
        if let Some(error) = params.get("error") {
            let why = params.get("error_description").unwrap_or(error);
            return Err(LoginError::Refused(why.clone()));
        }
        let code = params.get("code").filter(|c| !c.is_empty()).ok_or_else(|| {
            LoginError::Flow(
                "no authorization code in what was pasted: paste the whole address the browser shows".into(),
            )
        })?;
        let (code, state_in_code) = match code.split_once('#') {
            Some((c, s)) => (c.to_string(), Some(s.to_string())),
            None => (code.clone(), None),
        };
        let state = params.get("state").cloned().or(state_in_code);
        if state.as_deref() != Some(self.state.as_str()) {
            return Err(LoginError::Flow("the callback's state does not match this login; start it again".into()));
        }
        Ok(code)
    }
}

/// Binds the callback port on the loopback address; None when it is taken.
pub async fn bind_callback(port: u16) -> Option<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await.ok()
}

const DONE_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Switchyard</title><body style=\"font-family:sans-serif;margin:3em\"><h1>Signed in</h1><p>Switchyard has the login. You can close this tab.</p>";

/// Serves the callback path until a request carries the code (or an error); other paths get
/// a 404. Returns the query of that request.
pub async fn wait_for_callback(listener: TcpListener, path: &'static str) -> Result<String, LoginError> {
    use axum::extract::RawQuery;
    use axum::response::Html;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(1);
    let app = axum::Router::new().route(
        path,
        axum::routing::get(move |RawQuery(query): RawQuery| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(query.unwrap_or_default()).await;
                Html(DONE_PAGE)
            }
        }),
    );
    let server = axum::serve(listener, app);
    tokio::select! {
        served = server => Err(LoginError::Flow(format!("the callback server stopped: {served:?}"))),
        query = rx.recv() => query.ok_or_else(|| LoginError::Flow("the callback server stopped".into())),
    }
}

/// Exchanges the code for tokens: Claude's token endpoint takes JSON, OpenAI's a form.
pub async fn exchange(
    http: &reqwest::Client,
    auth: &Authorization,
    endpoints: &Endpoints,
    code: &str,
) -> Result<Value, LoginError> {
    let url = endpoints.get("token-url");
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", auth.redirect_uri.as_str()),
        ("client_id", client_id(auth.kind)),
        ("code_verifier", auth.pkce.verifier.as_str()),
    ];
    let secret;
    if auth.kind == LoginKind::GeminiCli {
        secret = super::gemini::client_secret(endpoints, None)?;
        fields.push(("client_secret", secret.as_str()));
    } else {
        fields.push(("state", auth.state.as_str()));
    }
    super::tokens::token_request(http, auth.kind, &url, &fields).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_from_pasted_urls_and_checked_against_the_state() {
        let endpoints = Endpoints::new(LoginKind::Codex, &Default::default());
        let auth = Authorization::new(LoginKind::Codex, &endpoints, 1455);
        assert!(auth.url.starts_with("https://auth.openai.com/oauth/authorize?"), "{}", auth.url);
        assert!(auth.url.contains("redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback"), "{}", auth.url);
        assert!(auth.url.contains(&format!("code_challenge={}", auth.pkce.challenge)));
        let pasted = format!("http://localhost:1455/auth/callback?code=abc&state={}", auth.state);
        assert_eq!(auth.code_from(&pasted).unwrap(), "abc");
        assert!(auth.code_from("http://localhost:1455/auth/callback?code=abc&state=other").is_err());
        assert!(matches!(auth.code_from("?error=access_denied"), Err(LoginError::Refused(_))));
        let claude = Authorization::new(LoginKind::Claude, &Endpoints::new(LoginKind::Claude, &Default::default()), 5);
        assert_eq!(claude.code_from(&format!("xyz#{}", claude.state)).unwrap(), "xyz");
        assert!(claude.url.contains("code=true"));
        let google = Endpoints::new(LoginKind::GeminiCli, &Default::default());
        let gemini = Authorization::new(LoginKind::GeminiCli, &google, 8085);
        assert!(gemini.url.starts_with("https://accounts.google.com/o/oauth2/v2/auth?"), "{}", gemini.url);
        assert!(gemini.url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8085%2Foauth2callback"), "{}", gemini.url);
        assert!(gemini.url.contains("access_type=offline") && gemini.url.contains("prompt=consent"));
    }
}
