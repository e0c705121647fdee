//! The store: one SQLite file (WAL) in the data directory, or a PostgreSQL database shared by
//! a fleet (`Store::connect`), opened through sqlx's `Any` driver and migrated at open
//! (`migrations/sqlite`, `migrations/postgres`, kept in step). One repository module per aggregate; secrets are sealed (`secrets`) before they are
//! written. Every configuration write bumps `config_rev` in the same transaction, which is what
//! running gateways poll to reload (see `snapshot::LiveConfig::watch`).

pub mod accounts;
pub mod copy;
pub mod keys;
pub mod leases;
pub mod providers;
pub mod rates;
pub mod routing;
pub mod secrets;
pub mod serving;
pub mod sessions;
pub mod settings;
pub mod slots;
pub mod usage;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
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
    #[error("{0}")]
    Url(String),
    #[error(
        "the database at {url} has schema version {found}, newer than this Switchyard knows ({known}): \
         upgrade Switchyard (nothing was written)"
    )]
    NewerSchema { url: String, found: i64, known: i64 },
    #[error(
        "the secrets in {0} are sealed with another master key: start with the key they were sealed with \
         (--master-key-file FILE or SWITCHYARD_MASTER_KEY_FILE; every gateway of a fleet uses the same one). \
         Nothing was written"
    )]
    WrongMasterKey(String),
}

/// Which engine holds the store: the SQLite file of one machine, or a PostgreSQL database a
/// fleet of gateways shares. The same SQL serves both (numbered `$N` parameters, integers and
/// 0/1 flags as BIGINT); the few statements that differ ask `backend()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The URL without its password, for messages.
    shown: String,
}

impl Store {
    /// Opens (creating if needed) the SQLite database in `data_dir` and applies pending
    /// migrations.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let store = Self::open_unmigrated(data_dir).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the SQLite database in `data_dir` without migrating it (`migrate` next).
    pub async fn open_unmigrated(data_dir: &Path) -> Result<Self, StoreError> {
        ensure_private_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        const KEPT: &percent_encoding::AsciiSet =
            &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'.').remove(b'-').remove(b'_');
        let encoded = percent_encoding::utf8_percent_encode(&path.to_string_lossy(), KEPT).to_string();
        let store = Self::connect_unmigrated(&format!("sqlite://{encoded}?mode=rwc")).await?;
        restrict_db_files(data_dir);
        Ok(store)
    }

    /// Opens the store at `url`: `postgres://…` (or `postgresql://…`) for PostgreSQL,
    /// `sqlite://PATH` for a SQLite file; applies pending migrations. A database whose schema
    /// is newer than this build is refused before anything is written.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect_unmigrated(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to the database at `url` without migrating it (`migrate` next).
    pub async fn connect_unmigrated(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = match url.split(':').next().unwrap_or_default() {
            "postgres" | "postgresql" => Backend::Postgres,
            "sqlite" => Backend::Sqlite,
            other => {
                return Err(StoreError::Url(format!(
                    "unsupported database URL scheme '{other}:': use postgres://USER:PASSWORD@HOST:PORT/DATABASE \
                     (or leave --database-url out for the SQLite file in the data directory)"
                )))
            }
        };
        let options =
            AnyConnectOptions::from_str(url).map_err(|e| StoreError::Url(format!("invalid database URL: {e}")))?;
        // One connection first: a pool's "timed out" would hide why (refused, unknown host,
        // authentication, no such database).
        let unreachable = |e: String| StoreError::Url(format!("cannot reach the database at {}: {e}", redacted(url)));
        match tokio::time::timeout(
            Duration::from_secs(10),
            <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options),
        )
        .await
        {
            Ok(Ok(probe)) => {
                let _ = sqlx::Connection::close(probe).await;
            }
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => return Err(unreachable("no answer within 10 s".into())),
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Url(format!("cannot reach the database at {}: {e}", redacted(url))))?;
        Ok(Self { pool, backend, shown: redacted(url) })
    }

    /// Where the store is, for messages (no password).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Whether the database answers and holds exactly this build's schema.
    pub async fn schema_current(&self) -> Result<bool, StoreError> {
        let known = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&self.pool).await?;
        Ok(applied == Some(known))
    }

    fn migrator(&self) -> sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        }
    }

    /// Applies pending migrations; refuses a database whose schema is newer than this build.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = self.migrator();
        let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&self.pool).await.unwrap_or(None);
        if let Some(found) = applied.filter(|v| *v > known) {
            return Err(StoreError::NewerSchema { url: self.shown.clone(), found, known });
        }
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
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

/// A database URL as it may be shown: without its password.
pub fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// Bumps the configuration revision inside a write transaction.
pub async fn bump_config_rev(tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
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
