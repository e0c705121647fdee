//! The configuration the gateway runs on: an immutable `ConfigSnapshot` built from the store
//! (secrets opened once, here), held in a `LiveConfig` that request handlers read without
//! locking. A watcher polls the store's configuration revision and swaps in a new snapshot
//! when the CLI or the dashboard changed something, so changes apply within a second.

use crate::base::kinds::ComboStrategy;
use crate::base::settings::Settings;
use crate::base::ProxyChoice;
use crate::store::secrets::Sealer;
use crate::store::{self, accounts::secret_purpose, Store, StoreError};
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How often a running gateway checks the store for configuration changes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

pub use crate::providers::runtime::{AccountRuntime, ProviderRuntime, Secret};

#[derive(Debug, Default)]
pub struct ConfigSnapshot {
    pub rev: i64,
    pub providers: HashMap<String, Arc<ProviderRuntime>>,
    /// Provider ids, sorted, for stable listings.
    pub provider_order: Vec<String>,
    /// Active gateway keys: hash → key id.
    pub key_hashes: HashMap<[u8; 32], i64>,
    pub settings: Settings,
    pub combos: HashMap<String, ComboRuntime>,
    /// Alias → the model name it stands for.
    pub aliases: HashMap<String, String>,
    /// The user's prices by `PROVIDER/MODEL`.
    pub prices: HashMap<String, crate::base::records::Price>,
    /// Budgets and limits of active gateway keys, by key id.
    pub key_limits: HashMap<i64, crate::store::keys::KeyLimits>,
    /// Gateway keys whose token saver switch differs from the global setting: id → on.
    pub key_token_saver: HashMap<i64, bool>,
}

#[derive(Debug, Clone)]
pub struct ComboRuntime {
    pub strategy: ComboStrategy,
    pub members: Vec<String>,
    /// Synthesis combos: the model that writes the final answer.
    pub judge: Option<String>,
    /// Synthesis combos: how long the members get before the judge goes on with the answers
    /// in (at least one).
    pub deadline: std::time::Duration,
}

/// A synthesis combo's members' time when none is set.
pub const DEFAULT_SYNTHESIS_DEADLINE_SECS: u64 = 60;

impl ComboRuntime {
    /// A fallback or round-robin combo of `members`.
    pub fn chain(strategy: ComboStrategy, members: Vec<String>) -> Self {
        Self {
            strategy,
            members,
            judge: None,
            deadline: std::time::Duration::from_secs(DEFAULT_SYNTHESIS_DEADLINE_SECS),
        }
    }
}

impl ConfigSnapshot {
    /// Loads the configuration from the store, opening its secrets with `sealer`.
    pub async fn load(store: &Store, sealer: &Sealer) -> Result<Self, StoreError> {
        let rev = store.config_rev().await?;
        let settings = Settings::from_rows(&store::settings::all(store).await?);
        let mut providers: HashMap<String, ProviderRuntime> = store::providers::list(store)
            .await?
            .into_iter()
            .map(|p| {
                let endpoint = crate::providers::upstream::fixed_endpoint(p.kind, &p.base_url)
                    .map_err(|e| StoreError::Corrupt(format!("provider {}: base URL: {e}", p.id)))?;
                let rt = ProviderRuntime {
                    id: p.id.clone(),
                    kind: p.kind,
                    base_url: p.base_url,
                    auth: p.auth,
                    lists_own_models: p.auth != crate::providers::AuthStyle::Login
                        && (p.models.is_empty()
                            || (p.from_catalog
                                && crate::providers::catalog::get(&p.id).is_some_and(|e| e.models == p.models))),
                    models: p.models,
                    endpoint,
                    strategy: p.strategy,
                    sticky_uses: p.sticky_uses,
                    proxy: proxy_choice(p.proxy.as_deref(), &settings),
                    first_byte_timeout: p.first_byte_timeout_secs.map(|s| s.max(1) as u64),
                    stall_timeout: p.stall_timeout_secs.map(|s| s.max(1) as u64),
                    login: (p.auth == crate::providers::AuthStyle::Login)
                        .then(|| crate::login::LoginKind::of_provider(&p.id))
                        .flatten(),
                    accounts: vec![],
                };
                Ok((p.id, rt))
            })
            .collect::<Result<_, StoreError>>()?;
        for (account, sealed) in store::accounts::list_sealed(store).await? {
            let Some(provider) = providers.get_mut(&account.provider_id) else { continue };
            if !account.enabled || account.needs_attention.is_some() {
                continue;
            }
            let secret = match sealed {
                Some(sealed) => Some(Secret::new(sealer.open_string(&secret_purpose(&account.provider_id), &sealed)?)),
                None => None,
            };
            provider.accounts.push(Arc::new(AccountRuntime {
                id: account.id,
                label: account.label,
                priority: account.priority,
                secret,
                max_concurrent: account.max_concurrent.map(|n| n.clamp(1, 10_000) as u32),
            }));
        }
        let mut key_hashes = HashMap::new();
        for (id, hex_hash) in store::keys::active_hashes(store).await? {
            let bytes: [u8; 32] = hex::decode(&hex_hash)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| StoreError::Corrupt(format!("gateway key hash '{hex_hash}'")))?;
            key_hashes.insert(bytes, id);
        }
        let mut provider_order: Vec<String> = providers.keys().cloned().collect();
        provider_order.sort();
        let providers = providers.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        let mut combos = HashMap::new();
        for c in store::routing::list_combos(store).await? {
            let strategy =
                c.strategy.parse().map_err(|e: String| StoreError::Corrupt(format!("combo {}: {e}", c.name)))?;
            let deadline = c.deadline_secs.map_or(DEFAULT_SYNTHESIS_DEADLINE_SECS, |s| s.max(1) as u64);
            combos.insert(
                c.name,
                ComboRuntime {
                    strategy,
                    members: c.members,
                    judge: c.judge,
                    deadline: std::time::Duration::from_secs(deadline),
                },
            );
        }
        let aliases = store::routing::list_aliases(store).await?.into_iter().map(|a| (a.name, a.target)).collect();
        let prices = store::usage::list_prices(store).await?.into_iter().collect();
        let keys: Vec<_> = store::keys::list(store).await?.into_iter().filter(|k| k.revoked_at.is_none()).collect();
        let key_token_saver = keys.iter().filter_map(|k| Some((k.id, k.token_saver?))).collect();
        let key_limits =
            keys.into_iter().filter(|k| k.limits != Default::default()).map(|k| (k.id, k.limits)).collect();
        Ok(Self {
            rev,
            providers,
            provider_order,
            key_hashes,
            settings,
            combos,
            aliases,
            prices,
            key_limits,
            key_token_saver,
        })
    }

    /// Whether the token saver works on the requests of a gateway key (None: no key).
    pub fn token_saver_for(&self, key: Option<i64>) -> bool {
        key.and_then(|id| self.key_token_saver.get(&id).copied()).unwrap_or(self.settings.token_saver)
    }

    /// The id of the active gateway key `presented`, if it is one.
    pub fn key_id(&self, presented: &str) -> Option<i64> {
        self.key_hashes.get(&store::keys::hash_key(presented)).copied()
    }
}

/// A provider's own proxy (`none`: direct), else the global setting, else the environment's.
fn proxy_choice(own: Option<&str>, settings: &Settings) -> ProxyChoice {
    match own {
        Some("none") => ProxyChoice::Direct,
        Some(url) => ProxyChoice::Url { url: url.to_string(), no_proxy: settings.no_proxy.clone() },
        None if !settings.proxy.is_empty() => {
            ProxyChoice::Url { url: settings.proxy.clone(), no_proxy: settings.no_proxy.clone() }
        }
        None => ProxyChoice::Environment,
    }
}

/// The snapshot in force, swapped atomically.
pub struct LiveConfig {
    current: ArcSwap<ConfigSnapshot>,
}

impl LiveConfig {
    pub fn new(snapshot: ConfigSnapshot) -> Arc<Self> {
        Arc::new(Self { current: ArcSwap::from_pointee(snapshot) })
    }

    pub fn get(&self) -> Arc<ConfigSnapshot> {
        self.current.load_full()
    }

    /// Polls the store and swaps in a new snapshot whenever the revision moved. Runs until
    /// the task is aborted.
    pub async fn watch(self: Arc<Self>, store: Store, sealer: Sealer) {
        let mut ticker = tokio::time::interval(POLL_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.refresh(&store, &sealer).await;
        }
    }

    /// Loads a new snapshot if the stored revision moved (the watcher's step; the dashboard's
    /// writes call it too, so their change is in force when their answer returns).
    pub async fn refresh(&self, store: &Store, sealer: &Sealer) {
        let rev = match store.config_rev().await {
            Ok(rev) => rev,
            Err(e) => {
                tracing::warn!("cannot read the configuration revision: {e}");
                return;
            }
        };
        if rev == self.current.load().rev {
            return;
        }
        match ConfigSnapshot::load(store, sealer).await {
            Ok(snapshot) => {
                tracing::info!(rev = snapshot.rev, providers = snapshot.providers.len(), "configuration reloaded");
                self.current.store(Arc::new(snapshot));
            }
            Err(e) => tracing::warn!("configuration changed but could not be loaded, keeping the previous one: {e}"),
        }
    }
}
