//! Combos: named, ordered fallback chains a client uses as a model name, or synthesis groups
//! (every member answers, a judge model writes the final answer). The editor orders the
//! members by drag or ↑ ↓, adds any model name or another combo (nesting), and saves; the
//! gateway refuses unknown members, cycles and mixes of chat and embedding models, and the
//! error shows here.

use crate::api;
use crate::components::{act, live, load, ordered_list, show, Status};
use leptos::prelude::*;
use switchyard_api::routes::{ListCombos, ListModels, RemoveCombo, SetCombo, TestModel};
use switchyard_api::{Combo, ComboSpec, ComboStrategy, ModelName};

#[component]
pub fn Combos() -> impl IntoView {
    let live = live();
    let combos = load(move || {
        live.config_tick.get();
        api::call(ListCombos {}, ())
    });
    let models = load(move || {
        live.config_tick.get();
        api::call(ListModels {}, ())
    });
    // The combo in the editor: a new one, or a copy of one being edited.
    let editing = RwSignal::new(Combo {
        name: String::new(),
        strategy: ComboStrategy::Fallback,
        members: vec![],
        judge: None,
        deadline_secs: None,
        created_at: String::new(),
    });
    view! {
        <h1>"Combos"</h1>
        <p class="muted">"A combo is a model name that tries its members in order: the first that answers wins; one that is rate-limited or failing is skipped."</p>
        {move || view! { <Editor combo=editing.get() models=models/> }}
        <h2>"Saved combos"</h2>
        {show(combos, move |list| {
            if list.is_empty() {
                return view! { <p class="muted">"No combo yet."</p> }.into_any();
            }
            view! {
                <table>
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Strategy"</th><th scope="col">"Members, in order"</th><th scope="col"></th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|c| {
                            let status = Status::new();
                            let name = c.name.clone();
                            let edit = { let c = c.clone(); move |_| editing.set(c.clone()) };
                            let test = { let name = name.clone(); move |_| test_model(name.clone(), status) };
                            let remove = { let name = name.clone(); move |_| act(status, "Removed.", api::call(RemoveCombo { name: name.clone() }, ())) };
                            view! {
                                <tr data-combo=name.clone()>
                                    <td><code>{name.clone()}</code></td>
                                    <td>{match &c.judge {
                                        Some(judge) => format!("synthesize, judged by {judge} ({} s)", c.deadline_secs.unwrap_or(60)),
                                        None => c.strategy.as_str().to_string(),
                                    }}</td>
                                    <td>{c.members.join(if c.judge.is_some() { " + " } else { " → " })}</td>
                                    <td>
                                        <button type="button" class="small" on:click=test aria-label=format!("Test {name}")
                                            title="Sends one short request through the combo (a few tokens)">"Test"</button>
                                        <button type="button" class="small" on:click=edit aria-label=format!("Edit {name}")>"Edit"</button>
                                        <button type="button" class="small danger" on:click=remove aria-label=format!("Remove {name}")>"Remove"</button>
                                        {status.view()}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        })}
    }
}

/// Sends one short request to `model` through the gateway and says how it went.
fn test_model(model: String, status: Status) {
    status.0.set(Some(Ok("Testing…".into())));
    leptos::task::spawn_local(async move {
        match api::call(TestModel {}, ModelName { model }).await {
            Ok(t) if t.ok => status.done(format!(
                "Answered in {} ms by {}: \"{}\"",
                t.latency_ms,
                t.answered_model.unwrap_or_else(|| "?".into()),
                t.answer
            )),
            Ok(t) => status.0.set(Some(Err(format!("Failed ({}): {}", t.status, t.answer)))),
            Err(e) => status.failed(e),
        }
    });
}

#[component]
fn Editor(combo: Combo, models: crate::components::Loaded<Vec<String>>) -> impl IntoView {
    let is_new = combo.name.is_empty();
    let name = RwSignal::new(combo.name.clone());
    let strategy = RwSignal::new(combo.strategy);
    let members = RwSignal::new(combo.members.clone());
    let judge = RwSignal::new(combo.judge.clone().unwrap_or_default());
    let deadline = RwSignal::new(combo.deadline_secs.unwrap_or(60).to_string());
    let adding = RwSignal::new(String::new());
    let status = Status::new();
    let add = move || {
        let m = adding.get_untracked().trim().to_string();
        if !m.is_empty() {
            members.update(|list| list.push(m));
            adding.set(String::new());
        }
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let route = SetCombo { name: name.get_untracked().trim().to_string() };
        let synthesize = strategy.get_untracked() == ComboStrategy::Synthesize;
        let spec = ComboSpec {
            strategy: strategy.get_untracked().as_str().to_string(),
            members: members.get_untracked(),
            judge: synthesize.then(|| judge.get_untracked().trim().to_string()),
            deadline_secs: synthesize.then(|| deadline.get_untracked().trim().parse::<u64>().unwrap_or(60)),
        };
        act(status, "Combo saved.", api::call(route, spec));
    };
    view! {
        <section class="card">
            <h2>{if is_new { "New combo".to_string() } else { format!("Edit {}", combo.name) }}</h2>
            <form on:submit=save>
                <div class="grid">
                    <label for="combo-name">"Name"</label>
                    <input id="combo-name" required placeholder="coding" bind:value=name readonly=!is_new/>
                    <label for="combo-strategy">"Strategy"</label>
                    <select id="combo-strategy" on:change=move |ev| strategy.set(event_target_value(&ev).parse().unwrap_or(ComboStrategy::Fallback))>
                        <option value="fallback" selected=combo.strategy == ComboStrategy::Fallback>"Fallback: always start with the first"</option>
                        <option value="round-robin" selected=combo.strategy == ComboStrategy::RoundRobin>"Round robin: start with the next each time"</option>
                        <option value="synthesize" selected=combo.strategy == ComboStrategy::Synthesize>"Synthesize: all answer, a judge writes the answer"</option>
                    </select>
                    {move || (strategy.get() == ComboStrategy::Synthesize).then(|| view! {
                        <label for="combo-judge">"Judge"</label>
                        <input id="combo-judge" list="model-names" required placeholder="provider/model" bind:value=judge/>
                        <label for="combo-deadline">"Deadline (s)"</label>
                        <input id="combo-deadline" type="number" min="1" max="600" bind:value=deadline/>
                    })}
                </div>
                <h3>"Members"</h3>
                {move || members.get().is_empty().then(|| view! { <p class="muted">"Add at least one model."</p> })}
                {ordered_list("Combo members, tried in order", members, move |i, m| view! {
                    <code class="member">{m}</code>
                    <button type="button" class="small danger" aria-label=format!("Remove member {}", i + 1)
                        on:click=move |_| members.update(|list| { list.remove(i); })>"×"</button>
                }, || ())}
                <div class="row">
                    <label for="combo-add">"Add a model "</label>
                    <input id="combo-add" list="model-names" placeholder="provider/model or a combo" bind:value=adding
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); add(); }/>
                    <datalist id="model-names">
                        {move || models.get().and_then(Result::ok).unwrap_or_default().into_iter()
                            .map(|m| view! { <option value=m/> }).collect_view()}
                    </datalist>
                    <button type="button" on:click=move |_| add()>"Add"</button>
                </div>
                <button type="submit" class="primary">"Save combo"</button>
            </form>
            {status.view()}
        </section>
    }
}
