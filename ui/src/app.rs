//! The app's frame: the login gate (first-visit password setup, then login; none inside the
//! desktop app), the navigation between pages (the URL hash, so reload and back work), the
//! theme, and the live usage feed that keeps pages current.

use crate::api;
use crate::components::{app_context, load, set_app_context, AppContext, Live, Status};
use crate::pages;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use switchyard_api::routes::{GetSession, LogIn, LogOut, SetUpPassword};
use switchyard_api::{Password, SessionStatus};

/// The pages, in navigation order: (hash, title).
pub const PAGES: [(&str, &str); 7] = [
    ("overview", "Overview"),
    ("providers", "Providers"),
    ("combos", "Combos"),
    ("usage", "Usage"),
    ("keys", "Keys"),
    ("tools", "Tools"),
    ("settings", "Settings"),
];

fn current_hash() -> String {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    let page = hash.trim_start_matches('#').trim_start_matches('/').to_string();
    if PAGES.iter().any(|(h, _)| *h == page) {
        page
    } else {
        "overview".into()
    }
}

#[component]
pub fn App() -> impl IntoView {
    let app = AppContext { session_version: RwSignal::new(0) };
    set_app_context(app);
    let live = Live { usage_tick: RwSignal::new(0), config_tick: RwSignal::new(0), requests_seen: RwSignal::new(0) };
    crate::components::set_live(live);
    crate::pages::settings::apply_saved_theme();
    let desktop = api::in_desktop_app();
    let session = load(move || {
        app.session_version.get();
        async move {
            if desktop {
                // The desktop window is the user's own: no dashboard password.
                return Ok(SessionStatus {
                    password_set: true,
                    logged_in: true,
                    setup_allowed: false,
                    min_password_chars: 0,
                });
            }
            api::call(GetSession {}, ()).await
        }
    });
    move || match session.get() {
        None => view! { <p class="muted center">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! {
            <main class="login">
                <h1>"Switchyard"</h1>
                <p class="error" role="alert">{format!("Cannot reach Switchyard: {}", e.message)}</p>
            </main>
        }
        .into_any(),
        Some(Ok(s)) if s.logged_in => view! { <Shell/> }.into_any(),
        Some(Ok(s)) => view! { <Login status=s/> }.into_any(),
    }
}

#[component]
fn Login(status: SessionStatus) -> impl IntoView {
    let app = app_context().expect("App sets its state first");
    let password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let message = Status::new();
    let setup = !status.password_set;
    let min = status.min_password_chars;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if setup && password.get_untracked() != repeat.get_untracked() {
            message.0.set(Some(Err("the two passwords differ".into())));
            return;
        }
        let body = Password { password: password.get_untracked() };
        spawn_local(async move {
            let answer = if setup { api::call(SetUpPassword {}, body).await } else { api::call(LogIn {}, body).await };
            match answer {
                Ok(_) => app.session_version.update(|v| *v += 1),
                Err(e) => message.failed(e),
            }
        });
    };
    let title = if setup { "Set a dashboard password" } else { "Log in" };
    view! {
        <main class="login">
            <h1>"Switchyard"</h1>
            <h2>{title}</h2>
            {(setup && !status.setup_allowed).then(|| view! {
                <p class="error" role="alert">
                    "No dashboard password is set. Set one on the server with "
                    <code>"switchyard settings set dashboard-password -"</code>
                    ", or open this page on the machine itself (http://127.0.0.1)."
                </p>
            })}
            <form on:submit=submit>
                <label for="password">"Password"</label>
                <input id="password" type="password" autocomplete=if setup { "new-password" } else { "current-password" }
                    required minlength=min bind:value=password/>
                {setup.then(|| view! {
                    <label for="repeat">"Repeat the password"</label>
                    <input id="repeat" type="password" autocomplete="new-password" required bind:value=repeat/>
                    <p class="muted">{format!("At least {min} characters. Only its Argon2 hash is stored.")}</p>
                })}
                <button type="submit" class="primary">{if setup { "Set password and open" } else { "Log in" }}</button>
            </form>
            {message.view()}
        </main>
    }
}

#[component]
fn Shell() -> impl IntoView {
    let app = app_context().expect("App sets its state first");
    let live = crate::components::live();
    let page = RwSignal::new(current_hash());
    let on_hash = leptos::wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
        let _ = page.try_set(current_hash());
    });
    if let Some(window) = web_sys::window() {
        window.set_onhashchange(Some(leptos::wasm_bindgen::JsCast::unchecked_ref(on_hash.as_ref())));
    }

    // Live feed: count requests as they finish; reload usage views at most once a second.
    let dirty = RwSignal::new(false);
    let source = if api::in_desktop_app() {
        api::follow_app_events(
            move |_event| {
                live.requests_seen.update(|n| *n += 1);
                let _ = dirty.try_set(true);
            },
            move |_status| live.config_changed(),
        );
        None
    } else {
        api::follow_usage(move |_event| {
            live.requests_seen.update(|n| *n += 1);
            let _ = dirty.try_set(true);
        })
    };
    let interval = set_interval_with_handle(
        move || {
            if dirty.try_get_untracked() == Some(true) {
                dirty.set(false);
                live.usage_tick.update(|v| *v += 1);
            }
        },
        Duration::from_secs(1),
    )
    .ok();
    // Logging out unmounts the shell: its feed, timer and hash listener go with it.
    let on_hash = send_wrapper::SendWrapper::new(on_hash);
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || {
        if let Some(window) = web_sys::window() {
            window.set_onhashchange(None);
        }
        drop(on_hash);
        if let Some(source) = source.as_ref() {
            source.close();
        }
        if let Some(interval) = interval {
            interval.clear();
        }
    });

    let logout = move |_| {
        spawn_local(async move {
            let _ = api::call(LogOut {}, ()).await;
            app.session_version.update(|v| *v += 1);
        });
    };
    view! {
        <div class="shell">
            <nav aria-label="Pages">
                <div class="brand">"Switchyard"</div>
                <ul>
                    {PAGES.iter().map(|(hash, title)| {
                        let hash = *hash;
                        view! {
                            <li>
                                <a href=format!("#/{hash}")
                                    aria-current=move || (page.get() == hash).then_some("page")>{*title}</a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <p class="muted live" aria-live="polite">{move || format!("{} requests since this page opened", live.requests_seen.get())}</p>
                {(!api::in_desktop_app()).then(|| view! { <button type="button" class="small" on:click=logout>"Log out"</button> })}
            </nav>
            <main id="page">
                {move || match page.get().as_str() {
                    "providers" => view! { <pages::providers::Providers/> }.into_any(),
                    "combos" => view! { <pages::combos::Combos/> }.into_any(),
                    "usage" => view! { <pages::usage::Usage/> }.into_any(),
                    "keys" => view! { <pages::keys::Keys/> }.into_any(),
                    "tools" => view! { <pages::tools::Tools/> }.into_any(),
                    "settings" => view! { <pages::settings::SettingsPage/> }.into_any(),
                    _ => view! { <pages::overview::Overview/> }.into_any(),
                }}
            </main>
        </div>
    }
}
