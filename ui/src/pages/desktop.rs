//! The desktop app's own settings, shown on the Settings page inside the app only: the
//! gateway's status with start/stop and the port (a taken port is chosen anew here), start on
//! login, and updates. They call the app's commands; the browser dashboard has none of this.

use crate::api::{self, ApiError};
use crate::components::{load, Status};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use switchyard_api::{GatewayStatus, UpdateCheck};

#[component]
pub fn DesktopSettings() -> impl IntoView {
    let live = crate::components::live();
    let status = load(move || {
        live.config_tick.get();
        api::invoke::<GatewayStatus>("gateway_status", json!({}))
    });
    let port = RwSignal::new(String::new());
    let message = Status::new();
    Effect::new(move |_| {
        if let Some(Ok(s)) = status.get() {
            if port.get_untracked().is_empty() {
                port.set(s.port().to_string());
            }
        }
    });
    let run = move |command: &'static str, args: serde_json::Value| {
        spawn_local(async move {
            match api::invoke::<GatewayStatus>(command, args).await {
                Ok(now) => {
                    if let GatewayStatus::Failed { message: why, .. } = &now {
                        message.0.set(Some(Err(why.clone())));
                    } else {
                        message.0.set(None);
                    }
                    status.set(Some(Ok(now)));
                }
                Err(e) => message.failed(e),
            }
        });
    };
    let start_on_port = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match port.get_untracked().trim().parse::<u16>() {
            Ok(p) if p > 0 => run("gateway_start", json!({"port": p})),
            _ => message.failed(ApiError { status: 0, message: "choose a port from 1 to 65535".into() }),
        }
    };
    view! {
        <section class="card" id="desktop-gateway">
            <h2>"Gateway"</h2>
            {move || match status.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Some(Ok(s)) => {
                    let running = matches!(s, GatewayStatus::Running { .. });
                    view! {
                        <p id="gateway-state">{s.describe()}</p>
                        {running.then(|| view! {
                            <button type="button" id="gateway-stop" on:click=move |_| run("gateway_stop", json!({}))>"Stop gateway"</button>
                        })}
                        {(!running).then(|| view! {
                            <button type="button" id="gateway-start" class="primary" on:click=move |_| run("gateway_start", json!({}))>"Start gateway"</button>
                        })}
                    }.into_any()
                }
            }}
            <form class="row" on:submit=start_on_port>
                <label for="gateway-port">"Port "</label>
                <input id="gateway-port" inputmode="numeric" size="6" bind:value=port/>
                <button type="submit">"Listen on this port"</button>
                <span class="muted">" kept for the next start and for "<code>"switchyard serve"</code></span>
            </form>
            {message.view()}
        </section>
        <StartOnLogin/>
        <Updates/>
    }
}

#[component]
fn StartOnLogin() -> impl IntoView {
    let enabled = load(|| api::invoke::<bool>("plugin:autostart|is_enabled", json!({})));
    let message = Status::new();
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        spawn_local(async move {
            let command = if on { "plugin:autostart|enable" } else { "plugin:autostart|disable" };
            match api::invoke::<serde_json::Value>(command, json!({})).await {
                Ok(_) => message.done(if on {
                    "Switchyard will start (in the tray) when you log in."
                } else {
                    "Switchyard will not start on login."
                }),
                Err(e) => message.failed(e),
            }
            enabled.set(Some(api::invoke::<bool>("plugin:autostart|is_enabled", json!({})).await));
        });
    };
    view! {
        <section class="card">
            <h2>"Start on login"</h2>
            <label>
                <input type="checkbox" id="autostart" on:change=toggle
                    prop:checked=move || matches!(enabled.get(), Some(Ok(true)))/>
                " Start Switchyard in the tray when I log in"
            </label>
            {message.view()}
        </section>
    }
}

#[component]
fn Updates() -> impl IntoView {
    let found = RwSignal::new(None::<UpdateCheck>);
    let message = Status::new();
    let check = move |_| {
        message.0.set(Some(Ok("Checking…".into())));
        spawn_local(async move {
            match api::invoke::<UpdateCheck>("update_check", json!({})).await {
                Ok(answer) => {
                    message.0.set(None);
                    found.set(Some(answer));
                }
                Err(e) => message.failed(e),
            }
        });
    };
    let install = move |_| {
        message.0.set(Some(Ok("Downloading and installing…".into())));
        spawn_local(async move {
            if let Err(e) = api::invoke::<serde_json::Value>("update_install", json!({})).await {
                message.failed(e);
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Updates"</h2>
            <button type="button" id="update-check" on:click=check>"Check for updates"</button>
            <p id="update-result" role="status">{move || found.get().map(|f| f.describe())}</p>
            {move || matches!(found.get(), Some(UpdateCheck::Available { .. })).then(|| view! {
                <button type="button" class="primary" on:click=install>"Install and restart"</button>
            })}
            {message.view()}
        </section>
    }
}
