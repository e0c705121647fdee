//! The dashboard password: set (first visit, or `settings set dashboard-password`), checked at
//! login. Only an Argon2id hash (PHC string, random salt) is stored, in the settings table under
//! a name `settings list` never shows.

use super::{ManageError, Manager, Result};
use crate::store::{self, StoreError};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// The settings row that holds the hash.
const HASH_ROW: &str = "dashboard-password-hash";
/// The CLI name of the setting (`switchyard settings set dashboard-password -`).
pub const SETTING_NAME: &str = crate::base::settings::DASHBOARD_PASSWORD_SETTING;
pub const MIN_PASSWORD_CHARS: usize = 8;

impl Manager {
    /// Whether a dashboard password has been set.
    pub async fn dashboard_password_is_set(&self) -> Result<bool> {
        Ok(store::settings::all(&self.store).await?.contains_key(HASH_ROW))
    }

    /// Sets (or replaces) the dashboard password.
    pub async fn dashboard_password_set(&self, password: &str) -> Result<()> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(ManageError::Invalid(format!(
                "the dashboard password must have at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await
        .map_err(|e| ManageError::Invalid(format!("cannot hash the password: {e}")))?
        .map_err(|e| ManageError::Invalid(format!("cannot hash the password: {e}")))?;
        let mut tx = self.store.begin().await?;
        store::settings::set(&mut tx, HASH_ROW, &hash).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Checks a password against the stored hash (false when none is set). Runs the Argon2
    /// work off the async threads.
    pub async fn dashboard_password_check(&self, password: &str) -> Result<bool> {
        let Some(stored) = store::settings::all(&self.store).await?.remove(HASH_ROW) else {
            return Ok(false);
        };
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        })
        .await
        .unwrap_or(false);
        Ok(ok)
    }
}
