//! Pieces every page uses: the app's shared state (`AppContext`), loading data that reloads when what it depends on changes, the
//! live-update tick, number formats, a copy button, an error line, a status message.

use crate::api::{self, ApiError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;

#[derive(Clone, Copy)]
pub struct AppContext {
    /// Bumped to re-check the session (after login, logout or a 401).
    pub session_version: RwSignal<u64>,
}

thread_local! {
    static APP: std::cell::Cell<Option<AppContext>> = const { std::cell::Cell::new(None) };
}

/// The app's state (set once, by `App`).
pub fn set_app_context(app: AppContext) {
    APP.with(|cell| cell.set(Some(app)));
}

/// The app's state, from anywhere.
pub fn app_context() -> Option<AppContext> {
    APP.with(|cell| cell.get())
}

/// The latest answer of a call: None while the first one runs.
pub type Loaded<T> = RwSignal<Option<Result<T, ApiError>>>;

/// Runs `fetch` now and again whenever a signal it reads (before its future starts) changes.
pub fn load<T, F, Fut>(fetch: F) -> Loaded<T>
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let loaded: Loaded<T> = RwSignal::new(None);
    let app = app_context();
    Effect::new(move |_| {
        let future = fetch();
        spawn_local(async move {
            let answer = future.await;
            if answer.as_ref().err().is_some_and(|e| e.status == 401) {
                // The session ended (another tab logged out, the server restarted).
                if let Some(app) = app {
                    app.session_version.update(|v| *v += 1);
                }
            }
            loaded.set(Some(answer));
        });
    });
    loaded
}

/// Shared state: bumped when data changed (a saved form, a finished request in the live feed)
/// so that pages reload what they show.
#[derive(Clone, Copy)]
pub struct Live {
    /// Changes at most once a second while requests flow.
    pub usage_tick: RwSignal<u64>,
    /// Changes after any configuration edit.
    pub config_tick: RwSignal<u64>,
    /// Requests seen since the page opened.
    pub requests_seen: RwSignal<u64>,
}

impl Live {
    pub fn config_changed(&self) {
        self.config_tick.update(|v| *v += 1);
    }
}

thread_local! {
    static LIVE: std::cell::Cell<Option<Live>> = const { std::cell::Cell::new(None) };
}

/// Makes `live` answer `l` from anywhere (event handlers and tasks run outside the component
/// tree, where contexts are not found).
pub fn set_live(l: Live) {
    LIVE.with(|cell| cell.set(Some(l)));
}

pub fn live() -> Live {
    LIVE.with(|cell| cell.get()).expect("App sets the live state before any page renders")
}

/// Renders a loaded value, a loading line, or the error.
pub fn show<T: Clone + Send + Sync + 'static, V: IntoView + 'static>(
    loaded: Loaded<T>,
    render: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView {
    move || match loaded.get() {
        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
        Some(Ok(value)) => render(value).into_any(),
    }
}

/// A one-line outcome of the last action on a form: empty, done, or what went wrong.
#[derive(Clone, Copy)]
pub struct Status(pub RwSignal<Option<Result<String, String>>>);

impl Status {
    pub fn new() -> Self {
        Self(RwSignal::new(None))
    }

    pub fn done(&self, what: impl Into<String>) {
        self.0.set(Some(Ok(what.into())));
    }

    pub fn failed(&self, e: ApiError) {
        self.0.set(Some(Err(e.message)));
    }

    pub fn view(self) -> impl IntoView {
        move || match self.0.get() {
            None => ().into_any(),
            Some(Ok(m)) => view! { <p class="ok" role="status">{m}</p> }.into_any(),
            Some(Err(m)) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
        }
    }
}

/// Runs a management call from an event handler; on success tells the status line and bumps
/// the configuration tick, on failure shows the error.
pub fn act<T, Fut>(status: Status, done: &'static str, call: Fut)
where
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let live = live();
    spawn_local(async move {
        match call.await {
            Ok(_) => {
                status.done(done);
                live.config_changed();
            }
            Err(e) => status.failed(e),
        }
    });
}

#[component]
pub fn CopyButton(#[prop(into)] text: Signal<String>, #[prop(default = "Copy")] label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button
            type="button"
            class="small"
            on:click=move |_| {
                api::copy_to_clipboard(&text.get_untracked());
                copied.set(true);
            }
        >
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

pub fn usd(v: f64) -> String {
    if v == 0.0 {
        "$0".into()
    } else if v < 0.01 {
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}

pub fn count(n: i64) -> String {
    match n {
        n if n >= 10_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{:.1}k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

/// A Unix time in ms as local date and time.
pub fn local_time(ms: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Moves the item at `from` to `to` (both in range; anything else leaves the list as it is).
pub fn move_item<T>(items: &mut Vec<T>, from: usize, to: usize) {
    if from < items.len() && to < items.len() && from != to {
        let item = items.remove(from);
        items.insert(to, item);
    }
}

/// An ordered list the user rearranges by dragging a row or with its ↑ ↓ buttons (keyboard).
/// `row` renders an item's content; `moved` runs after each change of order.
pub fn ordered_list<T, V>(
    list_label: &'static str,
    items: RwSignal<Vec<T>>,
    row: impl Fn(usize, T) -> V + Send + Sync + 'static,
    moved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let dragging = RwSignal::new(None::<usize>);
    let shift = move |from: usize, to: usize| {
        items.update(|list| move_item(list, from, to));
        moved();
    };
    view! {
        <ol class="ordered" aria-label=list_label>
            {move || {
                let list = items.get();
                let last = list.len().saturating_sub(1);
                list.into_iter().enumerate().map(|(i, item)| view! {
                    <li draggable="true"
                        class:dragging=move || dragging.get() == Some(i)
                        on:dragstart=move |ev: leptos::ev::DragEvent| {
                            if let Some(dt) = ev.data_transfer() { let _ = dt.set_data("text/plain", &i.to_string()); }
                            dragging.set(Some(i));
                        }
                        on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                        on:drop=move |ev: leptos::ev::DragEvent| {
                            ev.prevent_default();
                            if let Some(from) = dragging.get_untracked() { shift(from, i); }
                            dragging.set(None);
                        }
                        on:dragend=move |_| dragging.set(None)
                    >
                        <span class="handle" aria-hidden="true">"⠿"</span>
                        <span class="position">{i + 1}"."</span>
                        {row(i, item)}
                        <span class="move">
                            <button type="button" class="small" aria-label=format!("Move item {} up", i + 1)
                                disabled=i == 0 on:click=move |_| shift(i, i.saturating_sub(1))>"↑"</button>
                            <button type="button" class="small" aria-label=format!("Move item {} down", i + 1)
                                disabled=i == last on:click=move |_| shift(i, i + 1)>"↓"</button>
                        </span>
                    </li>
                }).collect_view()
            }}
        </ol>
    }
}
