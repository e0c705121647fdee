//! Secret sealing: API keys (and later OAuth tokens) are encrypted with AES-256-GCM, a fresh
//! random nonce per value, before they reach the database. The 256-bit master key lives in the
//! OS keychain where one answers, otherwise in `master.key` in the data directory, readable only
//! by the user (0600). A marker file records which of the two holds the key, so that a gateway
//! started where the keychain cannot be reached fails loudly instead of making a new key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use std::path::{Path, PathBuf};

const KEY_FILE: &str = "master.key";
const KEYCHAIN_MARKER: &str = "master.key.in-keychain";
const KEYCHAIN_SERVICE: &str = "switchyard";
const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("master key file {path}: {source}")]
    KeyFile { path: PathBuf, source: std::io::Error },
    #[error("{0} already exists: a master key is never replaced (the secrets sealed with it would not open); choose another path")]
    KeyFileExists(PathBuf),
    #[error("master key file {0} is damaged (expected 64 hex characters)")]
    KeyFileDamaged(PathBuf),
    #[error("the master key is kept in the OS keychain, which cannot be reached now ({0}); unlock the keychain or run where it is available")]
    KeychainUnavailable(String),
    #[error("a sealed secret could not be opened: the master key does not match or the record is damaged")]
    Open,
    #[error("sealing failed")]
    Seal,
}

/// Where the master key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLocation {
    Keychain,
    File,
}

/// Seals and opens secrets with the master key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
    location: KeyLocation,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").field("location", &self.location).finish_non_exhaustive()
    }
}

impl Sealer {
    /// Loads the master key for `data_dir`, creating one on first use. The keychain is tried
    /// unless `SWITCHYARD_KEYCHAIN=off`.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SecretError> {
        let use_keychain = std::env::var("SWITCHYARD_KEYCHAIN").map(|v| v != "off").unwrap_or(true);
        let (key, location) = load_or_create_master_key(data_dir, use_keychain)?;
        Ok(Self::from_key(&key, location))
    }

    /// The fleet's master key from a file (`--master-key-file`, made by `master-key new`):
    /// 64 hex characters. Nothing is created: a missing or damaged file is an error.
    pub fn from_key_file(path: &Path) -> Result<Self, SecretError> {
        Ok(Self::from_key(&read_key_file(path)?, KeyLocation::File))
    }

    /// A sealer with a fixed key, for tests.
    #[cfg(test)]
    pub fn for_tests() -> Self {
        Self::from_key(&[7u8; 32], KeyLocation::File)
    }

    pub fn from_key(key: &[u8; 32], location: KeyLocation) -> Self {
        Self { cipher: Aes256Gcm::new(key.into()), location }
    }

    pub fn location(&self) -> KeyLocation {
        self.location
    }

    /// `purpose` is bound as associated data: a value sealed for one purpose does not open as another.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: purpose.as_bytes() })
            .map_err(|_| SecretError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != SEAL_VERSION {
            return Err(SecretError::Open);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: purpose.as_bytes() })
            .map_err(|_| SecretError::Open)
    }

    pub fn open_string(&self, purpose: &str, sealed: &[u8]) -> Result<String, SecretError> {
        String::from_utf8(self.open(purpose, sealed)?).map_err(|_| SecretError::Open)
    }
}

fn load_or_create_master_key(data_dir: &Path, use_keychain: bool) -> Result<([u8; 32], KeyLocation), SecretError> {
    let key_file = data_dir.join(KEY_FILE);
    let marker = data_dir.join(KEYCHAIN_MARKER);
    if key_file.exists() {
        return Ok((read_key_file(&key_file)?, KeyLocation::File));
    }
    let account = keychain_account(data_dir);
    if marker.exists() {
        return keychain::get(&account)
            .and_then(|hex_key| decode_key(&hex_key).ok_or_else(|| "the keychain entry is damaged".into()))
            .map(|k| (k, KeyLocation::Keychain))
            .map_err(SecretError::KeychainUnavailable);
    }
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    if use_keychain && keychain::set(&account, &hex::encode(key)).is_ok() {
        // Only trust the keychain once the key reads back.
        if keychain::get(&account).ok().and_then(|k| decode_key(&k)) == Some(key) {
            write_private_file(&marker, format!("The master key of this data directory is in the OS keychain, service '{KEYCHAIN_SERVICE}', account '{account}'.\n").as_bytes())
                .map_err(|source| SecretError::KeyFile { path: marker.clone(), source })?;
            return Ok((key, KeyLocation::Keychain));
        }
    }
    write_private_file(&key_file, hex::encode(key).as_bytes())
        .map_err(|source| SecretError::KeyFile { path: key_file.clone(), source })?;
    Ok((key, KeyLocation::File))
}

/// Writes a new random master key to `path` (0600), refusing to replace a file that exists:
/// a fleet's key is made once and copied to each instance.
pub fn write_new_key_file(path: &Path) -> Result<(), SecretError> {
    use std::io::Write;
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(path).and_then(|mut file| {
        file.write_all(format!("{}\n", hex::encode(key)).as_bytes())?;
        file.sync_all()
    });
    written.map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => SecretError::KeyFileExists(path.to_path_buf()),
        _ => SecretError::KeyFile { path: path.to_path_buf(), source },
    })
}

/// What the check value holds, sealed: opening it proves the key is the one the store's
/// secrets were sealed with.
const CHECK_PURPOSE: &str = "master-key-check";
const CHECK_TEXT: &[u8] = b"switchyard master key";

/// Whether `sealer` holds the key the store was sealed with: `Some(true)` it opens the
/// store's check value, `Some(false)` it does not, `None` the store has no check value yet.
pub async fn key_matches(store: &super::Store, sealer: &Sealer) -> Option<bool> {
    let sealed: Option<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM key_check WHERE id = 1")
        .fetch_optional(store.pool())
        .await
        .ok()
        .flatten();
    sealed.map(|sealed| sealer.open(CHECK_PURPOSE, &sealed).is_ok_and(|text| text == CHECK_TEXT))
}

/// Records the check value of `sealer`'s key unless one is there (two gateways starting at
/// once: the first one's stays, and the caller checks again).
pub async fn record_key_check(store: &super::Store, sealer: &Sealer) -> Result<(), super::StoreError> {
    let sealed = sealer.seal(CHECK_PURPOSE, CHECK_TEXT)?;
    sqlx::query("INSERT INTO key_check (id, sealed) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
        .bind(sealed)
        .execute(store.pool())
        .await?;
    Ok(())
}

fn keychain_account(data_dir: &Path) -> String {
    let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    format!("master-key:{}", canonical.display())
}

fn read_key_file(path: &Path) -> Result<[u8; 32], SecretError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| SecretError::KeyFile { path: path.to_path_buf(), source })?;
    decode_key(text.trim()).ok_or_else(|| SecretError::KeyFileDamaged(path.to_path_buf()))
}

fn decode_key(hex_key: &str) -> Option<[u8; 32]> {
    hex::decode(hex_key.trim()).ok()?.try_into().ok()
}

/// Writes a file that only the user can read, atomically (temp file + rename).
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The OS keychain through the `keyring` crate (macOS Keychain, Windows Credential Manager,
/// Secret Service on Linux desktops).
#[cfg(feature = "keychain")]
mod keychain {
    use super::KEYCHAIN_SERVICE;

    pub fn get(account: &str) -> Result<String, String> {
        keyring::Entry::new(KEYCHAIN_SERVICE, account).and_then(|e| e.get_password()).map_err(|e| e.to_string())
    }

    pub fn set(account: &str, value: &str) -> Result<(), String> {
        keyring::Entry::new(KEYCHAIN_SERVICE, account).and_then(|e| e.set_password(value)).map_err(|e| e.to_string())
    }
}

/// Built without the OS keychain (a server or the container): the key lives in a file.
#[cfg(not(feature = "keychain"))]
mod keychain {
    const ABSENT: &str = "this build has no OS keychain support";

    pub fn get(_account: &str) -> Result<String, String> {
        Err(ABSENT.into())
    }

    pub fn set(_account: &str, _value: &str) -> Result<(), String> {
        Err(ABSENT.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_purpose_binding() {
        let sealer = Sealer::from_key(&[7u8; 32], KeyLocation::File);
        let sealed = sealer.seal("account", b"sk-secret").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"sk-secret"));
        assert_eq!(sealer.open("account", &sealed).unwrap(), b"sk-secret");
        assert!(sealer.open("other", &sealed).is_err());
        let other = Sealer::from_key(&[8u8; 32], KeyLocation::File);
        assert!(other.open("account", &sealed).is_err());
        assert_ne!(sealer.seal("account", b"x").unwrap(), sealer.seal("account", b"x").unwrap());
    }

    #[test]
    fn key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, loc) = load_or_create_master_key(dir.path(), false).unwrap();
        assert_eq!(loc, KeyLocation::File);
        let (k2, _) = load_or_create_master_key(dir.path(), false).unwrap();
        assert_eq!(k1, k2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn damaged_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "not hex").unwrap();
        assert!(matches!(load_or_create_master_key(dir.path(), false), Err(SecretError::KeyFileDamaged(_))));
    }
}
