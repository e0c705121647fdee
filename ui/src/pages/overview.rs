//! Overview: the endpoint to copy, what is configured, the last 24 hours' requests, tokens,
//! spend and tokens saved (live), and a quick start for the most used tools.

use crate::api;
use crate::components::{count, live, load, show, usd, CopyButton};
use crate::pages::tools::StepsList;
use leptos::prelude::*;
use switchyard_api::routes::{GetOverview, ListModels};

#[component]
pub fn Overview() -> impl IntoView {
    let live = live();
    let overview = load(move || {
        live.usage_tick.get();
        live.config_tick.get();
        api::call(GetOverview {}, ())
    });
    let models = load(|| api::call(ListModels {}, ()));
    let model = Signal::derive(move || {
        models.get().and_then(Result::ok).and_then(|m| m.first().cloned()).unwrap_or_else(|| "PROVIDER/MODEL".into())
    });
    view! {
        <h1>"Overview"</h1>
        {show(overview, move |a| {
            let o = a.overview;
            let endpoint = a.endpoint.clone();
            let t = o.last_24h.clone();
            view! {
                <section class="card endpoint">
                    <h2>"Endpoint"</h2>
                    <p><code id="endpoint-url">{endpoint.clone()}</code> " "
                        <CopyButton text=Signal::derive({ let e = endpoint.clone(); move || e.clone() }) label="Copy URL"/>
                        " " <span class="badge ok">"running"</span> <span class="muted">{format!(" version {}", o.version)}</span>
                    </p>
                </section>
                <section class="stats" aria-label="Last 24 hours">
                    <div class="stat"><span class="label">"Requests (24 h)"</span><span class="value" id="stat-requests">{count(t.requests)}</span></div>
                    <div class="stat"><span class="label">"Errors"</span><span class="value">{count(t.errors)}</span></div>
                    <div class="stat"><span class="label">"Tokens in / out"</span><span class="value">{format!("{} / {}", count(t.input_tokens), count(t.output_tokens))}</span></div>
                    <div class="stat"><span class="label">"Spend (24 h)"</span><span class="value" id="stat-spend">{usd(t.cost_usd)}</span></div>
                    {(t.api_equivalent_usd > t.cost_usd + 0.000_001).then(|| view! {
                        <div class="stat" title="What the same requests would have cost on the API: subscriptions served the rest">
                            <span class="label">"On the API (24 h)"</span><span class="value" id="stat-api-equivalent">{usd(t.api_equivalent_usd)}</span>
                        </div>
                    })}
                    <div class="stat" title="Tokens the token saver took out of tool outputs before they went upstream"><span class="label">"Tokens saved"</span><span class="value" id="stat-saved">{count(t.tokens_saved)}</span></div>
                </section>
                <section class="stats" aria-label="Configuration">
                    <div class="stat"><span class="label">"Providers"</span><span class="value">{o.providers}</span></div>
                    <div class="stat"><span class="label">"Accounts enabled"</span><span class="value">{format!("{} of {}", o.accounts_enabled, o.accounts)}</span></div>
                    <div class="stat"><span class="label">"Combos"</span><span class="value">{o.combos}</span></div>
                    <div class="stat"><span class="label">"Active keys"</span><span class="value">{o.keys_active}</span></div>
                </section>
                {(o.accounts_needing_attention > 0).then(|| view! {
                    <p class="error" role="alert">{format!("{} account(s) need attention: see Providers.", o.accounts_needing_attention)}</p>
                })}
                {(o.providers == 0).then(|| view! {
                    <p class="card">"No provider yet: add an API key on the " <a href="#/providers">"Providers"</a> " page."</p>
                })}
                <h2>"Quick start"</h2>
                <StepsList endpoint=endpoint model=model limit=3/>
                <p><a href="#/tools">"Every tool…"</a></p>
            }
        })}
    }
}
