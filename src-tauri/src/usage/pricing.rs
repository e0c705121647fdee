//! Prices and costs: the shipped table (`providers/prices.toml`, USD per million tokens by
//! model id), the user's overrides by `PROVIDER/MODEL`, and the cost of a request as the sum
//! of its parts (uncached input, cache reads, cache writes, output; reasoning tokens are
//! output tokens and priced as such).

pub use crate::base::records::Price;
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn table() -> &'static BTreeMap<String, Price> {
    static TABLE: OnceLock<BTreeMap<String, Price>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let raw: BTreeMap<String, Price> = toml::from_str(include_str!("../providers/prices.toml"))
            .expect("prices.toml is valid (checked by a unit test)");
        raw.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect()
    })
}

/// The shipped price of a model id, by the longest matching pattern.
pub fn shipped(model: &str) -> Option<Price> {
    let id = model.rsplit('/').next().unwrap_or(model).to_ascii_lowercase();
    table()
        .iter()
        .filter(|(pattern, _)| match pattern.strip_suffix('*') {
            Some(prefix) => id.starts_with(prefix),
            None => id == **pattern,
        })
        .max_by_key(|(pattern, _)| pattern.len())
        .map(|(_, p)| *p)
}

/// The price in force for `provider/model`: the user's override, else the shipped one.
pub fn price_for(overrides: &std::collections::HashMap<String, Price>, provider: &str, model: &str) -> Option<Price> {
    overrides.get(&format!("{provider}/{model}")).copied().or_else(|| shipped(model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::records::Usage;

    #[test]
    fn cost_is_the_sum_of_its_parts() {
        let price = Price { input: 3.0, output: 15.0, cache_read: Some(0.3), cache_write: Some(3.75) };
        let u = Usage {
            input: 1_000_000 + 200_000 + 100_000,
            output: 50_000,
            cache_read: 200_000,
            cache_write: 100_000,
            reasoning: 20_000,
        };
        let want = 3.0 + 0.2 * 0.3 + 0.1 * 3.75 + 0.05 * 15.0;
        assert!((price.cost(&u) - want).abs() < 1e-9, "{} vs {want}", price.cost(&u));
        let no_cache_price = Price { input: 1.0, output: 2.0, cache_read: None, cache_write: None };
        let u = Usage { input: 1_000_000, output: 0, cache_read: 500_000, cache_write: 0, reasoning: 0 };
        assert!((no_cache_price.cost(&u) - 1.0).abs() < 1e-9, "cache reads default to the input price");
    }

    #[test]
    fn shipped_prices_match_longest_pattern() {
        assert_eq!(shipped("claude-opus-4-5").unwrap().input, 5.0);
        assert_eq!(shipped("claude-opus-4-1").unwrap().input, 15.0);
        assert_eq!(shipped("gpt-5-mini").unwrap().input, 0.25);
        assert_eq!(shipped("gpt-5.1").unwrap().input, 1.25);
        assert!(shipped("mock-model").is_none());
        let mut overrides = std::collections::HashMap::new();
        overrides
            .insert("p/mock-model".to_string(), Price { input: 1.0, output: 1.0, cache_read: None, cache_write: None });
        assert!(price_for(&overrides, "p", "mock-model").is_some());
        assert!(price_for(&overrides, "q", "mock-model").is_none());
    }
}
