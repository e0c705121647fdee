//! Account events worth telling the user about while they happen: an account ran out of quota
//! (it rests until its reset), or a provider rejected its key or login (it is set aside until
//! the user acts). The request path sends them (a cheap check when nobody listens); the
//! desktop app turns them into native notifications.

use serde::Serialize;
use std::time::SystemTime;
use tokio::sync::broadcast;

/// How many events a slow listener may fall behind before it misses some.
const CAPACITY: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccountNotice {
    /// Out of quota or credit: the account rests until `until_ms` (Unix milliseconds).
    OutOfQuota { account: i64, provider: String, model: String, until_ms: i64, reason: String },
    /// The provider refused the key or login: it needs the user (a new key, a new login).
    NeedsLogin { account: i64, provider: String, reason: String },
}

impl AccountNotice {
    pub fn account(&self) -> i64 {
        match self {
            Self::OutOfQuota { account, .. } | Self::NeedsLogin { account, .. } => *account,
        }
    }
}

/// The channel of account events.
#[derive(Clone)]
pub struct Notices {
    sender: broadcast::Sender<AccountNotice>,
}

impl Default for Notices {
    fn default() -> Self {
        Self { sender: broadcast::channel(CAPACITY).0 }
    }
}

impl Notices {
    pub fn subscribe(&self) -> broadcast::Receiver<AccountNotice> {
        self.sender.subscribe()
    }

    /// Sends an event if anyone listens (building it costs nothing otherwise).
    pub fn send(&self, notice: impl FnOnce() -> AccountNotice) {
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(notice());
        }
    }
}

/// Whether a cooldown means the account's quota or credit ran out (as opposed to a short rate
/// limit): the provider said so, or it will not be ready for a quarter of an hour.
pub fn is_out_of_quota(reason: &str, until: SystemTime, now: SystemTime) -> bool {
    let lower = reason.to_ascii_lowercase();
    let long = until.duration_since(now).is_ok_and(|d| d.as_secs() >= 15 * 60);
    long || ["quota", "credit", "balance", "usage limit", "resource_exhausted"].iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn quota_is_told_apart_from_a_short_rate_limit() {
        let now = SystemTime::now();
        let soon = now + Duration::from_secs(20);
        assert!(!is_out_of_quota("429: slow down", soon, now));
        assert!(is_out_of_quota("429: You exceeded your current quota", soon, now));
        assert!(is_out_of_quota("402: credit balance too low", soon, now));
        assert!(is_out_of_quota("429: slow down", now + Duration::from_secs(3600), now));
    }

    #[tokio::test]
    async fn events_reach_listeners_and_cost_nothing_without_one() {
        let notices = Notices::default();
        notices.send(|| unreachable!("nobody listens: the event is not built"));
        let mut rx = notices.subscribe();
        notices.send(|| AccountNotice::NeedsLogin { account: 7, provider: "openai".into(), reason: "401".into() });
        assert_eq!(rx.recv().await.map(|n| n.account()).ok(), Some(7));
    }
}
