//! Subscription logins on the Providers page: one row per provider with its terms risk beside
//! the buttons; "Sign in" starts the flow on the server (the sign-in address to open, or the
//! device code to enter, shows here, with a field for the address when the callback port is
//! taken) and follows it until the account is saved; "Import" takes the login the official
//! CLI saved on the machine Switchyard runs on.

use crate::api::{self, encode};
use crate::components::{live, load, show, Status};
use crate::types::{LoginChoice, PendingLogin};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

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
        match api::get::<PendingLogin>(format!("/api/logins/pending/{id}")).await {
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
    let choices = load(|| api::get::<Vec<LoginChoice>>("/api/logins"));
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
                let path = format!("/api/logins/{}?open_browser={}", encode(&provider), api::in_desktop_app());
                match api::send("POST", path, None).await {
                    Ok(v) => match serde_json::from_value::<PendingLogin>(v) {
                        Ok(p) => {
                            let id = p.id;
                            status.0.set(None);
                            pending.set(Some(p));
                            follow(id, pending, status).await;
                        }
                        Err(e) => status.0.set(Some(Err(e.to_string()))),
                    },
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
                match api::send("POST", format!("/api/logins/{}/import", encode(&provider)), None).await {
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
        let body = json!({"url": pasted.get_untracked().trim()});
        spawn_local(async move {
            if let Err(e) = api::send("POST", format!("/api/logins/pending/{id}/paste"), Some(body)).await {
                status.failed(e);
            }
        });
    };
    view! {
        <div class="login-row" data-login=provider.clone()>
            <h3>{choice.name.clone()}</h3>
            <p class="muted risk"><strong>"Terms: "</strong>{choice.terms_risk.clone()}</p>
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
