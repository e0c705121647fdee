//! The management layer: every operation on providers, accounts, gateway keys and settings,
//! once, typed. The CLI, the Tauri commands and the /api routes only call these functions and
//! render their results; none of them holds logic of its own. Requests and answers are the
//! /api contract's types (`switchyard_api`), built from store rows in `views`.

mod accounts;
pub mod dashboard;
mod fleet;
mod keys;
pub mod logins;
mod overview;
mod probe;
mod providers;
mod routing;
pub mod settings;
mod tools;
mod usage;
mod views;

pub use dashboard::MIN_PASSWORD_CHARS;
pub use fleet::StoreCopied;
pub use keys::{hash_key as keys_hash, KEY_PREFIX};
pub use settings::{SettingKey, Settings};
pub use usage::UsageGroup;

use crate::store::secrets::Sealer;
use crate::store::{self, Store, StoreError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A service the operation needs could not be reached (a login's token endpoint).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::store::secrets::SecretError> for ManageError {
    fn from(e: crate::store::secrets::SecretError) -> Self {
        Self::Store(StoreError::Secret(e))
    }
}

pub type Result<T> = std::result::Result<T, ManageError>;

/// The handle every caller uses: the store plus the sealer for secrets.
#[derive(Clone)]
pub struct Manager {
    store: Store,
    sealer: Sealer,
    data_dir: PathBuf,
}

/// Where the store and the master key are, when not both in the data directory.
#[derive(Debug, Clone, Default)]
pub struct StoreLocation {
    /// `postgres://…` (team mode: a database many gateways share) or `sqlite://PATH`; None:
    /// the SQLite file in the data directory.
    pub database_url: Option<String>,
    /// The master key (64 hex characters) every gateway of a fleet shares; None: the data
    /// directory's key (or the OS keychain's), made on first use.
    pub master_key_file: Option<PathBuf>,
}

impl Manager {
    /// Opens the data directory: database (migrated) and master key.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        Self::open_at(data_dir, &StoreLocation::default()).await
    }

    /// Opens the store where `at` says, with its master key. Refused before anything is
    /// written: a shared database without a master key file, an unreachable database, a
    /// schema newer than this build, a key other than the one the secrets are sealed with.
    pub async fn open_at(data_dir: &Path, at: &StoreLocation) -> Result<Self> {
        let shared = at.database_url.as_deref().is_some_and(|u| u.starts_with("postgres"));
        store::ensure_private_dir(data_dir)?;
        let sealer = match &at.master_key_file {
            Some(file) => Sealer::from_key_file(file)?,
            None if shared => {
                return Err(ManageError::Invalid(
                    "a shared database needs the fleet's master key: give --master-key-file FILE (or \
                     SWITCHYARD_MASTER_KEY_FILE); make one with `switchyard master-key new FILE` and give the \
                     same file to every gateway"
                        .into(),
                ))
            }
            None => Sealer::load_or_create(data_dir)?,
        };
        let store = match &at.database_url {
            Some(url) => Store::connect_unmigrated(url).await?,
            None => Store::open_unmigrated(data_dir).await?,
        };
        let wrong_key = || ManageError::Store(StoreError::WrongMasterKey(store.shown().to_string()));
        if store::secrets::key_matches(&store, &sealer).await == Some(false) {
            return Err(wrong_key());
        }
        store.migrate().await?;
        store::secrets::record_key_check(&store, &sealer).await?;
        if store::secrets::key_matches(&store, &sealer).await != Some(true) {
            return Err(wrong_key());
        }
        Ok(Self { store, sealer, data_dir: data_dir.to_path_buf() })
    }

    /// Opens the data directory with a sealer given (tests: no keychain, no key file).
    #[cfg(test)]
    pub async fn open_with_sealer(data_dir: &Path, sealer: Sealer) -> Result<Self> {
        let store = Store::open(data_dir).await?;
        Ok(Self { store, sealer, data_dir: data_dir.to_path_buf() })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// A short, safe-to-show hint of a secret: its first 3 and last 4 characters.
pub fn secret_hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return "…".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}
