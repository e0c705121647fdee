//! The store: one SQLite file (WAL) in the data directory, opened through sqlx, migrated at
//! open. One repository module per aggregate; secrets are sealed (`secrets`) before they are
//! written. Every configuration write bumps `config_rev` in the same transaction, which is what
//! running gateways poll to reload (see `snapshot::LiveConfig::watch`).

pub mod accounts;
pub mod keys;
pub mod providers;
pub mod routing;
pub mod secrets;
pub mod serving;
pub mod settings;
pub mod usage;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub const DB_FILE: &str = "switchyard.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Secret(#[from] secrets::SecretError),
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and applies pending migrations.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        ensure_private_dir(data_dir)?;
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(data_dir.join(DB_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(4).min_connections(1).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        restrict_db_files(data_dir);
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn begin(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// The configuration revision: bumped by every configuration write.
    pub async fn config_rev(&self) -> Result<i64, StoreError> {
        let rev: i64 =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'config_rev'").fetch_one(&self.pool).await?;
        Ok(rev)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Bumps the configuration revision inside a write transaction.
pub async fn bump_config_rev(tx: &mut Transaction<'static, Sqlite>) -> Result<(), StoreError> {
    sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'config_rev'").execute(&mut **tx).await?;
    Ok(())
}

/// Current UTC time as RFC 3339, the one timestamp format the store uses.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"))
}

/// Creates the data directory readable only by the user (0700 on Unix).
pub fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir { path: dir.to_path_buf(), source })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// The database holds no plaintext secret, but it is the user's configuration: keep the file and
/// its WAL companions readable only by the user.
fn restrict_db_files(data_dir: &Path) {
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let path = data_dir.join(format!("{DB_FILE}{suffix}"));
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = data_dir;
}
