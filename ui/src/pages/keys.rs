//! Keys: gateway keys for clients and people. A new key is shown once (only its hash is kept);
//! each key's budgets, rate limits, allowed models and expiry are edited here; revoking takes
//! effect before the answer returns.

use crate::api;
use crate::components::{act, live, load, show, usd, CopyButton, Status};
use leptos::prelude::*;
use leptos::task::spawn_local;
use switchyard_api::routes::{ChangeKey, CreateKey, ListKeys, RevokeKey};
use switchyard_api::{CreatedKey, GatewayKey, KeyChange, NewKey};

#[component]
pub fn Keys() -> impl IntoView {
    let live = live();
    let keys = load(move || {
        live.config_tick.get();
        api::call(ListKeys {}, ())
    });
    let name = RwSignal::new(String::new());
    let created = RwSignal::new(None::<CreatedKey>);
    let status = Status::new();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewKey { name: name.get_untracked().trim().to_string() };
        spawn_local(async move {
            match api::call(CreateKey {}, body).await {
                Ok(k) => {
                    created.set(Some(k));
                    name.set(String::new());
                    status.0.set(None);
                    live.config_changed();
                }
                Err(e) => status.failed(e),
            }
        });
    };
    view! {
        <h1>"Gateway keys"</h1>
        <section class="card">
            <h2>"Create a key"</h2>
            <form on:submit=create class="row">
                <label for="key-name">"Name "</label>
                <input id="key-name" required placeholder="laptop, alice, ci" bind:value=name/>
                <button type="submit" class="primary">"Create"</button>
            </form>
            {status.view()}
            {move || created.get().map(|k| {
                let key = k.key.clone();
                view! {
                    <div class="created" role="status">
                        <p>{format!("Key '{}' created. Copy it now: it is not shown again.", k.record.name)}</p>
                        <p><code id="created-key">{key.clone()}</code> " " <CopyButton text=Signal::derive(move || key.clone())/></p>
                    </div>
                }
            })}
        </section>
        <h2>"Keys"</h2>
        {show(keys, |list| {
            if list.is_empty() {
                return view! { <p class="muted">"No key yet. Without one, only this machine can use the gateway (unless require-key is on)."</p> }.into_any();
            }
            view! {
                <table id="keys">
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Limits"</th>
                        <th scope="col">"State"</th><th scope="col"></th>
                    </tr></thead>
                    <tbody>{list.into_iter().map(|k| view! { <KeyRow key=k/> }).collect_view()}</tbody>
                </table>
            }.into_any()
        })}
    }
}

fn limits_text(k: &GatewayKey) -> String {
    let mut parts = Vec::new();
    if let Some(v) = k.limits.budget_daily_usd {
        parts.push(format!("{} a day", usd(v)));
    }
    if let Some(v) = k.limits.budget_monthly_usd {
        parts.push(format!("{} a month", usd(v)));
    }
    if let Some(v) = k.limits.rpm {
        parts.push(format!("{v} req/min"));
    }
    if let Some(v) = k.limits.tpm {
        parts.push(format!("{v} tokens/min"));
    }
    if let Some(v) = &k.limits.models {
        parts.push(format!("models {v}"));
    }
    if let Some(v) = &k.limits.expires_at {
        parts.push(format!("expires {v}"));
    }
    if let Some(on) = k.token_saver {
        parts.push(format!("token saver {}", if on { "on" } else { "off" }));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

#[component]
fn KeyRow(key: GatewayKey) -> impl IntoView {
    let id = key.id;
    let status = Status::new();
    let editing = RwSignal::new(false);
    let text = |v: Option<String>| RwSignal::new(v.unwrap_or_default());
    let daily = text(key.limits.budget_daily_usd.map(|v| v.to_string()));
    let monthly = text(key.limits.budget_monthly_usd.map(|v| v.to_string()));
    let rpm = text(key.limits.rpm.map(|v| v.to_string()));
    let tpm = text(key.limits.tpm.map(|v| v.to_string()));
    let models = text(key.limits.models.clone());
    let expires = text(key.limits.expires_at.clone().map(|e| e.chars().take(10).collect()));
    let saver = RwSignal::new(match key.token_saver {
        None => "default".to_string(),
        Some(true) => "on".to_string(),
        Some(false) => "off".to_string(),
    });
    let revoked = key.revoked_at.is_some();
    let revoke = move |_| act(status, "Revoked.", api::call(RevokeKey { id }, ()));
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Empty fields remove a limit.
        let num = |s: RwSignal<String>| s.get_untracked().trim().parse::<f64>().unwrap_or(0.0);
        let int = |s: RwSignal<String>| s.get_untracked().trim().parse::<i64>().unwrap_or(0);
        let expiry = expires.get_untracked().trim().to_string();
        let change = KeyChange {
            budget_daily_usd: Some(num(daily)),
            budget_monthly_usd: Some(num(monthly)),
            rpm: Some(int(rpm)),
            tpm: Some(int(tpm)),
            models: Some(models.get_untracked().trim().to_string()),
            expires: Some(if expiry.is_empty() { "never".to_string() } else { expiry }),
            token_saver: Some(saver.get_untracked()),
        };
        act(status, "Limits saved.", api::call(ChangeKey { id }, change));
    };
    let field = |fid: String, label: &'static str, value: RwSignal<String>, placeholder: &'static str| {
        view! {
            <label for=fid.clone()>{label}</label>
            <input id=fid placeholder=placeholder bind:value=value/>
        }
    };
    view! {
        <tr data-key=key.name.clone() class:failed=revoked>
            <td>{key.name.clone()}</td>
            <td><code>{key.key_hint.clone()}</code></td>
            <td>{limits_text(&key)}</td>
            <td>{if revoked { "revoked" } else { "active" }}</td>
            <td>
                {(!revoked).then(|| view! {
                    <button type="button" class="small" on:click=move |_| editing.update(|e| *e = !*e)>"Limits"</button>
                    <button type="button" class="small danger" on:click=revoke aria-label=format!("Revoke {}", key.name)>"Revoke"</button>
                })}
                {status.view()}
            </td>
        </tr>
        <Show when=move || editing.get()>
            <tr><td colspan="5">
                <form class="grid" on:submit=save>
                    {field(format!("daily-{id}"), "Daily budget (USD)", daily, "no limit")}
                    {field(format!("monthly-{id}"), "Monthly budget (USD)", monthly, "no limit")}
                    {field(format!("rpm-{id}"), "Requests per minute", rpm, "no limit")}
                    {field(format!("tpm-{id}"), "Tokens per minute", tpm, "no limit")}
                    {field(format!("models-{id}"), "Allowed models (globs)", models, "cc/*, openai/*")}
                    {field(format!("expires-{id}"), "Expires (date)", expires, "2027-01-01")}
                    <label for=format!("saver-{id}")>"Token saver"</label>
                    <select id=format!("saver-{id}") bind:value=saver>
                        <option value="default">"as in Settings"</option>
                        <option value="on">"on"</option>
                        <option value="off">"off"</option>
                    </select>
                    <span></span>
                    <button type="submit" class="primary">"Save limits"</button>
                </form>
            </td></tr>
        </Show>
    }
}
