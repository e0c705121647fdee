//! Routing operations: a provider's rotation strategy, an account's priority and enabled flag,
//! combos (named fallback chains or synthesis groups, checked for unknown members, cycles and
//! a mix of chat and embedding models) and model aliases.

use super::providers::parse_name;
use super::{ManageError, Manager, Result};
use crate::routing::{validate_combo_member, ComboStrategy, Strategy};
use crate::snapshot::{ComboRuntime, ConfigSnapshot, DEFAULT_SYNTHESIS_DEADLINE_SECS};
use crate::store::{self, StoreError};
use switchyard_api::{AccountChange, Alias, Combo, ComboSpec, ProviderChange};

impl Manager {
    /// Changes how a provider is used: rotation strategy, proxy, timeouts. Fields left `None`
    /// stay as they are.
    pub async fn provider_set(&self, id: &str, change: ProviderChange) -> Result<()> {
        let strategy: Option<Strategy> = parse_name(change.strategy.as_deref())?;
        if let Some(sticky) = change.sticky_uses {
            if !(1..=1000).contains(&sticky) {
                return Err(ManageError::Invalid(format!("--sticky must be 1 to 1000, not {sticky}")));
            }
        }
        let proxy = match change.proxy.as_deref() {
            None => None,
            Some("default") => Some(None),
            Some("none") => Some(Some("none")),
            Some(url) => {
                super::settings::validate_proxy_url(url)
                    .map_err(|why| ManageError::Invalid(format!("invalid --proxy '{url}': {why}")))?;
                Some(Some(url))
            }
        };
        let timeout = |v: Option<u64>, name: &str| -> Result<Option<Option<i64>>> {
            match v {
                None => Ok(None),
                Some(0) => Ok(Some(None)),
                Some(s) if s <= 3600 => Ok(Some(Some(s as i64))),
                Some(s) => Err(ManageError::Invalid(format!(
                    "--{name} must be 1 to 3600 seconds (0: the global setting), not {s}"
                ))),
            }
        };
        let first_byte = timeout(change.first_byte_timeout_secs, "first-byte-timeout")?;
        let stall = timeout(change.stall_timeout_secs, "stall-timeout")?;
        let mut tx = self.store.begin().await?;
        if !store::providers::exists(&mut tx, id).await? {
            return Err(ManageError::NotFound(format!("no provider '{id}'")));
        }
        if strategy.is_some() || change.sticky_uses.is_some() {
            let current = store::providers::list(&self.store).await?.into_iter().find(|p| p.id == id);
            let strategy = strategy.or(current.as_ref().map(|p| p.strategy)).unwrap_or(Strategy::FillFirst);
            let sticky = change.sticky_uses.or(current.map(|p| p.sticky_uses)).unwrap_or(3);
            store::providers::set_strategy(&mut tx, id, strategy, sticky).await?;
        }
        store::providers::set_network(&mut tx, id, proxy, first_byte, stall).await?;
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Changes an account; any change also clears a "needs attention" mark. A cap of 0
    /// removes the cap.
    pub async fn account_set(&self, id: i64, change: AccountChange) -> Result<()> {
        let change = store::accounts::AccountChange {
            priority: change.priority,
            enabled: change.enabled,
            label: change.label.as_deref(),
            max_concurrent: change.max_concurrent.map(|n| (n > 0).then_some(n)),
        };
        if let Some(Some(n)) = change.max_concurrent {
            if !(1..=10_000).contains(&n) {
                return Err(ManageError::Invalid(format!("--max-concurrent must be 1 to 10000 (0: no cap), not {n}")));
            }
        }
        let mut tx = self.store.begin().await?;
        if !store::accounts::update(&mut tx, id, &change).await? {
            return Err(ManageError::NotFound(format!("no account {id}")));
        }
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn combo_set(&self, name: &str, spec: ComboSpec) -> Result<()> {
        validate_name(name, "combo")?;
        let ComboSpec { strategy, members, judge, deadline_secs } = spec;
        let strategy: ComboStrategy = strategy.parse().map_err(ManageError::Invalid)?;
        if members.is_empty() {
            return Err(ManageError::Invalid(format!("combo '{name}' needs at least one model")));
        }
        let synthesize = strategy == ComboStrategy::Synthesize;
        match (&judge, synthesize) {
            (None, true) => {
                return Err(ManageError::Invalid(format!(
                "combo '{name}' synthesizes: name the model that writes the final answer with --judge PROVIDER/MODEL"
            )))
            }
            (Some(_), false) => {
                return Err(ManageError::Invalid("--judge is for --strategy synthesize combos".into()));
            }
            _ => {}
        }
        if let Some(secs) = deadline_secs {
            if !synthesize {
                return Err(ManageError::Invalid("--deadline is for --strategy synthesize combos".into()));
            }
            if !(1..=600).contains(&secs) {
                return Err(ManageError::Invalid(format!("--deadline must be 1 to 600 seconds, not {secs}")));
            }
        }
        let mut config = ConfigSnapshot::load(self.store(), self.sealer()).await?;
        if config.providers.contains_key(name) || config.aliases.contains_key(name) {
            return Err(ManageError::Conflict(format!("'{name}' is already a provider or an alias")));
        }
        // Check the members against the configuration as it will be, this combo included.
        let deadline = std::time::Duration::from_secs(deadline_secs.unwrap_or(DEFAULT_SYNTHESIS_DEADLINE_SECS));
        let runtime = ComboRuntime { strategy, members: members.clone(), judge: judge.clone(), deadline };
        config.combos.insert(name.to_string(), runtime);
        for member in members.iter().chain(judge.as_ref()) {
            validate_combo_member(&config, name, member)
                .map_err(|e| ManageError::Invalid(format!("member '{member}': {e}")))?;
        }
        check_kinds(&config, name, synthesize, judge.as_deref())?;
        let mut tx = self.store.begin().await?;
        let deadline = deadline_secs.map(|s| s as i64);
        store::routing::upsert_combo(&mut tx, name, strategy.as_str(), &members, judge.as_deref(), deadline).await?;
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn combo_list(&self) -> Result<Vec<Combo>> {
        Ok(store::routing::list_combos(&self.store).await?.into_iter().map(Into::into).collect())
    }

    pub async fn combo_remove(&self, name: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !store::routing::remove_combo(&mut tx, name).await? {
            return Err(ManageError::NotFound(format!("no combo '{name}'")));
        }
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn alias_set(&self, name: &str, target: &str) -> Result<()> {
        validate_name(name, "alias")?;
        let mut config = ConfigSnapshot::load(self.store(), self.sealer()).await?;
        if config.providers.contains_key(name) || config.combos.contains_key(name) {
            return Err(ManageError::Conflict(format!("'{name}' is already a provider or a combo")));
        }
        config.aliases.insert(name.to_string(), target.to_string());
        validate_combo_member(&config, name, target)
            .map_err(|e| ManageError::Invalid(format!("target '{target}': {e}")))?;
        let mut tx = self.store.begin().await?;
        store::routing::upsert_alias(&mut tx, name, target).await?;
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn alias_list(&self) -> Result<Vec<Alias>> {
        Ok(store::routing::list_aliases(&self.store).await?.into_iter().map(Into::into).collect())
    }

    pub async fn alias_remove(&self, name: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !store::routing::remove_alias(&mut tx, name).await? {
            return Err(ManageError::NotFound(format!("no alias '{name}'")));
        }
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}

/// A combo holds chat models or embedding models, not both; a synthesis combo and its judge
/// hold chat models.
fn check_kinds(config: &ConfigSnapshot, name: &str, synthesize: bool, judge: Option<&str>) -> Result<()> {
    use crate::providers::capabilities::{kind_of, ModelKind};
    let state = crate::routing::RoutingState::default();
    let candidates = crate::routing::plan(config, &state, name).unwrap_or_default();
    let named = |kind: ModelKind| -> Vec<String> {
        candidates
            .iter()
            .filter(|c| kind_of(&c.upstream_model) == Some(kind))
            .map(|c| format!("{}/{}", c.provider.id, c.upstream_model))
            .collect()
    };
    let (embedding, chat) = (named(ModelKind::Embedding), named(ModelKind::Chat));
    if !embedding.is_empty() && !chat.is_empty() {
        return Err(ManageError::Invalid(format!(
            "combo '{name}' mixes embedding models ({}) with chat models ({}): an embeddings combo may only hold embedding models",
            embedding.join(", "),
            chat.join(", ")
        )));
    }
    if synthesize {
        let judge_embeds = judge.is_some_and(|j| kind_of(j) == Some(ModelKind::Embedding));
        if !embedding.is_empty() || judge_embeds {
            return Err(ManageError::Invalid(format!(
                "combo '{name}' synthesizes chat answers: its members and judge must be chat models, not embedding models"
            )));
        }
    }
    Ok(())
}

/// Combo and alias names are model names clients type: no '/', which marks PROVIDER/MODEL.
fn validate_name(name: &str, what: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.contains('/')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ManageError::Invalid(format!(
            "invalid {what} name '{name}': use letters, digits, '-', '_', '.' or ':' (no '/')"
        )))
    }
}
