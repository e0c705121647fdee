//! Providers: add an API key (a catalog provider, or a custom OpenAI-, Anthropic-, Responses-
//! or Gemini-compatible base URL), then per provider its rotation strategy and its accounts:
//! order (drag or ↑ ↓; the first is used first), enabled, concurrency cap, what needs
//! attention, removal.

use crate::api;
use crate::components::{act, live, load, ordered_list, show, Status};
use leptos::prelude::*;
use leptos::task::spawn_local;
use switchyard_api::routes::*;
use switchyard_api::{Account, AccountChange, CatalogEntry, Cooldown, NewAccount, NewProvider, Provider};
use switchyard_api::{AuthStyle, Format, ProviderChange, StoredQuota, Strategy};

/// The kinds a custom provider may speak, with what the form calls them.
const CUSTOM_KINDS: [(Format, &str); 4] = [
    (Format::Openai, "OpenAI-compatible (chat completions)"),
    (Format::Responses, "OpenAI Responses-compatible"),
    (Format::Anthropic, "Anthropic-compatible (messages)"),
    (Format::Gemini, "Gemini-compatible"),
];

const STRATEGIES: [(Strategy, &str); 4] = [
    (Strategy::FillFirst, "Fill first (use the first account until it runs out)"),
    (Strategy::RoundRobin, "Round robin"),
    (Strategy::StickyRoundRobin, "Sticky round robin"),
    (Strategy::LeastUsed, "Least used"),
];

#[component]
pub fn Providers() -> impl IntoView {
    let live = live();
    let catalog = load(|| api::call(ListCatalog {}, ()));
    let providers = load(move || {
        live.config_tick.get();
        api::call(ListProviders {}, ())
    });
    let accounts = load(move || {
        live.config_tick.get();
        api::call(ListAccounts {}, ())
    });
    // Cooldowns change as requests flow (a 429 starts one, a reset ends it).
    let cooldowns = load(move || {
        live.config_tick.get();
        live.usage_tick.get();
        api::call(ListCooldowns {}, ())
    });
    // Login accounts' quotas as last read (the gateway reads them every few minutes).
    let quotas = load(move || {
        live.config_tick.get();
        live.usage_tick.get();
        api::call(ListQuotas {}, ())
    });
    view! {
        <h1>"Providers"</h1>
        {show(catalog, |c| {
            let keyed: Vec<CatalogEntry> = c.into_iter().filter(|e| e.auth != AuthStyle::Login).collect();
            view! { <AddProvider catalog=keyed/> }
        })}
        <super::logins::SubscriptionLogins/>
        <h2>"Configured"</h2>
        {show(providers, move |list| {
            if list.is_empty() {
                return view! { <p class="muted">"No provider yet."</p> }.into_any();
            }
            list.into_iter().map(|p| view! { <ProviderCard provider=p accounts=accounts cooldowns=cooldowns quotas=quotas/> }).collect_view().into_any()
        })}
    }
}

#[component]
fn AddProvider(catalog: Vec<CatalogEntry>) -> impl IntoView {
    let choice = RwSignal::new(catalog.first().map(|c| c.id.clone()).unwrap_or_default());
    let custom_id = RwSignal::new(String::new());
    let base_url = RwSignal::new(String::new());
    let models = RwSignal::new(String::new());
    let api_key_field = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let status = Status::new();
    let entries = StoredValue::new(catalog.clone());
    let custom_kind = move || choice.get().strip_prefix("custom:").map(str::to_string);
    let needs_url = move || {
        custom_kind().is_some() || entries.with_value(|e| e.iter().any(|c| c.id == choice.get() && c.needs_base_url))
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let key = api_key_field.get_untracked();
        let model_list: Vec<String> =
            models.get_untracked().split(',').map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect();
        let api_key = Some(key).filter(|k| !k.trim().is_empty());
        let provider = match custom_kind() {
            Some(kind) => Some(NewProvider {
                id: custom_id.get_untracked().trim().to_string(),
                kind: Some(kind),
                base_url: Some(base_url.get_untracked()),
                models: model_list,
                api_key: api_key.clone(),
                ..Default::default()
            }),
            None if needs_url() || !model_list.is_empty() => Some(NewProvider {
                id: choice.get_untracked(),
                base_url: Some(base_url.get_untracked()),
                models: model_list,
                api_key: api_key.clone(),
                ..Default::default()
            }),
            None => None,
        };
        let account =
            NewAccount { provider: choice.get_untracked(), api_key, label: label.get_untracked(), priority: 0 };
        api_key_field.set(String::new());
        let live = live();
        spawn_local(async move {
            let added = match provider {
                Some(provider) => api::call(AddProvider {}, provider).await.map(|added| added.account_id),
                None => api::call(AddAccount {}, account).await.map(|account| Some(account.id)),
            };
            let account = match added {
                Ok(account) => account,
                Err(e) => return status.failed(e),
            };
            live.config_changed();
            // Validate the new key with one call to the provider.
            let Some(account) = account else { return status.done("Added (no key to check).") };
            match test_account(account).await {
                Ok(line) => status.done(format!("Added. {line}")),
                Err(line) => status.0.set(Some(Err(format!("Added, but: {line}")))),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Add an API key"</h2>
            <form on:submit=submit class="grid">
                <label for="provider-choice">"Provider"</label>
                <select id="provider-choice" on:change=move |ev| choice.set(event_target_value(&ev))>
                    <optgroup label="API keys">
                        {catalog.iter().map(|c| view! { <option value=c.id.clone()>{format!("{} ({})", c.name, c.id)}</option> }).collect_view()}
                    </optgroup>
                    <optgroup label="Custom endpoint">
                        {CUSTOM_KINDS.iter().map(|(k, name)| view! { <option value=format!("custom:{}", k.as_str())>{*name}</option> }).collect_view()}
                    </optgroup>
                </select>
                <Show when=move || custom_kind().is_some()>
                    <label for="provider-id">"Provider id"</label>
                    <input id="provider-id" placeholder="my-llm" required bind:value=custom_id/>
                </Show>
                <Show when=needs_url>
                    <label for="base-url">"Base URL"</label>
                    <input id="base-url" type="url" placeholder="https://llm.example.com/v1" required bind:value=base_url/>
                </Show>
                <Show when=move || custom_kind().is_some()>
                    <label for="models">"Models (comma-separated)"</label>
                    <input id="models" placeholder="model-a, model-b" bind:value=models/>
                </Show>
                <label for="api-key">"API key"</label>
                <input id="api-key" type="password" autocomplete="off" placeholder="stored encrypted" bind:value=api_key_field/>
                <label for="account-label">"Label (optional)"</label>
                <input id="account-label" placeholder="work" bind:value=label/>
                <span></span>
                <button type="submit" class="primary">"Add"</button>
            </form>
            {status.view()}
        </section>
    }
}

/// Tests an account; the line to show, good or bad.
async fn test_account(id: i64) -> Result<String, String> {
    match api::call(TestAccount { id }, ()).await {
        Ok(probe) => probe.describe(),
        Err(e) => Err(e.message),
    }
}

#[component]
fn ProviderCard(
    provider: Provider,
    accounts: crate::components::Loaded<Vec<Account>>,
    cooldowns: crate::components::Loaded<Vec<Cooldown>>,
    quotas: crate::components::Loaded<Vec<StoredQuota>>,
) -> impl IntoView {
    let status = Status::new();
    let id = provider.id.clone();
    let mine = RwSignal::new(Vec::<Account>::new());
    {
        let id = id.clone();
        Effect::new(move |_| {
            if let Some(Ok(all)) = accounts.get() {
                let mut own: Vec<Account> = all.into_iter().filter(|a| a.provider_id == id).collect();
                own.sort_by_key(|a| (a.priority, a.id));
                mine.set(own);
            }
        });
    }
    // After a drag or ↑ ↓: the list's order becomes the priorities 0, 1, 2...
    let live = live();
    let reordered = move || {
        let list = mine.get_untracked();
        spawn_local(async move {
            for (i, a) in list.iter().enumerate() {
                if a.priority != i as i64 {
                    let change = AccountChange { priority: Some(i as i64), ..Default::default() };
                    if let Err(e) = api::call(ChangeAccount { id: a.id }, change).await {
                        status.failed(e);
                        return;
                    }
                }
            }
            status.done("Order saved.");
            live.config_changed();
        });
    };
    let strategy_change = {
        let id = id.clone();
        move |ev: leptos::ev::Event| {
            let change = ProviderChange { strategy: Some(event_target_value(&ev)), ..Default::default() };
            act(status, "Strategy saved.", api::call(ChangeProvider { id: id.clone() }, change));
        }
    };
    let remove = {
        let id = id.clone();
        move |_| act(status, "Removed.", api::call(RemoveProvider { id: id.clone() }, ()))
    };
    let current = provider.strategy;
    view! {
        <section class="card provider" data-provider=id.clone()>
            <header>
                <h3>{id.clone()}</h3>
                <span class="badge">{provider.kind.as_str()}</span>
                <code class="muted">{provider.base_url.clone()}</code>
                <button type="button" class="small danger" on:click=remove aria-label=format!("Remove provider {id}")>"Remove"</button>
            </header>
            <p class="muted">{format!("Models: {}", if provider.models.is_empty() { "(any)".to_string() } else { provider.models.join(", ") })}</p>
            <label>"Rotation "
                <select on:change=strategy_change>
                    {STRATEGIES.iter().map(|(v, name)| view! { <option value=v.as_str() selected=*v == current>{*name}</option> }).collect_view()}
                </select>
            </label>
            {move || mine.get().is_empty().then(|| view! { <p class="muted">"No account."</p> })}
            {ordered_list("Accounts, first used first", mine, move |_, a| view! { <AccountRow account=a status=status cooldowns=cooldowns quotas=quotas/> }, reordered)}
            {status.view()}
        </section>
    }
}

#[component]
fn AccountRow(
    account: Account,
    status: Status,
    cooldowns: crate::components::Loaded<Vec<Cooldown>>,
    quotas: crate::components::Loaded<Vec<StoredQuota>>,
) -> impl IntoView {
    let id = account.id;
    let test = move |_| {
        spawn_local(async move {
            match test_account(id).await {
                Ok(line) => status.done(line),
                Err(line) => status.0.set(Some(Err(line))),
            }
        })
    };
    // A clock for the countdowns, once a second while the row is shown.
    let now = RwSignal::new(js_sys::Date::now() as i64);
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let _ = now.try_set(js_sys::Date::now() as i64);
        },
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }
    let cooling = move || {
        let at = now.get();
        cooldowns
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.account_id == id && c.until_ms > at)
            .map(|c| {
                let secs = (c.until_ms - at + 999) / 1000;
                let model = if c.model.is_empty() { "every model".to_string() } else { c.model.clone() };
                view! { <span class="badge error cooldown" title=c.reason.clone()>{format!("cooling {model}: {}:{:02} left", secs / 60, secs % 60)}</span> }
            })
            .collect_view()
    };
    let toggle = move |ev: leptos::ev::Event| {
        let enabled = event_target_checked(&ev);
        act(
            status,
            if enabled { "Enabled." } else { "Disabled." },
            api::call(ChangeAccount { id }, AccountChange { enabled: Some(enabled), ..Default::default() }),
        );
    };
    let remove = move |_| act(status, "Account removed.", api::call(RemoveAccount { id }, ()));
    let name = if account.label.is_empty() { format!("account {id}") } else { account.label.clone() };
    view! {
        <span class="account">
            <strong>{name.clone()}</strong>
            <code>{account.key_hint.clone()}</code>
            {account.max_concurrent.map(|n| view! { <span class="muted">{format!("≤ {n} at once")}</span> })}
            {account.needs_attention.clone().map(|why| view! { <span class="badge error" title=why.clone()>{format!("needs attention: {why}")}</span> })}
            <label>
                <input type="checkbox" checked=account.enabled on:change=toggle/>
                " enabled"
            </label>
            {cooling}
            <button type="button" class="small" on:click=test aria-label=format!("Test {name}")>"Test"</button>
            <button type="button" class="small danger" on:click=remove aria-label=format!("Remove {name}")>"Remove"</button>
            {account.login.clone().map(|login| view! { <super::logins::LoginDetails account_id=id login quotas/> })}
        </span>
    }
}
