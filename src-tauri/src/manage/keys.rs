//! Gateway key operations: create (the key is returned once, only its hash is kept), list,
//! revoke. Also the hashing the gateway uses to check a presented key.

use super::{secret_hint, ManageError, Manager, Result};
use crate::store::keys::GatewayKeyRecord;
use crate::store::{self, StoreError};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Gateway keys start with `sk-` so that tools which check for OpenAI-looking keys accept them.
pub const KEY_PREFIX: &str = "sk-sy-";

pub struct CreatedKey {
    pub record: GatewayKeyRecord,
    /// The whole key: shown once, never stored.
    pub key: String,
}

/// SHA-256 of a presented key. Keys carry 192 random bits, so a fast hash is safe here and keeps
/// the check off the request's critical path.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl Manager {
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
        Ok(CreatedKey { record, key })
    }

    pub async fn key_list(&self) -> Result<Vec<GatewayKeyRecord>> {
        Ok(store::keys::list(&self.store).await?)
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
