//! Routing operations: a provider's rotation strategy, an account's priority and enabled flag,
//! combos (named fallback chains, checked for unknown members and cycles) and model aliases.

use super::{ManageError, Manager, Result};
use crate::routing::{validate_combo_member, ComboStrategy, Strategy};
use crate::snapshot::ConfigSnapshot;
use crate::store::routing::{AliasRecord, ComboRecord};
use crate::store::{self, StoreError};

impl Manager {
    pub async fn provider_set(&self, id: &str, strategy: Strategy, sticky_uses: Option<i64>) -> Result<()> {
        let sticky = sticky_uses.unwrap_or(3);
        if !(1..=1000).contains(&sticky) {
            return Err(ManageError::Invalid(format!("--sticky must be 1 to 1000, not {sticky}")));
        }
        let mut tx = self.store.begin().await?;
        if !store::providers::set_strategy(&mut tx, id, strategy, sticky).await? {
            return Err(ManageError::NotFound(format!("no provider '{id}'")));
        }
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Changes an account; any change also clears a "needs attention" mark.
    pub async fn account_set(
        &self,
        id: i64,
        priority: Option<i64>,
        enabled: Option<bool>,
        label: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !store::accounts::update(&mut tx, id, priority, enabled, label).await? {
            return Err(ManageError::NotFound(format!("no account {id}")));
        }
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn combo_set(&self, name: &str, strategy: ComboStrategy, members: &[String]) -> Result<()> {
        validate_name(name, "combo")?;
        if members.is_empty() {
            return Err(ManageError::Invalid(format!("combo '{name}' needs at least one model")));
        }
        let mut config = ConfigSnapshot::load(self).await?;
        if config.providers.contains_key(name) || config.aliases.contains_key(name) {
            return Err(ManageError::Conflict(format!("'{name}' is already a provider or an alias")));
        }
        // Check the members against the configuration as it will be, this combo included.
        config.combos.insert(name.to_string(), crate::snapshot::ComboRuntime { strategy, members: members.to_vec() });
        for member in members {
            validate_combo_member(&config, name, member)
                .map_err(|e| ManageError::Invalid(format!("member '{member}': {e}")))?;
        }
        let mut tx = self.store.begin().await?;
        store::routing::upsert_combo(&mut tx, name, strategy.as_str(), members).await?;
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn combo_list(&self) -> Result<Vec<ComboRecord>> {
        Ok(store::routing::list_combos(&self.store).await?)
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
        let mut config = ConfigSnapshot::load(self).await?;
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

    pub async fn alias_list(&self) -> Result<Vec<AliasRecord>> {
        Ok(store::routing::list_aliases(&self.store).await?)
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
