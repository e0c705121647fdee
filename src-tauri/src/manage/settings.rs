//! Settings kept in the store: read with defaults filled in, and changed one at a time
//! (each value checked by `base::settings`, the configuration revision bumped).

use super::{ManageError, Manager, Result};
pub use crate::base::settings::*;
use crate::store::{self, StoreError};

impl Manager {
    /// The settings in force, defaults filled in.
    pub async fn settings_get(&self) -> Result<switchyard_api::Settings> {
        Ok(self.settings_in_force().await?.into())
    }

    pub(super) async fn settings_in_force(&self) -> Result<Settings> {
        Ok(Settings::from_rows(&store::settings::all(&self.store).await?))
    }

    /// Changes one setting (its value checked); answers the settings now in force.
    pub async fn settings_set(&self, key: &str, value: &str) -> Result<switchyard_api::Settings> {
        if key == super::dashboard::SETTING_NAME {
            self.dashboard_password_set(value).await?;
            return self.settings_get().await;
        }
        if key.starts_with("login.") {
            crate::login::endpoints::validate(key, value.trim()).map_err(ManageError::Invalid)?;
            let mut tx = self.store.begin().await?;
            store::settings::set(&mut tx, key, value.trim()).await?;
            store::bump_config_rev(&mut tx).await?;
            tx.commit().await.map_err(StoreError::from)?;
            return self.settings_get().await;
        }
        let key: SettingKey = key.parse().map_err(ManageError::Invalid)?;
        let mut settings = self.settings_in_force().await?;
        settings.apply(key, value.trim()).map_err(ManageError::Invalid)?;
        let mut tx = self.store.begin().await?;
        store::settings::set(&mut tx, key.name(), value.trim()).await?;
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(settings.into())
    }
}
