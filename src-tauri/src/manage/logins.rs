//! Subscription login operations: sign in with a kind's own flow, import what an official CLI
//! saved, save a login as an account (the same login again replaces that account's tokens),
//! keep a refreshed login, and read an account's quota. The CLI, /api and the desktop app
//! call these; the flows themselves live in `crate::login`.

use super::{ManageError, Manager, Result};
use crate::login::endpoints::Endpoints;
use crate::login::quota::Window;
use crate::login::{authcode, device, import, now_ms, pkce, tokens, Credentials, LoginError, LoginKind};
use crate::store::accounts::{secret_purpose, NewAccount};
use crate::store::{self, StoreError};
use futures_util::future::BoxFuture;
use std::path::Path;
use std::time::Duration;
use switchyard_api::{Account, LoginChoice, LoginOption, PendingLogin, QuotaWindow, StoredQuota};

/// How a flow talks to the user (the CLI prints and reads stdin; the dashboard shows it).
pub trait LoginUi: Send + Sync {
    /// The address to open to sign in (the UI may open the browser itself).
    fn open_url(&self, url: &str);
    /// A device code and where to enter it.
    fn device_code(&self, user_code: &str, url: &str);
    /// A line of progress.
    fn say(&self, line: &str);
    /// The callback port is taken: the address the browser ends on, pasted by the user.
    fn pasted_url(&self) -> BoxFuture<'_, Option<String>>;
}

/// How long a sign-in may take before it is given up.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

impl From<LoginError> for ManageError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::NothingToImport(_) => ManageError::NotFound(e.to_string()),
            LoginError::Network { .. } => ManageError::Unavailable(e.to_string()),
            other => ManageError::Invalid(other.to_string()),
        }
    }
}

impl Manager {
    async fn login_endpoints(&self, kind: LoginKind) -> Result<Endpoints> {
        Ok(Endpoints::new(kind, &store::settings::all(&self.store).await?))
    }

    fn login_http() -> reqwest::Client {
        reqwest::Client::builder()
            .user_agent(crate::providers::upstream::USER_AGENT)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default()
    }

    /// Signs in with `kind`'s own flow and saves the login as an account. `poll_unit` is a
    /// device flow's second (tests shorten it).
    pub async fn login(&self, kind: LoginKind, ui: &dyn LoginUi, label: &str, poll_unit: Duration) -> Result<Account> {
        ui.say(&format!("Terms: {}", kind.terms_risk()));
        let endpoints = self.login_endpoints(kind).await?;
        let http = Self::login_http();
        let creds = match kind {
            LoginKind::Claude | LoginKind::Codex => self.login_authcode(kind, &endpoints, &http, ui).await?,
            LoginKind::GeminiCli => {
                let creds = self.login_authcode(kind, &endpoints, &http, ui).await?;
                Self::gemini_set_up(&http, &endpoints, creds, ui, poll_unit).await?
            }
            LoginKind::Kiro => {
                let device = crate::login::kiro::start(&http, &endpoints).await?;
                ui.device_code(&device.user_code, &device.url);
                let mut creds = crate::login::kiro::poll(&http, &endpoints, &device, poll_unit).await?;
                if crate::login::kiro::is_identity_center(&endpoints) {
                    creds.profile_arn = crate::login::kiro::profile(&http, &endpoints, &creds.access_token).await?;
                    let profile = creds.profile_arn.as_deref().unwrap_or("none: requests name no profile");
                    ui.say(&format!("CodeWhisperer profile: {profile}"));
                }
                creds
            }
            LoginKind::Copilot | LoginKind::Qwen => {
                let pkce = (kind == LoginKind::Qwen).then(pkce::Pkce::new);
                let code = device::start(&http, kind, &endpoints, pkce.as_ref()).await?;
                let url = code.verification_uri_complete.clone().unwrap_or_else(|| code.verification_uri.clone());
                ui.device_code(&code.user_code, &url);
                let answer = device::poll(&http, kind, &endpoints, &code, pkce.as_ref(), poll_unit).await?;
                let mut creds = tokens::credentials_from(kind, &answer, None);
                if kind == LoginKind::Copilot {
                    creds.github_token = Some(std::mem::take(&mut creds.access_token));
                    creds.refresh_token = None;
                    creds = tokens::copilot_token(&http, &endpoints, creds).await?;
                }
                creds
            }
        };
        self.login_save(creds, label).await
    }

    async fn login_authcode(
        &self,
        kind: LoginKind,
        endpoints: &Endpoints,
        http: &reqwest::Client,
        ui: &dyn LoginUi,
    ) -> Result<Credentials> {
        // Codex's client only accepts its fixed port; Claude's any free one.
        let fixed: u16 =
            if kind == LoginKind::Codex { endpoints.get("callback-port").parse().unwrap_or(1455) } else { 0 };
        let listener = authcode::bind_callback(fixed).await;
        let port = listener.as_ref().and_then(|l| l.local_addr().ok()).map_or(fixed, |a| a.port());
        let auth = authcode::Authorization::new(kind, endpoints, port);
        ui.open_url(&auth.url);
        let code = match listener {
            Some(listener) => {
                let wait = authcode::wait_for_callback(listener, authcode::callback_path(kind));
                let query = tokio::time::timeout(LOGIN_TIMEOUT, wait)
                    .await
                    .map_err(|_| ManageError::Invalid("no sign-in within 10 minutes; run the login again".into()))??;
                auth.code_from(&query)?
            }
            None => {
                ui.say(&format!(
                    "Port {fixed} is taken (another login running?): after signing in, the browser shows an address that does not load. Paste that whole address here:"
                ));
                let pasted =
                    ui.pasted_url().await.ok_or_else(|| ManageError::Invalid("no address was pasted".into()))?;
                auth.code_from(&pasted)?
            }
        };
        let answer = authcode::exchange(http, &auth, endpoints, &code).await?;
        Ok(tokens::credentials_from(kind, &answer, None))
    }

    /// A Google login made ready for Code Assist: its email, and its project (set up on a
    /// first sign-in).
    async fn gemini_set_up(
        http: &reqwest::Client,
        endpoints: &Endpoints,
        mut creds: Credentials,
        ui: &dyn LoginUi,
        poll_unit: Duration,
    ) -> Result<Credentials> {
        if creds.email.is_none() {
            // Only shown beside the account: a lookup that fails waits for the next set-up.
            match crate::login::gemini::email(http, endpoints, &creds.access_token).await {
                Ok(email) => creds.email = email,
                Err(e) => tracing::warn!("the Google account's email could not be read: {e}"),
            }
        }
        creds.client_secret = Some(crate::login::gemini::client_secret(endpoints, creds.client_secret.as_deref())?);
        ui.say("Finding the account's Code Assist project…");
        let creds = crate::login::gemini::set_up(http, endpoints, creds, poll_unit).await?;
        ui.say(&format!(
            "Code Assist project {} ({})",
            creds.project.as_deref().unwrap_or("?"),
            creds.plan.as_deref().unwrap_or("tier unknown")
        ));
        Ok(creds)
    }

    /// Imports the login `kind`'s official CLI saved under `home`.
    pub async fn login_import(&self, kind: LoginKind, home: &Path, label: &str) -> Result<Account> {
        let (mut creds, _from) = import::read(kind, home)?;
        let endpoints = self.login_endpoints(kind).await?;
        let http = Self::login_http();
        match kind {
            // The Copilot token is minted from the saved GitHub token; when GitHub cannot be
            // reached, the login is saved with the GitHub token alone and its first request
            // mints one.
            LoginKind::Copilot => match tokens::copilot_token(&http, &endpoints, creds.clone()).await {
                Ok(minted) => creds = minted,
                Err(e @ LoginError::Network { .. }) => {
                    tracing::warn!("GitHub could not be reached ({e}): the Copilot login is imported as saved; its token is minted by its first request");
                }
                Err(e) => return Err(e.into()),
            },
            // An Identity Center login saved without its profile: looked up (best effort; a
            // Builder ID login has none).
            LoginKind::Kiro if creds.profile_arn.is_none() && creds.client_id.is_some() => {
                match crate::login::kiro::profile(&http, &endpoints, &creds.access_token).await {
                    Ok(arn) => creds.profile_arn = arn,
                    Err(e) => tracing::debug!("no CodeWhisperer profile for the imported Kiro login: {e}"),
                }
            }
            LoginKind::GeminiCli => {
                // Gemini CLI keeps no project in its file: found again, with a live token. When
                // Google cannot be reached, the login is saved as the file holds it and set up
                // by its first request (or the quota watch) once Google answers.
                let saved = creds.clone();
                let ready = async {
                    if creds.access_token.is_empty() || creds.expires_within(now_ms(), kind.refresh_lead()) {
                        creds = tokens::refresh(&http, &endpoints, &creds).await?;
                    }
                    Self::gemini_set_up(&http, &endpoints, creds, &Silent, Duration::from_secs(1)).await
                };
                creds = match ready.await {
                    Ok(ready) => ready,
                    Err(ManageError::Unavailable(why)) => {
                        tracing::warn!("Google could not be reached ({why}): the Gemini CLI login is imported as saved; its email and Code Assist project are found when Google answers");
                        let secret =
                            crate::login::gemini::client_secret(&endpoints, saved.client_secret.as_deref()).ok();
                        Credentials { client_secret: secret.or(saved.client_secret.clone()), ..saved }
                    }
                    Err(e) => return Err(e),
                };
            }
            _ => {}
        }
        self.login_save(creds, label).await
    }

    /// Saves a login as an account of its provider (added from the catalog when missing). A
    /// login of the same person (same email) replaces that account's tokens.
    pub async fn login_save(&self, creds: Credentials, label: &str) -> Result<Account> {
        // No access token yet is fine where one can be had (a refresh token, Copilot's GitHub
        // token): the first request gets it.
        if creds.access_token.is_empty() && creds.refresh_token.is_none() && creds.github_token.is_none() {
            return Err(ManageError::Invalid("the login gave no access token".into()));
        }
        let provider_id = creds.kind.provider_id();
        let json = serde_json::to_string(&creds).map_err(|e| ManageError::Invalid(e.to_string()))?;
        let sealed = self.sealer.seal(&secret_purpose(provider_id), json.as_bytes())?;
        let info = serde_json::to_string(&creds.info()).map_err(|e| ManageError::Invalid(e.to_string()))?;
        let existing = store::providers::list(&self.store).await?.into_iter().find(|p| p.id == provider_id);
        if let Some(p) = existing.filter(|p| p.auth != crate::providers::AuthStyle::Login) {
            return Err(ManageError::Conflict(format!(
                "provider '{}' is configured for API keys ({}): remove it (`switchyard provider remove {}`) to sign in with a subscription",
                p.id, p.auth, p.id
            )));
        }
        let mut tx = self.store.begin().await?;
        if !store::providers::exists(&mut tx, provider_id).await? {
            let record = super::providers::provider_record(&switchyard_api::NewProvider {
                id: provider_id.into(),
                ..Default::default()
            })?;
            store::providers::insert(&mut tx, &record).await?;
        }
        let same = store::accounts::list(&self.store).await?.into_iter().find(|a| {
            a.provider_id == provider_id
                && creds.email.is_some()
                && a.login.as_ref().and_then(|l| l.email.as_ref()) == creds.email.as_ref()
        });
        let id = match same {
            Some(existing) => {
                store::accounts::set_login(&mut tx, existing.id, &sealed, &info, true).await?;
                existing.id
            }
            None => {
                let label = if label.is_empty() {
                    creds.email.clone().unwrap_or_else(|| creds.kind.name().to_string())
                } else {
                    label.to_string()
                };
                let hint = creds.email.clone().unwrap_or_else(|| "login".into());
                store::accounts::insert(
                    &mut tx,
                    NewAccount {
                        provider_id,
                        label: &label,
                        priority: 0,
                        sealed_secret: Some(sealed),
                        key_hint: hint,
                        login: Some(info),
                    },
                )
                .await?
            }
        };
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        store::accounts::list(&self.store)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .map(Into::into)
            .ok_or_else(|| ManageError::NotFound(format!("account {id} vanished")))
    }

    /// Stores a refreshed login in place (no configuration change: the running gateway
    /// already holds it).
    pub async fn login_keep(&self, account: i64, creds: &Credentials) -> Result<()> {
        let json = serde_json::to_string(creds).map_err(|e| ManageError::Invalid(e.to_string()))?;
        let sealed = self.sealer.seal(&secret_purpose(creds.kind.provider_id()), json.as_bytes())?;
        let info = serde_json::to_string(&creds.info()).map_err(|e| ManageError::Invalid(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        store::accounts::set_login(&mut tx, account, &sealed, &info, false).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Stores the quota windows reported for an account.
    pub async fn quota_keep(&self, account: i64, windows: &[Window]) -> Result<()> {
        let json = serde_json::to_string(windows).map_err(|e| ManageError::Invalid(e.to_string()))?;
        Ok(store::accounts::save_quota(&self.store, account, now_ms(), &json).await?)
    }

    /// Every stored quota (an account's windows as last read, and when), as the dashboard shows it.
    pub async fn stored_quotas(&self) -> Result<Vec<StoredQuota>> {
        Ok(store::accounts::quotas(&self.store)
            .await?
            .into_iter()
            .filter_map(|(account_id, fetched_at_ms, json)| {
                let windows: Vec<Window> = serde_json::from_str(&json).ok()?;
                Some(StoredQuota { account_id, fetched_at_ms, windows: windows.into_iter().map(Into::into).collect() })
            })
            .collect())
    }

    /// Asks the provider for a login account's quota now, stores and returns it.
    pub async fn account_quota(&self, id: i64) -> Result<Vec<QuotaWindow>> {
        let sealed = store::accounts::list_sealed(&self.store).await?.into_iter().find(|(a, _)| a.id == id);
        let Some((account, Some(sealed))) = sealed else {
            return Err(ManageError::NotFound(format!("no account {id}")));
        };
        let Some(info) = account.login else {
            return Err(ManageError::Invalid(format!("account {id} is an API key: only logins have quotas")));
        };
        let json = self.sealer.open_string(&secret_purpose(&account.provider_id), &sealed)?;
        let creds: Credentials = serde_json::from_str(&json).map_err(|e| ManageError::Invalid(e.to_string()))?;
        let endpoints = self.login_endpoints(info.kind).await?;
        match crate::login::quota::fetch(&Self::login_http(), &endpoints, &creds).await? {
            Some(windows) => {
                self.quota_keep(id, &windows).await?;
                Ok(windows.into_iter().map(Into::into).collect())
            }
            None => {
                let stored = self.stored_quotas().await?.into_iter().find(|q| q.account_id == id);
                Ok(stored.map(|q| q.windows).unwrap_or_default())
            }
        }
    }
}

/// A flow's UI that shows nothing (an import asks the user nothing).
struct Silent;

impl LoginUi for Silent {
    fn open_url(&self, _: &str) {}
    fn device_code(&self, _: &str, _: &str) {}
    fn say(&self, _: &str) {}
    fn pasted_url(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async { None })
    }
}

/// The manager as the gateway's keeper of refreshed logins: it stores them, reads them back,
/// and holds a lease in the store while this gateway refreshes one.
pub struct ManagerKeeper {
    manager: Manager,
    /// This gateway, as a lease holder (random per process).
    holder: String,
}

/// How long a refresh lease lasts unless released (a gateway that died mid-refresh).
const REFRESH_LEASE_MS: i64 = 30_000;

impl ManagerKeeper {
    pub fn new(manager: Manager) -> Self {
        let mut id = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut id);
        Self { manager, holder: hex::encode(id) }
    }
}

impl tokens::Keeper for ManagerKeeper {
    fn keep(&self, account: i64, creds: &Credentials) -> BoxFuture<'_, std::result::Result<(), String>> {
        let creds = creds.clone();
        Box::pin(async move { self.manager.login_keep(account, &creds).await.map_err(|e| e.to_string()) })
    }

    fn stored(&self, account: i64) -> BoxFuture<'_, Option<Credentials>> {
        Box::pin(async move {
            let accounts = store::accounts::list_sealed(&self.manager.store).await.ok()?;
            let (record, sealed) = accounts.into_iter().find(|(a, _)| a.id == account)?;
            let json = self.manager.sealer.open_string(&secret_purpose(&record.provider_id), &sealed?).ok()?;
            serde_json::from_str(&json).ok()
        })
    }

    fn hold(&self, account: i64) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            let name = format!("refresh:{account}");
            let deadline = now_ms() + REFRESH_LEASE_MS + 5_000;
            while now_ms() < deadline {
                let now = now_ms();
                match store::leases::take(&self.manager.store, &name, &self.holder, now, now + REFRESH_LEASE_MS).await {
                    Ok(true) => return true,
                    Ok(false) => tokio::time::sleep(Duration::from_millis(100)).await,
                    Err(e) => {
                        tracing::warn!(account, "cannot take the refresh lease, refreshing without it: {e}");
                        return false;
                    }
                }
            }
            false
        })
    }

    fn release(&self, account: i64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = store::leases::release(&self.manager.store, &format!("refresh:{account}"), &self.holder).await;
        })
    }
}

struct PendingSlot {
    /// Open the sign-in page in this machine's browser (the desktop app).
    open_browser: bool,
    view: std::sync::Mutex<PendingLogin>,
    paste: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<String>>>,
    changed: tokio::sync::Notify,
}

impl PendingSlot {
    fn update(&self, f: impl FnOnce(&mut PendingLogin)) {
        f(&mut self.view.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.notify_waiters();
    }

    fn view(&self) -> PendingLogin {
        self.view.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl LoginUi for std::sync::Arc<PendingSlot> {
    fn open_url(&self, url: &str) {
        if self.open_browser && webbrowser::open(url).is_err() {
            tracing::info!("no browser could be opened for the sign-in page");
        }
        self.update(|v| v.url = Some(url.to_string()));
    }

    fn device_code(&self, user_code: &str, url: &str) {
        if self.open_browser {
            let _ = webbrowser::open(url);
        }
        self.update(|v| {
            v.user_code = Some(user_code.to_string());
            v.url = Some(url.to_string());
        });
    }

    fn say(&self, line: &str) {
        self.update(|v| v.lines.push(line.to_string()));
    }

    fn pasted_url(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            let (tx, rx) = tokio::sync::oneshot::channel();
            *self.paste.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
            self.update(|v| v.needs_paste = true);
            tokio::time::timeout(LOGIN_TIMEOUT, rx).await.ok().and_then(|r| r.ok())
        })
    }
}

/// The sign-ins the dashboard started, by id (finished ones are kept for their page).
#[derive(Default)]
pub struct PendingLogins {
    next: std::sync::atomic::AtomicU64,
    slots: std::sync::Mutex<std::collections::HashMap<u64, std::sync::Arc<PendingSlot>>>,
}

impl PendingLogins {
    pub fn get(&self, id: u64) -> Result<PendingLogin> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.get(&id).map(|s| s.view()).ok_or_else(|| ManageError::NotFound(format!("no sign-in {id}")))
    }

    /// The address the browser ended on, for a sign-in whose callback port was taken.
    pub fn paste(&self, id: u64, url: &str) -> Result<PendingLogin> {
        let slot = self.slots.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned();
        let slot = slot.ok_or_else(|| ManageError::NotFound(format!("no sign-in {id}")))?;
        let sender = slot.paste.lock().unwrap_or_else(|e| e.into_inner()).take();
        let sender =
            sender.ok_or_else(|| ManageError::Conflict("this sign-in is not waiting for an address".into()))?;
        let _ = sender.send(url.to_string());
        slot.update(|v| v.needs_paste = false);
        Ok(slot.view())
    }
}

impl Manager {
    /// Starts a sign-in for the dashboard: the flow runs in the background; the answer comes
    /// once there is something to show (the address or the device code), or the flow ended.
    pub async fn login_begin(
        &self,
        pending: &std::sync::Arc<PendingLogins>,
        kind: LoginKind,
        open_browser: bool,
    ) -> Result<PendingLogin> {
        let id = pending.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let slot = std::sync::Arc::new(PendingSlot {
            open_browser,
            view: std::sync::Mutex::new(PendingLogin { id, provider: kind.provider_id().into(), ..Default::default() }),
            paste: std::sync::Mutex::new(None),
            changed: tokio::sync::Notify::new(),
        });
        pending.slots.lock().unwrap_or_else(|e| e.into_inner()).insert(id, slot.clone());
        let manager = self.clone();
        let ui = slot.clone();
        tokio::spawn(async move {
            let outcome = manager.login(kind, &ui, "", Duration::from_secs(1)).await;
            ui.update(|v| match outcome {
                Ok(account) => v.account = Some(account),
                Err(e) => v.error = Some(e.to_string()),
            });
        });
        let ready = async {
            loop {
                let changed = slot.changed.notified();
                let v = slot.view();
                if v.url.is_some() || v.account.is_some() || v.error.is_some() {
                    return;
                }
                changed.await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), ready).await;
        Ok(slot.view())
    }
}

impl Manager {
    /// Every login the dashboard offers, with its terms risk and its settings.
    pub async fn login_choices(&self) -> Result<Vec<LoginChoice>> {
        let settings = store::settings::all(&self.store).await?;
        Ok(LoginKind::ALL
            .iter()
            .map(|&k| LoginChoice {
                provider: k.provider_id().into(),
                name: k.name().into(),
                terms_risk: k.terms_risk().into(),
                flow: if matches!(k, LoginKind::Claude | LoginKind::Codex | LoginKind::GeminiCli) {
                    "browser".into()
                } else {
                    "device".into()
                },
                options: crate::login::endpoints::user_options(k)
                    .iter()
                    .map(|(name, label, help)| {
                        let setting = crate::login::endpoints::setting_name(k, name);
                        let value = settings.get(&setting).cloned().unwrap_or_default();
                        LoginOption { setting, label: label.to_string(), help: help.to_string(), value }
                    })
                    .collect(),
            })
            .collect())
    }
}
