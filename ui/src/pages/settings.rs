//! Settings: the gateway's settings (each validated by the gateway, saved one at a time), the
//! dashboard password, and the theme (this browser's choice: system, light or dark). Inside
//! the desktop app, its own settings (gateway start/stop and port, start on login, updates)
//! come first (`desktop`).

use crate::api;
use crate::components::{act, load, show, Status};
use leptos::prelude::*;
use switchyard_api::routes::{GetOverview, GetSettings, SetSetting};
use switchyard_api::{SettingValue, Settings, DASHBOARD_PASSWORD_SETTING, DEFAULT_PORT};

const THEME_KEY: &str = "switchyard-theme";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Puts the saved theme on <html data-theme>; "system" follows the OS.
pub fn apply_saved_theme() {
    let theme = storage().and_then(|s| s.get_item(THEME_KEY).ok().flatten()).unwrap_or_else(|| "system".into());
    set_theme(&theme);
}

fn set_theme(theme: &str) {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-theme", theme);
    }
    if let Some(s) = storage() {
        let _ = s.set_item(THEME_KEY, theme);
    }
}

/// (setting name, label, help, current value).
fn rows(s: &Settings) -> Vec<(&'static str, &'static str, &'static str, String)> {
    vec![
        (
            "require-key",
            "Require a gateway key",
            "true or false; always required off this machine",
            s.require_key.to_string(),
        ),
        (
            "token-saver",
            "Token saver",
            "on or off: compress long tool outputs (build logs, diffs, listings) before they go upstream; each key may differ",
            if s.token_saver { "on" } else { "off" }.to_string(),
        ),
        (
            "first-byte-timeout-secs",
            "First-byte timeout (s)",
            "how long to wait for an answer to begin",
            s.first_byte_timeout_secs.to_string(),
        ),
        (
            "stall-timeout-secs",
            "Stall timeout (s)",
            "how long a stream may go silent",
            s.stall_timeout_secs.to_string(),
        ),
        ("max-body-mb", "Largest request (MiB)", "bigger requests get a 413", s.max_body_mb.to_string()),
        ("proxy", "Outbound proxy", "http://, https:// or socks5:// URL; empty: the environment's", s.proxy.clone()),
        ("no-proxy", "No proxy for", "comma-separated hosts", s.no_proxy.clone()),
        ("port", "Port", "serve and the app listen here when started without --port (from the next start)", s.port.to_string()),
        (
            "retention-days",
            "Keep request records (days)",
            "hourly totals stay after that",
            s.retention_days.to_string(),
        ),
        (
            "allowed-origins",
            "Web pages let in",
            "origins of web pages allowed to call the gateway, with CORS; comma-separated",
            s.allowed_origins.join(", "),
        ),
        (
            "allowed-hosts",
            "Host names answered",
            "names clients reach it by, besides localhost and addresses; comma-separated",
            s.allowed_hosts.join(", "),
        ),
        (
            "usage-durability",
            "Usage record durability",
            "batched, or strict: each record on disk before its answer ends",
            s.usage_durability.as_str().to_string(),
        ),
    ]
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    // Loaded once: each row keeps what was typed and says how its save went.
    let settings = load(|| api::call(GetSettings {}, ()));
    let theme =
        RwSignal::new(storage().and_then(|s| s.get_item(THEME_KEY).ok().flatten()).unwrap_or_else(|| "system".into()));
    let overview = load(|| api::call(GetOverview {}, ()));
    view! {
        <h1>"Settings"</h1>
        {api::in_desktop_app().then(|| view! { <crate::pages::desktop::DesktopSettings/> })}
        <section class="card" id="where">
            <h2>"Where it runs"</h2>
            {show(overview, |o| view! {
                <p>"Listening on " <code>{o.endpoint.clone()}</code>
                    {if o.exposed { " (beyond this machine: every request needs a gateway key)" } else { " (this machine only)" }}</p>
                <p>"Data (database, sealed secrets) in " <code id="data-dir">{o.data_dir.clone()}</code></p>
                <p class="muted">"Port and LAN exposure are chosen at start: "
                    <code>{format!("switchyard serve --port {DEFAULT_PORT} --host 0.0.0.0")}</code>
                    " (off this machine a gateway key is always required); the data folder with "
                    <code>"--data-dir"</code>"."</p>
            })}
        </section>
        <section class="card">
            <h2>"Gateway"</h2>
            {show(settings, |s| view! {
                <div class="settings">
                    {rows(&s).into_iter().map(|(name, label, help, value)| view! { <SettingRow name=name.to_string() label=label.to_string() help=help.to_string() value/> }).collect_view()}
                </div>
            })}
        </section>
        <section class="card">
            <h2>"Appearance"</h2>
            <label for="theme">"Theme "</label>
            <select id="theme" on:change=move |ev| { let t = event_target_value(&ev); set_theme(&t); theme.set(t); }>
                {["system", "light", "dark"].into_iter().map(|t| view! { <option value=t selected=move || theme.get() == t>{t}</option> }).collect_view()}
            </select>
        </section>
        {(!api::in_desktop_app()).then(|| view! { <PasswordChange/> })}
    }
}

/// One setting, saved on its own (also used beside the logins that need settings).
#[component]
pub fn SettingRow(name: String, label: String, help: String, value: String) -> impl IntoView {
    let status = Status::new();
    let current = RwSignal::new(value);
    let id = format!("setting-{name}");
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        act(
            status,
            "Saved.",
            api::call(SetSetting { name: name.clone() }, SettingValue { value: current.get_untracked() }),
        );
    };
    view! {
        <form class="setting" on:submit=save>
            <label for=id.clone()>{label}</label>
            <input id=id bind:value=current/>
            <button type="submit" class="small">"Save"</button>
            <span class="muted">{help}</span>
            {status.view()}
        </form>
    }
}

#[component]
fn PasswordChange() -> impl IntoView {
    let password = RwSignal::new(String::new());
    let status = Status::new();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = password.get_untracked();
        password.set(String::new());
        act(
            status,
            "Password changed; other browsers must log in again.",
            api::call(SetSetting { name: DASHBOARD_PASSWORD_SETTING.into() }, SettingValue { value }),
        );
    };
    view! {
        <section class="card">
            <h2>"Dashboard password"</h2>
            <form class="row" on:submit=save>
                <label for="new-password">"New password "</label>
                <input id="new-password" type="password" autocomplete="new-password" required minlength="8" bind:value=password/>
                <button type="submit">"Change"</button>
            </form>
            {status.view()}
        </section>
    }
}
