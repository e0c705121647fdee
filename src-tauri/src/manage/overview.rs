//! Read views that several screens share: the overview (counts and the last 24 hours' totals)
//! and every model name a client may use (for the combo editor and the setup steps).

use super::{Manager, Result, UsageGroup};

pub use switchyard_api::{Overview, Totals};

impl Manager {
    /// Every request's totals over a period (`24h`, `7d`, ...): the overview's and the tray's.
    pub async fn totals(&self, since: &str) -> Result<Totals> {
        let mut totals = Totals::default();
        for group in self.usage_summary(since, UsageGroup::Provider).await? {
            totals.requests += group.requests;
            totals.errors += group.errors;
            totals.input_tokens += group.input_tokens;
            totals.output_tokens += group.output_tokens;
            totals.cost_usd += group.cost_usd;
            totals.api_equivalent_usd += group.api_equivalent_usd;
            totals.tokens_saved += group.tokens_saved;
        }
        Ok(totals)
    }

    pub async fn overview(&self) -> Result<Overview> {
        let accounts = self.account_list().await?;
        let last_24h = self.totals("24h").await?;
        Ok(Overview {
            version: env!("CARGO_PKG_VERSION").to_string(),
            providers: self.provider_list().await?.len(),
            accounts: accounts.len(),
            accounts_enabled: accounts.iter().filter(|a| a.enabled).count(),
            accounts_needing_attention: accounts.iter().filter(|a| a.needs_attention.is_some()).count(),
            combos: self.combo_list().await?.len(),
            keys_active: self.key_list().await?.iter().filter(|k| k.revoked_at.is_none()).count(),
            last_24h,
        })
    }

    /// Every name a client may send as the model: combos, aliases, then `PROVIDER/MODEL`.
    pub async fn model_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self.combo_list().await?.into_iter().map(|c| c.name).collect();
        names.extend(self.alias_list().await?.into_iter().map(|a| a.name));
        names.sort();
        for provider in self.provider_list().await? {
            names.extend(provider.models.iter().map(|m| format!("{}/{m}", provider.id)));
        }
        Ok(names)
    }
}
