//! Account operations: add (sealing the key), list (hints only, never secrets), remove.

use super::providers::provider_record;
use super::{secret_hint, ManageError, Manager, Result};
use crate::providers::AuthStyle;
use crate::store::accounts::{secret_purpose, NewAccount};
use crate::store::providers::ProviderRecord;
use crate::store::{self, StoreError};
use sqlx::{Any, Transaction};
use switchyard_api::{Account, NewProvider};

impl Manager {
    /// Adds an account. A catalog provider that is not configured yet is added on the way, so
    /// `account add openai --api-key sk-...` is all a user types.
    pub async fn account_add(&self, req: switchyard_api::NewAccount) -> Result<Account> {
        let mut tx = self.store.begin().await?;
        let provider =
            match store::providers::list(&self.store).await?.into_iter().find(|p| p.id == req.provider) {
                Some(p) => p,
                None => {
                    let record = provider_record(&NewProvider { id: req.provider.clone(), ..Default::default() })
                        .map_err(|e| match e {
                            ManageError::Invalid(msg) if crate::providers::catalog::get(&req.provider).is_none() => {
                                ManageError::NotFound(format!(
                        "no provider '{}': add it with `switchyard provider add {} --kind KIND --base-url URL` ({msg})",
                        req.provider, req.provider
                    ))
                            }
                            other => other,
                        })?;
                    store::providers::insert(&mut tx, &record).await?;
                    record
                }
            };
        let id = self.insert_account(&mut tx, &provider, req.api_key.as_deref(), &req.label, req.priority).await?;
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        let accounts = store::accounts::list(&self.store).await?;
        accounts
            .into_iter()
            .find(|a| a.id == id)
            .map(Into::into)
            .ok_or_else(|| ManageError::NotFound(format!("account {id} vanished")))
    }

    pub(super) async fn insert_account(
        &self,
        tx: &mut Transaction<'static, Any>,
        provider: &ProviderRecord,
        api_key: Option<&str>,
        label: &str,
        priority: i64,
    ) -> Result<i64> {
        if provider.auth == AuthStyle::Login {
            return Err(ManageError::Invalid(format!(
                "'{}' is a subscription login, not an API key provider: sign in with `switchyard login {}`",
                provider.id, provider.id
            )));
        }
        let api_key = api_key.map(str::trim).filter(|k| !k.is_empty());
        if api_key.is_none() && provider.auth != AuthStyle::None {
            return Err(ManageError::Invalid(format!("provider '{}' needs an API key: give --api-key", provider.id)));
        }
        if let Some(key) = api_key {
            if key.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(ManageError::Invalid("the API key contains spaces or control characters".into()));
            }
        }
        let sealed_secret = match api_key {
            Some(key) => Some(self.sealer.seal(&secret_purpose(&provider.id), key.as_bytes())?),
            None => None,
        };
        let key_hint = api_key.map(secret_hint).unwrap_or_default();
        Ok(store::accounts::insert(
            tx,
            NewAccount { provider_id: &provider.id, label, priority, sealed_secret, key_hint, login: None },
        )
        .await?)
    }

    pub async fn account_list(&self) -> Result<Vec<Account>> {
        Ok(store::accounts::list(&self.store).await?.into_iter().map(Into::into).collect())
    }

    pub async fn account_remove(&self, id: i64) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !store::accounts::remove(&mut tx, id).await? {
            return Err(ManageError::NotFound(format!("no account {id}")));
        }
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}
