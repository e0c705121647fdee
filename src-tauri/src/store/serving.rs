//! Where a gateway on this data dir serves: recorded in `serving.json` when it starts
//! listening (`serve` or the app), removed when it stops, so that other commands on the same
//! data dir (`tools apply`) point at the gateway that runs rather than at the `port` setting.
//! A record left by a process that died is ignored (its pid is gone).

use serde::{Deserialize, Serialize};
use std::path::Path;

pub const FILE: &str = "serving.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Serving {
    /// The port it listens on.
    pub port: u16,
    /// The address it listens on (`0.0.0.0` when beyond loopback).
    pub host: String,
    pub pid: u32,
}

/// Records that this process serves on `addr`.
pub fn record(data_dir: &Path, addr: std::net::SocketAddr) {
    let serving = Serving { port: addr.port(), host: addr.ip().to_string(), pid: std::process::id() };
    let written = serde_json::to_vec(&serving).map_err(std::io::Error::other).and_then(|bytes| {
        let temp = data_dir.join(format!("{FILE}.tmp"));
        std::fs::write(&temp, bytes)?;
        std::fs::rename(&temp, data_dir.join(FILE))
    });
    if let Err(e) = written {
        tracing::warn!("cannot record where the gateway serves in {}: {e}", data_dir.display());
    }
}

/// Removes this process's record (another process's is left alone).
pub fn clear(data_dir: &Path) {
    if current(data_dir).is_some_and(|s| s.pid == std::process::id()) {
        let _ = std::fs::remove_file(data_dir.join(FILE));
    }
}

/// The gateway serving on this data dir now, if one is.
pub fn current(data_dir: &Path) -> Option<Serving> {
    let serving: Serving = serde_json::from_slice(&std::fs::read(data_dir.join(FILE)).ok()?).ok()?;
    alive(serving.pid).then_some(serving)
}

#[cfg(unix)]
fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    pid == std::process::id() || unsafe { libc::kill(pid as libc::pid_t, 0) } == 0
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_read_back_and_cleared_and_a_dead_ones_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(current(dir.path()), None);
        record(dir.path(), "127.0.0.1:9999".parse().unwrap());
        assert_eq!(current(dir.path()).map(|s| s.port), Some(9999));
        clear(dir.path());
        assert_eq!(current(dir.path()), None);
        let dead = Serving { port: 1234, host: "127.0.0.1".into(), pid: u32::MAX - 1 };
        std::fs::write(dir.path().join(FILE), serde_json::to_vec(&dead).unwrap()).unwrap();
        assert_eq!(current(dir.path()), None, "a process that died serves nothing");
    }
}
