//! The models of the providers whose models the user did not choose (no `--models`, or the
//! catalog's list), as each lists them itself (`providers::model_list`), so that `/v1/models`
//! shows a custom, local or catalog provider's real models to the tools' model pickers. Kept in memory and read in the background: at start,
//! within 15 s of a provider being added, and again every 10 minutes; a provider that cannot
//! be asked keeps what it listed last. Subscription logins list their catalog's models.

use super::AppState;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How often a provider's list is read again.
const REFRESH: Duration = Duration::from_secs(600);
/// How often the watch looks for providers whose list is due.
const TICK: Duration = Duration::from_secs(15);

#[derive(Default)]
pub struct ModelLists(RwLock<HashMap<String, Listed>>);

struct Listed {
    models: Arc<Vec<String>>,
    /// Where it was read (a changed base URL is read again).
    base_url: String,
    at: Instant,
}

impl ModelLists {
    /// The models `provider` listed last, if it was asked.
    pub fn get(&self, provider: &str) -> Option<Arc<Vec<String>>> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).get(provider).map(|l| l.models.clone())
    }

    fn due(&self, provider: &str, base_url: &str) -> bool {
        match self.0.read().unwrap_or_else(|e| e.into_inner()).get(provider) {
            Some(listed) => listed.base_url != base_url || listed.at.elapsed() >= REFRESH,
            None => true,
        }
    }

    fn keep(&self, provider: &str, base_url: &str, models: Vec<String>) {
        let listed = Listed { models: Arc::new(models), base_url: base_url.to_string(), at: Instant::now() };
        self.0.write().unwrap_or_else(|e| e.into_inner()).insert(provider.to_string(), listed);
    }
}

/// Reads the lists that are due.
async fn refresh(app: &AppState) {
    let config = app.live.get();
    for provider in config.providers.values() {
        if !provider.lists_own_models || !app.model_lists.due(&provider.id, &provider.base_url) {
            continue;
        }
        let account = provider.accounts.first().map(|a| a.as_ref());
        match crate::providers::model_list::fetch(&app.upstream, provider, account).await {
            Ok(models) => {
                tracing::debug!(provider = %provider.id, models = models.len(), "model list read");
                app.model_lists.keep(&provider.id, &provider.base_url, models);
            }
            Err(why) => tracing::debug!(provider = %provider.id, "model list not read: {why}"),
        }
    }
}

/// Runs until the task is aborted.
pub async fn watch(app: AppState) {
    loop {
        refresh(&app).await;
        tokio::time::sleep(TICK).await;
    }
}
