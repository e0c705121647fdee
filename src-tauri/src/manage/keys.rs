//! Gateway key operations: create (the key is returned once, only its hash is kept), list,
//! revoke. Also the hashing the gateway uses to check a presented key.

use super::{secret_hint, ManageError, Manager, Result};
use crate::store::{self, StoreError};
use base64::Engine;
use rand::RngCore;
use switchyard_api::{CreatedKey, GatewayKey, KeyChange};

/// Gateway keys start with `sk-` so that tools which check for OpenAI-looking keys accept them.
pub const KEY_PREFIX: &str = "sk-sy-";

pub use crate::store::keys::hash_key;

fn expiry(value: &str) -> Result<Option<String>> {
    if value == "never" || value.is_empty() {
        return Ok(None);
    }
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    if let Ok(at) = time::OffsetDateTime::parse(value, rfc3339) {
        return Ok(at.format(rfc3339).ok());
    }
    let date = time::Date::parse(value, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
        ManageError::Invalid(format!(
            "invalid --expires '{value}': write a date like 2027-01-01, an RFC 3339 time, or never"
        ))
    })?;
    Ok(date.midnight().assume_utc().format(rfc3339).ok())
}

impl Manager {
    pub async fn key_set(&self, id: i64, change: KeyChange) -> Result<()> {
        let current = store::keys::list(&self.store)
            .await?
            .into_iter()
            .find(|k| k.id == id && k.revoked_at.is_none())
            .ok_or_else(|| ManageError::NotFound(format!("no active gateway key {id}")))?;
        let mut l = current.limits;
        let money = |v: f64, name: &str| {
            if v.is_finite() && v >= 0.0 {
                Ok((v > 0.0).then_some(v))
            } else {
                Err(ManageError::Invalid(format!("--{name} is USD, zero or more")))
            }
        };
        let count = |v: i64, name: &str| {
            if v >= 0 {
                Ok((v > 0).then_some(v))
            } else {
                Err(ManageError::Invalid(format!("--{name} is a count, zero or more")))
            }
        };
        if let Some(v) = change.budget_daily_usd {
            l.budget_daily_usd = money(v, "budget-daily")?;
        }
        if let Some(v) = change.budget_monthly_usd {
            l.budget_monthly_usd = money(v, "budget-monthly")?;
        }
        if let Some(v) = change.rpm {
            l.rpm = count(v, "rpm")?;
        }
        if let Some(v) = change.tpm {
            l.tpm = count(v, "tpm")?;
        }
        if let Some(m) = change.models {
            let m = m.split(',').map(str::trim).filter(|g| !g.is_empty()).collect::<Vec<_>>().join(",");
            l.models = (!m.is_empty()).then_some(m);
        }
        if let Some(e) = change.expires {
            l.expires_at = expiry(e.trim())?;
        }
        let token_saver = match change.token_saver.as_deref().map(str::trim) {
            None => current.token_saver,
            Some("default") => None,
            Some(v) => Some(super::settings::parse_switch(v).ok_or_else(|| {
                ManageError::Invalid(format!("invalid --token-saver '{v}': expected on, off or default"))
            })?),
        };
        let mut tx = self.store.begin().await?;
        store::keys::set_limits(&mut tx, id, &l).await?;
        store::keys::set_token_saver(&mut tx, id, token_saver).await?;
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn key_create(&self, name: &str) -> Result<CreatedKey> {
        let mut random = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut random);
        let key = format!("{KEY_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random));
        let mut tx = self.store.begin().await?;
        let id = store::keys::insert(&mut tx, name, &hex::encode(hash_key(&key)), &secret_hint(&key)).await?;
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        let record = store::keys::list(&self.store)
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or_else(|| ManageError::NotFound(format!("key {id} vanished")))?;
        Ok(CreatedKey { record: record.into(), key })
    }

    pub async fn key_list(&self) -> Result<Vec<GatewayKey>> {
        Ok(store::keys::list(&self.store).await?.into_iter().map(Into::into).collect())
    }

    pub async fn key_revoke(&self, id: i64) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !store::keys::revoke(&mut tx, id).await? {
            return Err(ManageError::NotFound(format!("no active gateway key {id}")));
        }
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}
