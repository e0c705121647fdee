//! Checking an account against its provider (the dashboard's Test button and the validation
//! after adding a key): one model-list call with the account's credential, which costs no
//! tokens; and the account's live routing state (cooldowns with their reset times).

use super::{ManageError, Manager, Result};
use crate::providers::upstream::UpstreamClient;
use crate::snapshot::{AccountRuntime, ConfigSnapshot, Secret};
use crate::store::{self, accounts::secret_purpose};
use std::time::Instant;
use switchyard_api::{Cooldown, ProbeResult};

/// The most a provider's error text may take in a result.
const ERROR_CHARS: usize = 300;

impl Manager {
    /// Tests account `id` with the provider as `config` (the gateway's live snapshot) has it;
    /// only this account's secret is opened (a disabled account is not in the snapshot).
    pub async fn account_test(
        &self,
        id: i64,
        upstream: &UpstreamClient,
        config: &ConfigSnapshot,
    ) -> Result<ProbeResult> {
        let (account, sealed) = store::accounts::list_sealed(&self.store)
            .await?
            .into_iter()
            .find(|(a, _)| a.id == id)
            .ok_or_else(|| ManageError::NotFound(format!("no account {id}")))?;
        let provider = config
            .providers
            .get(&account.provider_id)
            .ok_or_else(|| ManageError::NotFound(format!("no provider '{}'", account.provider_id)))?;
        let secret = match sealed {
            Some(sealed) => Some(Secret::new(self.sealer.open_string(&secret_purpose(&account.provider_id), &sealed)?)),
            None => None,
        };
        let runtime =
            AccountRuntime { id, label: account.label, priority: account.priority, secret, max_concurrent: None };
        let started = Instant::now();
        let answer = upstream.get_models(provider, Some(&runtime)).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                return Ok(ProbeResult {
                    ok: false,
                    status: None,
                    latency_ms,
                    models: None,
                    error: Some(e.to_string()),
                })
            }
        };
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        if (200..300).contains(&status) {
            let models = body.get("data").or_else(|| body.get("models")).and_then(|m| m.as_array()).map(Vec::len);
            return Ok(ProbeResult { ok: true, status: Some(status), latency_ms, models, error: None });
        }
        let message = body
            .pointer("/error/message")
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("the provider answered {status}"));
        Ok(ProbeResult {
            ok: false,
            status: Some(status),
            latency_ms,
            models: None,
            error: Some(message.chars().take(ERROR_CHARS).collect()),
        })
    }

    /// Cooldowns in force now, soonest reset first (what the dashboard counts down).
    pub async fn cooldowns(&self) -> Result<Vec<Cooldown>> {
        let now = crate::routing::state::unix_ms(std::time::SystemTime::now());
        let mut list = store::routing::active_cooldowns(&self.store, now).await?;
        list.sort_by_key(|c| c.until_ms);
        Ok(list.into_iter().map(Into::into).collect())
    }
}
