//! The Tools page's one-click setup: each coding tool Switchyard can configure, whether it is
//! installed and set up, keys changed since (drift); Preview shows the change as a diff,
//! Apply writes it (only Switchyard's keys, the old file backed up), Restore puts the file back.

use crate::api;
use crate::components::{load, Status};
use leptos::prelude::*;
use leptos::task::spawn_local;
use switchyard_api::routes::{ApplyTool, ListTools, RestoreTool};
use switchyard_api::{ToolApply, ToolStatus};

#[component]
pub fn ToolSetup(#[prop(into)] model: Signal<String>) -> impl IntoView {
    let live = crate::components::live();
    let tools = load(move || {
        live.config_tick.get();
        api::call(ListTools {}, ())
    });
    view! {
        <section class="card" id="tool-setup">
            <h2>"Set up for me"</h2>
            <p class="muted">"Writes the tool's own config: only the keys Switchyard needs change, the rest of the file stays as it is, the old file is backed up, and Restore puts it back. Each tool gets a gateway key of its own."</p>
            {move || match tools.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Some(Ok(list)) => list.into_iter().map(|t| view! { <ToolRow tool=t model/> }).collect_view().into_any(),
            }}
        </section>
    }
}

#[component]
fn ToolRow(tool: ToolStatus, model: Signal<String>) -> impl IntoView {
    let live = crate::components::live();
    let status = Status::new();
    let preview = RwSignal::new(None::<String>);
    let id = tool.id.clone();
    let apply = move |dry_run: bool| {
        let id = id.clone();
        spawn_local(async move {
            let body = ToolApply { model: Some(model.get_untracked()), dry_run };
            match api::call(ApplyTool { id }, body).await {
                Ok(plan) => {
                    let diff = plan
                        .files
                        .iter()
                        .map(|f| if f.changed { f.diff.clone() } else { format!("{}: already set\n", f.path) })
                        .collect::<String>();
                    preview.set(Some(diff));
                    if dry_run {
                        status.0.set(None);
                    } else {
                        status.done("Set up. Try it with the command below.");
                        live.config_changed();
                    }
                }
                Err(e) => status.failed(e),
            }
        });
    };
    let id = tool.id.clone();
    let restore = move |_| {
        let id = id.clone();
        spawn_local(async move {
            match api::call(RestoreTool { id }, ()).await {
                Ok(lines) => {
                    preview.set(None);
                    status.done(lines.join("; "));
                    live.config_changed();
                }
                Err(e) => status.failed(e),
            }
        });
    };
    let apply_now = apply.clone();
    let state = match (tool.applied, tool.drift.is_empty()) {
        (true, true) => format!("set up, model {}", tool.model.clone().unwrap_or_default()),
        (true, false) => format!("set up, but changed since: {}", tool.drift.join(", ")),
        (false, _) => "not set up".to_string(),
    };
    let files: Vec<String> = tool.files.iter().map(|f| f.path.clone()).collect();
    view! {
        <div class="tool-row" data-tool=tool.id.clone()>
            <header>
                <h3>{tool.name.clone()}</h3>
                <span class="muted">{if tool.installed { "installed" } else { "not found on PATH" }}</span>
                <span class="state">{state}</span>
            </header>
            <p class="muted"><code>{files.join("  ")}</code>" · try: "<code>{tool.try_it.clone()}</code></p>
            <div class="row">
                <button type="button" class="small preview" on:click=move |_| apply(true)>"Preview"</button>
                <button type="button" class="small primary apply" on:click=move |_| apply_now(false)>"Apply"</button>
                {tool.applied.then(|| view! { <button type="button" class="small restore" on:click=restore>"Restore"</button> })}
            </div>
            {status.view()}
            {move || preview.get().map(|diff| view! { <pre class="diff"><code>{diff}</code></pre> })}
        </div>
    }
}
