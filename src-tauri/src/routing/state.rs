//! The gateway's routing memory, shared by all requests: cooldowns per (account, upstream
//! model), rotation counters per provider and combo, requests served per account, and the
//! account each conversation last used. Cooldowns are also written to the store (off the
//! request path) and read back at start, so a known quota reset survives a restart; gateways
//! sharing a database load each other's (`follow`), so one 429 with a reset is learnt by all.

use super::{ComboStrategy, Strategy};
use crate::snapshot::{AccountRuntime, ProviderRuntime};
use crate::store::routing::CooldownRecord;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Conversations remembered for account affinity, at most.
const AFFINITY_CAPACITY: usize = 10_000;
/// How long a conversation keeps its account after its last request.
const AFFINITY_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, PartialEq)]
pub struct Cooldown {
    pub until: SystemTime,
    pub failures: u32,
    pub reason: String,
}

/// A request counted against its account's concurrency cap until dropped: in this gateway,
/// and in the shared store when gateways share one (its slot row).
pub struct InFlight(Option<Arc<AtomicU32>>, Option<(Store, i64)>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(counter) = &self.0 {
            counter.fetch_sub(1, Ordering::AcqRel);
        }
        if let Some((store, slot)) = self.1.take() {
            tokio::spawn(async move {
                if let Err(e) = crate::store::slots::release(&store, slot).await {
                    tracing::warn!("cannot free a shared concurrency slot (it expires by itself): {e}");
                }
            });
        }
    }
}

/// How long a shared concurrency slot lasts unless its gateway renews it (one that died).
const SLOT_LEASE: Duration = Duration::from_secs(60);
/// How often a gateway renews its shared slots.
const SLOT_RENEWAL: Duration = Duration::from_secs(15);

/// An account left out of a plan, with the cooldown that keeps it out.
pub type CoolingAccount = (Arc<AccountRuntime>, Cooldown);

#[derive(Default)]
pub struct RoutingState {
    /// Account id → (upstream model, cooldown): an account cools down for few models at once,
    /// and a lookup by `&str` needs no allocation.
    cooldowns: Mutex<HashMap<i64, Vec<(String, Cooldown)>>>,
    counters: Mutex<HashMap<String, u64>>,
    served: Mutex<HashMap<i64, u64>>,
    affinity: Mutex<HashMap<u64, (i64, SystemTime)>>,
    /// Requests in flight per capped account.
    in_flight: Mutex<HashMap<i64, Arc<AtomicU32>>>,
    /// Where cooldowns are persisted (absent in unit tests).
    store: Option<Store>,
    /// This gateway, as the holder of shared concurrency slots (random per process).
    holder: String,
    pub plans_built: AtomicU64,
}

/// The model name of a cooldown that holds for every model of the account (a used-up
/// subscription quota).
pub const ACCOUNT_WIDE: &str = "*";

fn find_cooldown<'a>(
    map: &'a HashMap<i64, Vec<(String, Cooldown)>>,
    account: i64,
    model: &str,
    now: SystemTime,
) -> Option<&'a Cooldown> {
    map.get(&account)?.iter().find(|(m, c)| (m == model || m == ACCOUNT_WIDE) && c.until > now).map(|(_, c)| c)
}

pub use crate::base::unix_ms;

impl RoutingState {
    /// Routing memory backed by the store, with the cooldowns still in force loaded back.
    pub async fn load(store: Store) -> Result<Self, crate::store::StoreError> {
        let now = SystemTime::now();
        let mut cooldowns: HashMap<i64, Vec<(String, Cooldown)>> = HashMap::new();
        for c in crate::store::routing::active_cooldowns(&store, unix_ms(now)).await? {
            let until = UNIX_EPOCH + Duration::from_millis(c.until_ms.max(0) as u64);
            let cooldown = Cooldown { until, failures: c.failures.max(1) as u32, reason: c.reason };
            cooldowns.entry(c.account_id).or_default().push((c.model, cooldown));
        }
        let mut id = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut id);
        Ok(Self { cooldowns: Mutex::new(cooldowns), store: Some(store), holder: hex::encode(id), ..Default::default() })
    }

    /// Loads the cooldowns other gateways saved, whenever the shared state's revision moves;
    /// runs until aborted. A cooldown only ever gets longer here: each ends by itself at its
    /// reset, or on this gateway's own success.
    pub async fn follow(self: Arc<Self>) {
        let Some(store) = self.store.clone() else { return };
        let mut seen = None;
        let mut ticker = tokio::time::interval(crate::snapshot::POLL_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renewed = std::time::Instant::now();
        loop {
            ticker.tick().await;
            if renewed.elapsed() >= SLOT_RENEWAL && self.shared_store().is_some() {
                renewed = std::time::Instant::now();
                let now = unix_ms(SystemTime::now());
                let until = now + SLOT_LEASE.as_millis() as i64;
                if let Err(e) = crate::store::slots::renew(&store, &self.holder, now, until).await {
                    tracing::warn!("cannot renew the shared concurrency slots: {e}");
                }
            }
            let Ok(rev) = crate::store::routing::state_rev(&store).await else { continue };
            if seen == Some(rev) {
                continue;
            }
            let now = SystemTime::now();
            match crate::store::routing::active_cooldowns(&store, unix_ms(now)).await {
                Ok(stored) => {
                    self.merge(stored);
                    seen = Some(rev);
                }
                Err(e) => tracing::warn!("cannot read the shared cooldowns: {e}"),
            }
        }
    }

    /// Takes the stored cooldowns that end later than the ones held.
    fn merge(&self, stored: Vec<CooldownRecord>) {
        let mut map = self.cooldowns.lock().unwrap_or_else(|e| e.into_inner());
        for c in stored {
            let until = UNIX_EPOCH + Duration::from_millis(c.until_ms.max(0) as u64);
            let entries = map.entry(c.account_id).or_default();
            match entries.iter_mut().find(|(m, _)| *m == c.model) {
                Some((_, held)) if held.until >= until => {}
                Some((_, held)) => held.until = until,
                None => {
                    let failures = c.failures.max(1) as u32;
                    entries.push((c.model, Cooldown { until, failures, reason: c.reason }));
                }
            }
        }
    }

    /// The cooldown of (account, model) still in force, if any.
    pub fn cooling(&self, account: i64, model: &str, now: SystemTime) -> Option<Cooldown> {
        let map = self.cooldowns.lock().unwrap_or_else(|e| e.into_inner());
        find_cooldown(&map, account, model, now).cloned()
    }

    /// Cools (account, model) down for `wait` (the provider's reset) or by backoff; returns the
    /// cooldown set.
    pub fn cool_down(&self, account: i64, model: &str, wait: Option<Duration>, reason: &str) -> Cooldown {
        let now = SystemTime::now();
        let mut map = self.cooldowns.lock().unwrap_or_else(|e| e.into_inner());
        let entries = map.entry(account).or_default();
        let failures = entries.iter().find(|(m, _)| m == model).map_or(1, |(_, c)| c.failures + 1);
        let wait = wait.unwrap_or_else(|| super::classify::backoff(failures));
        let cooldown = Cooldown { until: now + wait, failures, reason: reason.to_string() };
        entries.retain(|(m, _)| m != model);
        entries.push((model.to_string(), cooldown.clone()));
        drop(map);
        if let Some(store) = self.store.clone() {
            let record = CooldownRecord {
                account_id: account,
                model: model.to_string(),
                until_ms: unix_ms(cooldown.until),
                failures: failures as i64,
                reason: reason.to_string(),
            };
            tokio::spawn(async move {
                if let Err(e) = crate::store::routing::save_cooldown(&store, &record).await {
                    tracing::warn!("cannot save a cooldown: {e}");
                }
            });
        }
        cooldown
    }

    /// A success ends the (account, model) cooldown history and counts the request.
    pub fn on_success(&self, account: Option<i64>, model: &str, session: Option<u64>) {
        let Some(account) = account else { return };
        *self.served.lock().unwrap_or_else(|e| e.into_inner()).entry(account).or_default() += 1;
        let removed = {
            let mut map = self.cooldowns.lock().unwrap_or_else(|e| e.into_inner());
            match map.get_mut(&account) {
                Some(entries) if entries.iter().any(|(m, _)| m == model) => {
                    entries.retain(|(m, _)| m != model);
                    true
                }
                _ => false,
            }
        };
        if removed {
            if let Some(store) = self.store.clone() {
                let model = model.to_string();
                tokio::spawn(async move {
                    let _ = crate::store::routing::clear_cooldown(&store, account, &model).await;
                });
            }
        }
        if let Some(session) = session {
            let mut affinity = self.affinity.lock().unwrap_or_else(|e| e.into_inner());
            let now = SystemTime::now();
            if affinity.len() >= AFFINITY_CAPACITY {
                affinity.retain(|_, (_, at)| now.duration_since(*at).unwrap_or_default() < AFFINITY_TTL);
                if affinity.len() >= AFFINITY_CAPACITY {
                    affinity.clear();
                }
            }
            affinity.insert(session, (account, now));
        }
    }

    fn next_count(&self, key: &str) -> u64 {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = counters.get_mut(key) {
            *slot += 1;
            return *slot - 1;
        }
        counters.insert(key.to_string(), 1);
        0
    }

    /// Where a combo starts this time.
    pub fn combo_start(&self, combo: &str, strategy: ComboStrategy, members: usize) -> usize {
        match strategy {
            // A synthesis combo reached through another combo falls back over its members.
            ComboStrategy::Fallback | ComboStrategy::Synthesize => 0,
            ComboStrategy::RoundRobin if members == 0 => 0,
            // Combo names hold no '/' and provider ids no ':': their counters never mix.
            ComboStrategy::RoundRobin => (self.next_count(&format!("combo:{combo}")) % members as u64) as usize,
        }
    }

    /// The provider's accounts in the order to try them for `model`: the strategy's order,
    /// the conversation's account first while it is healthy (for fill-first, only while no
    /// account of a higher priority is), accounts cooling down for this model left out (they
    /// are returned apart, with their cooldowns).
    pub fn order_accounts(
        &self,
        provider: &ProviderRuntime,
        model: &str,
        session: Option<u64>,
    ) -> (Vec<Arc<AccountRuntime>>, Vec<CoolingAccount>) {
        let now = SystemTime::now();
        let mut ready = Vec::with_capacity(provider.accounts.len());
        let mut cooling = Vec::new();
        {
            let map = self.cooldowns.lock().unwrap_or_else(|e| e.into_inner());
            for a in &provider.accounts {
                match find_cooldown(&map, a.id, model, now) {
                    Some(c) => cooling.push((a.clone(), c.clone())),
                    None => ready.push(a.clone()),
                }
            }
        }
        if ready.len() > 1 {
            match provider.strategy {
                Strategy::FillFirst => {}
                Strategy::RoundRobin => {
                    let start = self.next_count(&provider.id) as usize % ready.len();
                    ready.rotate_left(start);
                }
                Strategy::StickyRoundRobin => {
                    let uses = provider.sticky_uses.max(1) as u64;
                    let start = (self.next_count(&provider.id) / uses) as usize % ready.len();
                    ready.rotate_left(start);
                }
                Strategy::LeastUsed => {
                    let served = self.served.lock().unwrap_or_else(|e| e.into_inner());
                    ready.sort_by_key(|a| (served.get(&a.id).copied().unwrap_or(0), a.priority, a.id));
                }
            }
            if let Some(session) = session {
                let remembered =
                    self.affinity.lock().unwrap_or_else(|e| e.into_inner()).get(&session).map(|(id, _)| *id);
                // Fill-first: a healthy account of a higher priority wins the conversation back
                // (one prompt-cache miss costs less than hours on a lower-priority, often paid,
                // account); affinity chooses among the accounts of the first one's priority.
                // The rotating strategies pool every account: affinity holds across them.
                let keeps =
                    |a: &AccountRuntime| provider.strategy != Strategy::FillFirst || a.priority == ready[0].priority;
                if let Some(pos) = remembered.and_then(|id| ready.iter().position(|a| a.id == id && keeps(a))) {
                    let account = ready.remove(pos);
                    ready.insert(0, account);
                }
            }
        }
        (ready, cooling)
    }

    /// The account a conversation was last served by, if it is remembered.
    pub fn affinity_of(&self, session: u64) -> Option<i64> {
        self.affinity.lock().unwrap_or_else(|e| e.into_inner()).get(&session).map(|(id, _)| *id)
    }

    /// Requests each account has served since start (for least-used, and the tests).
    pub fn served(&self, account: i64) -> u64 {
        self.served.lock().unwrap_or_else(|e| e.into_inner()).get(&account).copied().unwrap_or(0)
    }

    /// The store, when gateways share it (PostgreSQL): concurrency caps are then counted there.
    fn shared_store(&self) -> Option<&Store> {
        self.store.as_ref().filter(|s| s.backend() == crate::store::Backend::Postgres)
    }

    /// Starts a request on `account` unless it is at its concurrency cap, in this gateway and,
    /// on a shared database, across the fleet. The request counts until the returned guard is
    /// dropped (the answer's body ended). A shared store that cannot be reached leaves the
    /// gateway's own count in force.
    pub async fn begin(&self, account: &AccountRuntime) -> Option<InFlight> {
        let mut local = self.try_begin(account)?;
        let (Some(store), Some(cap)) = (self.shared_store(), account.max_concurrent) else { return Some(local) };
        let now = unix_ms(SystemTime::now());
        let until = now + SLOT_LEASE.as_millis() as i64;
        match crate::store::slots::take(store, account.id, cap as i64, &self.holder, now, until).await {
            Ok(Some(slot)) => {
                local.1 = Some((store.clone(), slot));
                Some(local)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(account = account.id, "cannot take a shared concurrency slot, counting here only: {e}");
                Some(local)
            }
        }
    }

    /// Starts a request on `account` unless it is at this gateway's count of its cap.
    pub fn try_begin(&self, account: &AccountRuntime) -> Option<InFlight> {
        let Some(max) = account.max_concurrent else { return Some(InFlight(None, None)) };
        let counter = self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).entry(account.id).or_default().clone();
        let mut current = counter.load(Ordering::Acquire);
        loop {
            if current >= max {
                return None;
            }
            match counter.compare_exchange(current, current + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(InFlight(Some(counter), None)),
                Err(now) => current = now,
            }
        }
    }

    pub fn count_plan(&self) {
        self.plans_built.fetch_add(1, Ordering::Relaxed);
    }
}
