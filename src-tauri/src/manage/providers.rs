//! Provider operations: add (from the catalog or custom), list, remove.

use super::{ManageError, Manager, Result};
use crate::providers::{catalog, validate_provider_id, AuthStyle, Format};
use crate::store::{self, providers::ProviderRecord};
use switchyard_api::{CatalogEntry, NewProvider, Provider, ProviderAdded};

/// Reads a name given as text (`--kind`, `"kind"`): empty is not given, an unknown name is a
/// mistake saying which names there are.
pub(super) fn parse_name<T: std::str::FromStr<Err = String>>(value: Option<&str>) -> Result<Option<T>> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(|v| v.parse().map_err(ManageError::Invalid)).transpose()
}

impl Manager {
    /// Adds a provider: a catalog id (with a key, for a provider that takes one) or a custom
    /// one (kind and base URL). Fields left out come from the catalog entry of the same id.
    pub async fn provider_add(&self, req: NewProvider) -> Result<ProviderAdded> {
        let record = provider_record(&req)?;
        let mut tx = self.store.begin().await?;
        if store::providers::exists(&mut tx, &record.id).await? {
            return Err(ManageError::Conflict(format!(
                "provider '{}' already exists; remove it first or add an account to it",
                record.id
            )));
        }
        store::providers::insert(&mut tx, &record).await?;
        let account_id = match req.api_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => Some(self.insert_account(&mut tx, &record, Some(key), "", 0).await?),
            None => None,
        };
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(store::StoreError::from)?;
        Ok(ProviderAdded { provider: record.into(), account_id })
    }

    pub async fn provider_list(&self) -> Result<Vec<Provider>> {
        Ok(store::providers::list(&self.store).await?.into_iter().map(Into::into).collect())
    }

    pub fn provider_catalog(&self) -> Vec<CatalogEntry> {
        catalog::all().values().cloned().collect()
    }

    pub async fn provider_remove(&self, id: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !store::providers::remove(&mut tx, id).await? {
            return Err(ManageError::NotFound(format!("no provider '{id}'")));
        }
        store::bump_config_rev(&mut tx).await?;
        tx.commit().await.map_err(store::StoreError::from)?;
        Ok(())
    }
}

/// Builds the row for a new provider from the request and, where the id is in the catalog,
/// the catalog's defaults.
pub(super) fn provider_record(req: &NewProvider) -> Result<ProviderRecord> {
    validate_provider_id(&req.id).map_err(ManageError::Invalid)?;
    let entry = catalog::get(&req.id);
    let requested_kind: Option<Format> = parse_name(req.kind.as_deref())?;
    let requested_auth: Option<AuthStyle> = parse_name(req.auth.as_deref())?;
    let kind = requested_kind.or(entry.map(|e| e.kind)).ok_or_else(|| {
        ManageError::Invalid(format!(
            "'{}' is not in the catalog: give --kind (openai, anthropic, gemini or responses) and --base-url",
            req.id
        ))
    })?;
    let base_url = match (req.base_url.as_ref().filter(|u| !u.trim().is_empty()), entry) {
        (Some(url), _) => url.clone(),
        (None, Some(e)) if !e.needs_base_url => e.base_url.clone(),
        (None, Some(e)) => {
            return Err(ManageError::Invalid(format!(
                "{} needs your own endpoint: give --base-url (e.g. {})",
                e.name, e.base_url
            )))
        }
        (None, None) => {
            return Err(ManageError::Invalid(format!("'{}' is not in the catalog: give --base-url", req.id)))
        }
    };
    let base_url = normalize_base_url(&base_url)?;
    // A provider given its own --kind is the user's own, even under a login's id (`claude`):
    // it takes API keys.
    let catalog_auth = entry.filter(|e| e.kind == kind && !(e.auth == AuthStyle::Login && requested_kind.is_some()));
    let auth = requested_auth.or(catalog_auth.map(|e| e.auth)).unwrap_or_else(|| kind.default_auth());
    if auth == AuthStyle::Login && crate::login::LoginKind::of_provider(&req.id).is_none() {
        return Err(ManageError::Invalid(format!(
            "--auth login is for the subscription providers (claude, codex, copilot, gemini-cli, qwen, kiro), not '{}'",
            req.id
        )));
    }
    let models =
        if req.models.is_empty() { entry.map(|e| e.models.clone()).unwrap_or_default() } else { req.models.clone() };
    for m in &models {
        if m.trim().is_empty() || m.chars().any(char::is_whitespace) {
            return Err(ManageError::Invalid(format!("invalid model name '{m}': model names have no spaces")));
        }
    }
    Ok(ProviderRecord {
        id: req.id.clone(),
        kind,
        base_url,
        auth,
        models,
        from_catalog: entry.is_some(),
        created_at: store::now_rfc3339(),
        strategy: crate::routing::Strategy::FillFirst,
        sticky_uses: 3,
        proxy: None,
        first_byte_timeout_secs: None,
        stall_timeout_secs: None,
    })
}

/// Checks that a base URL is an absolute http(s) URL and drops a trailing slash.
pub fn normalize_base_url(raw: &str) -> Result<String> {
    let url =
        reqwest::Url::parse(raw.trim()).map_err(|e| ManageError::Invalid(format!("invalid base URL '{raw}': {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ManageError::Invalid(format!("invalid base URL '{raw}': it must start with http:// or https://")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ManageError::Invalid(format!("invalid base URL '{raw}': no query string or fragment")));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_provider_needs_nothing_but_its_id() {
        let r = provider_record(&NewProvider { id: "groq".into(), ..Default::default() }).unwrap();
        assert_eq!(r.base_url, "https://api.groq.com/openai/v1");
        assert_eq!(r.kind, Format::Openai);
        assert_eq!(r.auth, AuthStyle::Bearer);
        assert!(r.from_catalog && !r.models.is_empty());
    }

    #[test]
    fn custom_provider_needs_kind_and_url() {
        let err = provider_record(&NewProvider { id: "mine".into(), ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains("--kind"), "{err}");
        let r = provider_record(&NewProvider {
            id: "mine".into(),
            kind: Some("anthropic".into()),
            base_url: Some("http://127.0.0.1:9/".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(r.base_url, "http://127.0.0.1:9");
        assert_eq!(r.auth, AuthStyle::XApiKey);
    }

    #[test]
    fn bad_ids_and_urls_are_refused() {
        for id in ["", "Has Caps", "a/b", "-x"] {
            assert!(
                provider_record(&NewProvider {
                    id: id.into(),
                    kind: Some("openai".into()),
                    base_url: Some("http://x".into()),
                    ..Default::default()
                })
                .is_err(),
                "{id}"
            );
        }
        for url in ["ftp://x", "not a url", "http://x/v1?a=b"] {
            assert!(normalize_base_url(url).is_err(), "{url}");
        }
        assert!(provider_record(&NewProvider { id: "azure".into(), ..Default::default() })
            .unwrap_err()
            .to_string()
            .contains("--base-url"));
    }
}
