//! The routing benchmark: how long choosing candidates and ordering accounts takes with a
//! large configuration (10 providers × 10 accounts, 20 combos, some nested, some accounts
//! cooling down). Runs in process, no network:
//!
//!     cargo bench --bench routing

use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use switchyard::providers::{AuthStyle, Format};
use switchyard::routing::{plan, ComboStrategy, RoutingState, Strategy};
use switchyard::snapshot::{AccountRuntime, ComboRuntime, ConfigSnapshot, ProviderRuntime};

fn config() -> ConfigSnapshot {
    let strategies = [Strategy::FillFirst, Strategy::RoundRobin, Strategy::StickyRoundRobin, Strategy::LeastUsed];
    let mut providers = HashMap::new();
    for p in 0..10 {
        let id = format!("p{p}");
        let accounts = (0..10)
            .map(|a| {
                Arc::new(AccountRuntime {
                    id: p * 10 + a,
                    label: String::new(),
                    priority: a,
                    secret: None,
                    max_concurrent: None,
                })
            })
            .collect();
        let rt = ProviderRuntime {
            id: id.clone(),
            kind: Format::Openai,
            base_url: "http://127.0.0.1:9/v1".into(),
            auth: AuthStyle::Bearer,
            models: (0..5).map(|m| format!("model-{p}-{m}")).collect(),
            lists_own_models: false,
            endpoint: None,
            strategy: strategies[p as usize % 4],
            sticky_uses: 3,
            proxy: switchyard::providers::upstream::ProxyChoice::Environment,
            first_byte_timeout: None,
            stall_timeout: None,
            login: None,
            accounts,
        };
        providers.insert(id, Arc::new(rt));
    }
    let mut combos = HashMap::new();
    for c in 0..20 {
        let members: Vec<String> = (0..4).map(|i| format!("p{}/model-x", (c + i) % 10)).collect();
        let strategy = if c % 2 == 0 { ComboStrategy::Fallback } else { ComboStrategy::RoundRobin };
        combos.insert(format!("combo-{c}"), ComboRuntime::chain(strategy, members));
    }
    // Nested: combo-top → combo-0, combo-1, combo-2.
    combos.insert(
        "combo-top".into(),
        ComboRuntime::chain(ComboStrategy::Fallback, vec!["combo-0".into(), "combo-1".into(), "combo-2".into()]),
    );
    let mut provider_order: Vec<String> = providers.keys().cloned().collect();
    provider_order.sort();
    ConfigSnapshot { providers, provider_order, combos, ..Default::default() }
}

fn main() {
    let config = config();
    let state = RoutingState::default();
    // Some accounts cool down, as in a busy day.
    for a in (0..100).step_by(7) {
        state.cool_down(a, "model-x", Some(std::time::Duration::from_secs(3600)), "bench");
    }
    let cases =
        [("PROVIDER/MODEL", "p3/model-3-1"), ("combo of 4", "combo-5"), ("nested combo (12 candidates)", "combo-top")];
    println!("| model name | candidates | p50 ns | p99 ns | mean ns |");
    println!("|---|---|---|---|---|");
    for (label, name) in cases {
        let mut hist = Histogram::<u64>::new(3).expect("histogram");
        let mut n = 0;
        for i in 0..200_000u64 {
            let t0 = Instant::now();
            let candidates = plan(&config, &state, name).expect("plan");
            let mut accounts = 0;
            for c in &candidates {
                accounts += state.order_accounts(&c.provider, &c.upstream_model, Some(i % 64)).0.len();
            }
            let elapsed = t0.elapsed().as_nanos() as u64;
            if i >= 10_000 {
                hist.record(elapsed.max(1)).ok();
            }
            n = candidates.len();
            std::hint::black_box(accounts);
        }
        println!(
            "| {label} | {n} | {} | {} | {:.0} |",
            hist.value_at_quantile(0.5),
            hist.value_at_quantile(0.99),
            hist.mean()
        );
    }
}
