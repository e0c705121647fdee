//! Routing: turns the model name a client asked for into a target (provider, account,
//! upstream model). Model names are `PROVIDER/MODEL`, or a bare model name that exactly one
//! configured provider lists. Account choice here is the first enabled account by priority;
//! pools, combos, cooldowns and fallback grow here.

use crate::providers::AuthStyle;
use crate::snapshot::{AccountRuntime, ConfigSnapshot, ProviderRuntime};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Target {
    pub provider: Arc<ProviderRuntime>,
    pub account: Option<AccountRuntime>,
    pub upstream_model: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    #[error("unknown provider '{provider}' in model '{model}': {hint}")]
    UnknownProvider { provider: String, model: String, hint: String },
    #[error("unknown model '{model}': name it as PROVIDER/MODEL ({hint}); GET /v1/models lists them")]
    UnknownModel { model: String, hint: String },
    #[error("model '{model}' is offered by several providers ({providers}): write it as PROVIDER/{model}")]
    Ambiguous { model: String, providers: String },
    #[error(
        "provider '{provider}' has no enabled account: add one with `switchyard account add {provider} --api-key KEY`"
    )]
    NoAccount { provider: String },
}

/// Resolves `model` against the configuration in force.
pub fn resolve(config: &ConfigSnapshot, model: &str) -> Result<Target, RouteError> {
    let (provider, upstream_model) = match model.split_once('/') {
        Some((prefix, rest)) if !rest.is_empty() && config.providers.contains_key(prefix) => {
            (config.providers[prefix].clone(), rest.to_string())
        }
        Some((prefix, _)) => match find_listed(config, model)? {
            Some(p) => (p, model.to_string()),
            None => {
                return Err(RouteError::UnknownProvider {
                    provider: prefix.to_string(),
                    model: model.to_string(),
                    hint: configured_hint(config),
                })
            }
        },
        None => match find_listed(config, model)? {
            Some(p) => (p, model.to_string()),
            None => return Err(RouteError::UnknownModel { model: model.to_string(), hint: configured_hint(config) }),
        },
    };
    let account = provider.accounts.first().cloned();
    if account.is_none() && provider.auth != AuthStyle::None {
        return Err(RouteError::NoAccount { provider: provider.id.clone() });
    }
    Ok(Target { provider, account, upstream_model })
}

/// The one provider whose model list holds `model` exactly, if any.
fn find_listed(config: &ConfigSnapshot, model: &str) -> Result<Option<Arc<ProviderRuntime>>, RouteError> {
    let matches: Vec<&String> = config
        .provider_order
        .iter()
        .filter(|id| config.providers[id.as_str()].models.iter().any(|m| m == model))
        .collect();
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(config.providers[one.as_str()].clone())),
        many => Err(RouteError::Ambiguous {
            model: model.to_string(),
            providers: many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        }),
    }
}

fn configured_hint(config: &ConfigSnapshot) -> String {
    if config.provider_order.is_empty() {
        "no provider is configured yet: add one with `switchyard account add PROVIDER --api-key KEY`".into()
    } else {
        format!("configured providers: {}", config.provider_order.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ProviderKind;

    fn provider(id: &str, models: &[&str], accounts: usize, auth: AuthStyle) -> (String, Arc<ProviderRuntime>) {
        let accounts = (0..accounts)
            .map(|i| AccountRuntime { id: i as i64, label: String::new(), priority: i as i64, secret: None })
            .collect();
        let rt = ProviderRuntime {
            id: id.into(),
            kind: ProviderKind::Openai,
            base_url: "http://x/v1".into(),
            auth,
            models: models.iter().map(|s| s.to_string()).collect(),
            endpoint: None,
            accounts,
        };
        (id.to_string(), Arc::new(rt))
    }

    fn config(ps: Vec<(String, Arc<ProviderRuntime>)>) -> ConfigSnapshot {
        let mut provider_order: Vec<String> = ps.iter().map(|(k, _)| k.clone()).collect();
        provider_order.sort();
        ConfigSnapshot { provider_order, providers: ps.into_iter().collect(), ..Default::default() }
    }

    #[test]
    fn prefixed_bare_and_nested_names() {
        let c = config(vec![
            provider("openai", &["gpt-5"], 1, AuthStyle::Bearer),
            provider("openrouter", &["anthropic/claude"], 2, AuthStyle::Bearer),
            provider("local", &[], 0, AuthStyle::None),
        ]);
        let t = resolve(&c, "openai/gpt-5").unwrap();
        assert_eq!((t.provider.id.as_str(), t.upstream_model.as_str()), ("openai", "gpt-5"));
        assert_eq!(resolve(&c, "gpt-5").unwrap().provider.id, "openai");
        let t = resolve(&c, "openrouter/anthropic/claude").unwrap();
        assert_eq!(t.upstream_model, "anthropic/claude");
        assert_eq!(t.account.unwrap().id, 0);
        let t = resolve(&c, "anthropic/claude").unwrap();
        assert_eq!((t.provider.id.as_str(), t.upstream_model.as_str()), ("openrouter", "anthropic/claude"));
        assert!(resolve(&c, "local/llama3").unwrap().account.is_none());
        assert!(matches!(resolve(&c, "nope/x"), Err(RouteError::UnknownProvider { .. })));
        assert!(matches!(resolve(&c, "gpt-4"), Err(RouteError::UnknownModel { .. })));
        assert!(matches!(resolve(&c, "openai/"), Err(RouteError::UnknownProvider { .. })));
    }

    #[test]
    fn ambiguity_and_missing_accounts_are_explained() {
        let c = config(vec![provider("a", &["m"], 1, AuthStyle::Bearer), provider("b", &["m"], 0, AuthStyle::Bearer)]);
        assert_eq!(
            resolve(&c, "m").unwrap_err(),
            RouteError::Ambiguous { model: "m".into(), providers: "a, b".into() }
        );
        assert_eq!(resolve(&c, "b/m").unwrap_err(), RouteError::NoAccount { provider: "b".into() });
    }
}
