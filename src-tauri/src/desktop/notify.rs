//! Native notifications: an account ran out of quota, a login or key needs renewing, the port
//! is taken. Each account's event is told at most once an hour, so a busy agent hitting an
//! exhausted account does not flood the desktop. Each notification is also logged.

use crate::routing::AccountNotice;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast;

/// The same account's same event is told again only after this long.
const REPEAT_AFTER: Duration = Duration::from_secs(3600);

pub fn show(app: &AppHandle, title: &str, body: &str) {
    tracing::info!(title, body, "notification");
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("cannot show a notification ({e}): {title}: {body}");
    }
}

pub fn port_problem(app: &AppHandle, message: &str) {
    show(app, "Switchyard is not listening", message);
}

/// What to tell of an account event.
pub fn describe(notice: &AccountNotice, now_ms: i64) -> (String, String) {
    match notice {
        AccountNotice::OutOfQuota { account, provider, model, until_ms, .. } => {
            let minutes = ((until_ms - now_ms).max(0) + 59_999) / 60_000;
            (
                format!("{provider} account {account} is out of quota"),
                format!(
                    "It rests for about {minutes} min ({model}); other accounts and your combos' next members answer meanwhile."
                ),
            )
        }
        AccountNotice::NeedsLogin { account, provider, reason } => (
            format!("{provider} account {account} needs a new key or login"),
            format!("The provider refused it ({reason}). It is set aside until you fix it in Providers."),
        ),
    }
}

pub fn follow(app: &AppHandle, mut notices: broadcast::Receiver<AccountNotice>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut told: HashMap<(i64, std::mem::Discriminant<AccountNotice>), Instant> = HashMap::new();
        loop {
            let notice = match notices.recv().await {
                Ok(notice) => notice,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let key = (notice.account(), std::mem::discriminant(&notice));
            if told.get(&key).is_some_and(|at| at.elapsed() < REPEAT_AFTER) {
                continue;
            }
            told.insert(key, Instant::now());
            let (title, body) = describe(&notice, crate::routing::state::unix_ms(std::time::SystemTime::now()));
            show(&app, &title, &body);
        }
    });
}
