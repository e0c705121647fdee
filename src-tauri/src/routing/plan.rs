//! Model name → ordered candidates. A name is an alias, a combo (whose members are expanded in
//! order, nested combos included, each candidate once), `PROVIDER/MODEL`, or a bare model that
//! exactly one provider lists.

use super::{RouteError, RoutingState, MAX_COMBO_DEPTH};
use crate::providers::AuthStyle;
use crate::snapshot::{ConfigSnapshot, ProviderRuntime};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Candidate {
    pub provider: Arc<ProviderRuntime>,
    pub upstream_model: String,
}

/// The candidates for `model`, in the order to try them.
pub fn plan(config: &ConfigSnapshot, state: &RoutingState, model: &str) -> Result<Vec<Candidate>, RouteError> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    expand(config, state, model, &mut path, &mut out)?;
    state.count_plan();
    Ok(out)
}

fn expand(
    config: &ConfigSnapshot,
    state: &RoutingState,
    name: &str,
    path: &mut Vec<String>,
    out: &mut Vec<Candidate>,
) -> Result<(), RouteError> {
    if let Some(target) = config.aliases.get(name) {
        return expand_member(config, state, target, name, path, out);
    }
    let Some(combo) = config.combos.get(name) else {
        let candidate = resolve_single(config, name)?;
        if !out.iter().any(|c| c.provider.id == candidate.provider.id && c.upstream_model == candidate.upstream_model) {
            out.push(candidate);
        }
        return Ok(());
    };
    if path.iter().any(|p| p == name) || path.len() >= MAX_COMBO_DEPTH {
        path.push(name.to_string());
        return Err(RouteError::Cycle { combo: path[0].clone(), path: path.join(" → ") });
    }
    let start = state.combo_start(name, combo.strategy, combo.members.len());
    let n = combo.members.len();
    for i in 0..n {
        let member = &combo.members[(start + i) % n];
        expand_member(config, state, member, name, path, out)?;
    }
    Ok(())
}

/// Expands one member of a combo or the target of an alias. A member that no longer resolves
/// (its provider was removed) is skipped, so one stale member does not break the chain; a
/// cycle is an error.
fn expand_member(
    config: &ConfigSnapshot,
    state: &RoutingState,
    member: &str,
    parent: &str,
    path: &mut Vec<String>,
    out: &mut Vec<Candidate>,
) -> Result<(), RouteError> {
    path.push(parent.to_string());
    let result = expand(config, state, member, path, out);
    path.pop();
    match result {
        Err(e @ RouteError::Cycle { .. }) => Err(e),
        Err(e) if config.aliases.contains_key(parent) => Err(e),
        Err(e) => {
            tracing::debug!(parent, member, "combo member skipped: {e}");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// A single model name: `PROVIDER/MODEL`, or a bare name one provider lists.
pub fn resolve_single(config: &ConfigSnapshot, model: &str) -> Result<Candidate, RouteError> {
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
    if provider.accounts.is_empty() && provider.auth != AuthStyle::None {
        return Err(RouteError::NoAccount { provider: provider.id.clone() });
    }
    Ok(Candidate { provider, upstream_model })
}

/// Checks that a combo member or alias target names something that exists, and that using
/// it from `combo` makes no cycle.
pub fn validate_combo_member(config: &ConfigSnapshot, combo: &str, member: &str) -> Result<(), RouteError> {
    let state = RoutingState::default();
    let mut path = vec![combo.to_string()];
    let mut out = Vec::new();
    if member == combo {
        return Err(RouteError::Cycle { combo: combo.into(), path: format!("{combo} → {combo}") });
    }
    match expand(config, &state, member, &mut path, &mut out) {
        Err(RouteError::NoAccount { .. }) => Ok(()),
        other => other,
    }
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
    use crate::providers::Format;
    use crate::routing::{ComboStrategy, Strategy};
    use crate::snapshot::{AccountRuntime, ComboRuntime};

    fn provider(id: &str, models: &[&str], accounts: usize, auth: AuthStyle) -> (String, Arc<ProviderRuntime>) {
        let accounts = (0..accounts)
            .map(|i| {
                Arc::new(AccountRuntime {
                    id: i as i64,
                    label: String::new(),
                    priority: i as i64,
                    secret: None,
                    max_concurrent: None,
                })
            })
            .collect();
        let rt = ProviderRuntime {
            id: id.into(),
            kind: Format::Openai,
            base_url: "http://x/v1".into(),
            auth,
            models: models.iter().map(|s| s.to_string()).collect(),
            lists_own_models: false,
            endpoint: None,
            strategy: Strategy::FillFirst,
            sticky_uses: 3,
            proxy: crate::providers::upstream::ProxyChoice::Environment,
            first_byte_timeout: None,
            stall_timeout: None,
            login: None,
            accounts,
        };
        (id.to_string(), Arc::new(rt))
    }

    pub(crate) fn config(ps: Vec<(String, Arc<ProviderRuntime>)>) -> ConfigSnapshot {
        let mut provider_order: Vec<String> = ps.iter().map(|(k, _)| k.clone()).collect();
        provider_order.sort();
        ConfigSnapshot { provider_order, providers: ps.into_iter().collect(), ..Default::default() }
    }

    fn ids(c: &[Candidate]) -> Vec<String> {
        c.iter().map(|c| format!("{}/{}", c.provider.id, c.upstream_model)).collect()
    }

    #[test]
    fn prefixed_bare_and_nested_names() {
        let c = config(vec![
            provider("openai", &["gpt-5"], 1, AuthStyle::Bearer),
            provider("openrouter", &["anthropic/claude"], 2, AuthStyle::Bearer),
            provider("local", &[], 0, AuthStyle::None),
        ]);
        let t = resolve_single(&c, "openai/gpt-5").unwrap();
        assert_eq!((t.provider.id.as_str(), t.upstream_model.as_str()), ("openai", "gpt-5"));
        assert_eq!(resolve_single(&c, "gpt-5").unwrap().provider.id, "openai");
        let t = resolve_single(&c, "openrouter/anthropic/claude").unwrap();
        assert_eq!(t.upstream_model, "anthropic/claude");
        let t = resolve_single(&c, "anthropic/claude").unwrap();
        assert_eq!((t.provider.id.as_str(), t.upstream_model.as_str()), ("openrouter", "anthropic/claude"));
        assert!(resolve_single(&c, "local/llama3").is_ok());
        assert!(matches!(resolve_single(&c, "nope/x"), Err(RouteError::UnknownProvider { .. })));
        assert!(matches!(resolve_single(&c, "gpt-4"), Err(RouteError::UnknownModel { .. })));
        assert!(matches!(resolve_single(&c, "openai/"), Err(RouteError::UnknownProvider { .. })));
    }

    #[test]
    fn ambiguity_and_missing_accounts_are_explained() {
        let c = config(vec![provider("a", &["m"], 1, AuthStyle::Bearer), provider("b", &["m"], 0, AuthStyle::Bearer)]);
        assert_eq!(
            resolve_single(&c, "m").unwrap_err(),
            RouteError::Ambiguous { model: "m".into(), providers: "a, b".into() }
        );
        assert_eq!(resolve_single(&c, "b/m").unwrap_err(), RouteError::NoAccount { provider: "b".into() });
    }

    #[test]
    fn combos_expand_in_order_nested_and_round_robin() {
        let mut c = config(vec![
            provider("a", &[], 1, AuthStyle::Bearer),
            provider("b", &[], 1, AuthStyle::Bearer),
            provider("gone", &[], 0, AuthStyle::Bearer),
        ]);
        c.combos.insert("inner".into(), ComboRuntime::chain(ComboStrategy::Fallback, vec!["b/y".into(), "a/x".into()]));
        c.combos.insert(
            "outer".into(),
            ComboRuntime::chain(
                ComboStrategy::Fallback,
                vec!["a/x".into(), "gone/z".into(), "inner".into(), "b/last".into()],
            ),
        );
        c.combos.insert(
            "rr".into(),
            ComboRuntime::chain(ComboStrategy::RoundRobin, vec!["a/1".into(), "a/2".into(), "a/3".into()]),
        );
        c.aliases.insert("fast".into(), "outer".into());
        let state = RoutingState::default();
        assert_eq!(
            ids(&plan(&c, &state, "outer").unwrap()),
            ["a/x", "b/y", "b/last"],
            "in order, stale member skipped, duplicates once"
        );
        assert_eq!(ids(&plan(&c, &state, "fast").unwrap()), ["a/x", "b/y", "b/last"]);
        let firsts: Vec<String> = (0..4).map(|_| ids(&plan(&c, &state, "rr").unwrap())[0].clone()).collect();
        assert_eq!(firsts, ["a/1", "a/2", "a/3", "a/1"]);
        c.combos.insert("loop1".into(), ComboRuntime::chain(ComboStrategy::Fallback, vec!["loop2".into()]));
        c.combos.insert("loop2".into(), ComboRuntime::chain(ComboStrategy::Fallback, vec!["loop1".into()]));
        assert!(matches!(plan(&c, &state, "loop1"), Err(RouteError::Cycle { .. })));
        assert!(matches!(validate_combo_member(&c, "outer", "outer"), Err(RouteError::Cycle { .. })));
        assert!(matches!(validate_combo_member(&c, "inner", "outer"), Err(RouteError::Cycle { .. })));
        assert!(validate_combo_member(&c, "new", "outer").is_ok());
    }
}
