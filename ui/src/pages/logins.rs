//! Subscription logins on the Providers page: one row per provider with its terms risk beside
//! the buttons; "Sign in" starts the flow on the server (the sign-in address to open, or the
//! device code to enter, shows here, with a field for the address when the callback port is
//! taken) and follows it until the account is saved; "Import" takes the login the official
//! CLI saved on the machine Switchyard runs on. A login account's row shows who it is, its
//! plan, when its token expires, and its quota windows (`LoginDetails`).

use crate::api;
use crate::components::Loaded;
use crate::components::{live, load, show, Status};
use leptos::prelude::*;
use leptos::task::spawn_local;
use switchyard_api::routes::{BeginLogin, GetPendingLogin, ImportLogin, ListLogins, PasteLogin, ReadQuota};
use switchyard_api::{LoginChoice, LoginInfo, PastedUrl, PendingLogin, QuotaWindow, StoredQuota};

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Follows a sign-in until it ends.
async fn follow(id: u64, pending: RwSignal<Option<PendingLogin>>, status: Status) {
    let live = live();
    loop {
        sleep_ms(1000).await;
        match api::call(GetPendingLogin { id }, ()).await {
            Ok(p) => {
                let (done, error) = (p.account.is_some(), p.error.clone());
                pending.set(Some(p));
                if done {
                    status.done("Signed in: the account is under Configured.");
                    live.config_changed();
                    return;
                }
                if let Some(e) = error {
                    status.0.set(Some(Err(e)));
                    return;
                }
            }
            Err(e) => return status.failed(e),
        }
    }
}

#[component]
pub fn SubscriptionLogins() -> impl IntoView {
    let choices = load(|| api::call(ListLogins {}, ()));
    view! {
        <section class="card" id="logins">
            <h2>"Sign in with a subscription"</h2>
            <p class="muted">"Use the plans you already pay for. Tokens are stored encrypted and refreshed before they expire; a used-up quota rests the account until it resets."</p>
            {show(choices, |list| list.into_iter().map(|c| view! { <LoginRow choice=c/> }).collect_view())}
        </section>
    }
}

#[component]
fn LoginRow(choice: LoginChoice) -> impl IntoView {
    let live = live();
    let pending = RwSignal::new(None::<PendingLogin>);
    let status = Status::new();
    let pasted = RwSignal::new(String::new());
    let provider = choice.provider.clone();
    let start = {
        let provider = provider.clone();
        move |_| {
            let provider = provider.clone();
            status.0.set(Some(Ok("Starting…".into())));
            spawn_local(async move {
                let route = BeginLogin { provider, open_browser: Some(api::in_desktop_app()) };
                match api::call(route, ()).await {
                    Ok(p) => {
                        let id = p.id;
                        status.0.set(None);
                        pending.set(Some(p));
                        follow(id, pending, status).await;
                    }
                    Err(e) => status.failed(e),
                }
            });
        }
    };
    let import = {
        let provider = provider.clone();
        move |_| {
            let provider = provider.clone();
            spawn_local(async move {
                match api::call(ImportLogin { provider }, ()).await {
                    Ok(_) => {
                        status.done("Imported: the account is under Configured.");
                        live.config_changed();
                    }
                    Err(e) => status.failed(e),
                }
            });
        }
    };
    let send_paste = move |_| {
        let Some(id) = pending.get_untracked().map(|p| p.id) else { return };
        let body = PastedUrl { url: pasted.get_untracked().trim().to_string() };
        spawn_local(async move {
            if let Err(e) = api::call(PasteLogin { id }, body).await {
                status.failed(e);
            }
        });
    };
    view! {
        <div class="login-row" data-login=provider.clone()>
            <h3>{choice.name.clone()}</h3>
            <p class="muted risk"><strong>"Terms: "</strong>{choice.terms_risk.clone()}</p>
            <div class="login-options">
                {choice.options.iter().map(|o| view! {
                    <crate::pages::settings::SettingRow name=o.setting.clone() label=o.label.clone() help=o.help.clone() value=o.value.clone()/>
                }).collect_view()}
            </div>
            <div class="row">
                <button type="button" class="primary" on:click=start aria-label=format!("Sign in to {}", choice.name)>"Sign in"</button>
                <button type="button" on:click=import aria-label=format!("Import the {} login saved on this machine", choice.name)>"Import from this machine"</button>
            </div>
            {move || pending.get().filter(|p| p.account.is_none() && p.error.is_none()).map(|p| {
                let url = p.url.clone().unwrap_or_default();
                view! {
                    <div class="login-progress">
                        {match p.user_code.clone() {
                            Some(code) => view! {
                                <p>"Open " <a href=url.clone() target="_blank" rel="noopener">{url.clone()}</a> " and enter the code " <code class="user-code">{code}</code></p>
                            }.into_any(),
                            None => view! {
                                <p>"Sign in at " <a href=url.clone() target="_blank" rel="noopener">"the provider's page"</a> " (it opens in a new tab); this page follows along."</p>
                            }.into_any(),
                        }}
                        {p.needs_paste.then(|| view! {
                            <p>"The callback port is taken: after signing in, paste the address the browser ends on:"</p>
                            <div class="row">
                                <input aria-label="The address the browser ended on" bind:value=pasted placeholder="http://localhost:1455/auth/callback?code=…"/>
                                <button type="button" on:click=send_paste>"Send"</button>
                            </div>
                        })}
                    </div>
                }
            })}
            {status.view()}
        </div>
    }
}

/// "3 h 05 min", "2 d 4 h" or "40 s" until `at_ms`.
fn until(at_ms: i64, now_ms: i64) -> String {
    let secs = ((at_ms - now_ms) / 1000).max(0);
    match secs {
        s if s >= 2 * 86_400 => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// A login account's email, plan, token expiry and quota windows (as last read, or read now
/// with the button).
#[component]
pub fn LoginDetails(account_id: i64, login: LoginInfo, quotas: Loaded<Vec<StoredQuota>>) -> impl IntoView {
    let status = Status::new();
    let read_now = RwSignal::new(None::<Vec<QuotaWindow>>);
    let read = move |_| {
        status.0.set(Some(Ok("Reading…".into())));
        spawn_local(async move {
            match api::call(ReadQuota { id: account_id }, ()).await {
                Ok(windows) => {
                    status.0.set(None);
                    read_now.set(Some(windows));
                }
                Err(e) => status.failed(e),
            }
        });
    };
    let windows = move || {
        read_now.get().or_else(|| {
            let stored = quotas.get().and_then(Result::ok).unwrap_or_default();
            stored.into_iter().find(|q| q.account_id == account_id).map(|q| q.windows)
        })
    };
    let now = js_sys::Date::now() as i64;
    let who = [login.email.clone(), login.plan.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    let expiry = login.expires_at_ms.map(|at| {
        if at <= now {
            "token expired: renewed on the next request".to_string()
        } else {
            format!("token renews within {}", until(at, now))
        }
    });
    view! {
        <span class="login-details" data-login-account=account_id>
            <span class="muted">{who}</span>
            {expiry.map(|e| view! { <span class="muted">{e}</span> })}
            {move || match windows() {
                None => view! { <span class="muted">"quota not read yet"</span> }.into_any(),
                Some(list) if list.is_empty() => view! { <span class="muted">"no quota reported"</span> }.into_any(),
                Some(list) => list.into_iter().map(|w| {
                    let reset = w.resets_at_ms.map(|at| format!(", resets in {}", until(at, js_sys::Date::now() as i64))).unwrap_or_default();
                    let class = if w.used_percent >= 100.0 { "quota-window used-up" } else { "quota-window" };
                    view! {
                        <span class=class data-window=w.name.clone()>
                            <strong>{w.name.clone()}</strong>
                            <progress max="100" value=w.used_percent.min(100.0)></progress>
                            <span class="muted">{format!("{:.0} % used{reset}", w.used_percent)}</span>
                        </span>
                    }
                }).collect_view().into_any(),
            }}
            <button type="button" class="small" on:click=read aria-label="Read this account's quota now">"Read quota"</button>
            {status.view()}
        </span>
    }
}
