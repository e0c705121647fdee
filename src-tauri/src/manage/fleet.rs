//! Team mode operations: copying this store (configuration, sealed secrets, usage) into the
//! database a fleet of gateways shares, its secrets re-sealed with the fleet's master key.

use super::{ManageError, Manager, Result};
use crate::store::accounts::secret_purpose;
use crate::store::secrets::{self, Sealer};
use crate::store::{self, Store, StoreError};
use std::path::Path;

/// What a copy did.
#[derive(Debug, Clone)]
pub struct StoreCopied {
    /// Where to (no password).
    pub to: String,
    /// Rows per table.
    pub tables: Vec<(&'static str, u64)>,
    /// The secrets were re-sealed with another master key than this store's.
    pub resealed: bool,
}

impl Manager {
    /// Copies this store into the empty database at `to`. Its secrets are sealed with the key
    /// in `to_master_key_file` (the fleet's), or with this store's own key.
    pub async fn store_copy(&self, to: &str, to_master_key_file: Option<&Path>) -> Result<StoreCopied> {
        let sealer = match to_master_key_file {
            Some(file) => Sealer::from_key_file(file)?,
            None => self.sealer.clone(),
        };
        let destination = Store::connect_unmigrated(to).await?;
        if secrets::key_matches(&destination, &sealer).await == Some(false) {
            return Err(ManageError::Store(StoreError::WrongMasterKey(destination.shown().to_string())));
        }
        destination.migrate().await?;
        let tables = store::copy::copy(&self.store, &destination, |provider, sealed| {
            let purpose = secret_purpose(provider);
            Ok(sealer.seal(&purpose, &self.sealer.open(&purpose, sealed)?)?)
        })
        .await?;
        secrets::record_key_check(&destination, &sealer).await?;
        destination.close().await;
        Ok(StoreCopied { to: destination.shown().to_string(), tables, resealed: to_master_key_file.is_some() })
    }
}
