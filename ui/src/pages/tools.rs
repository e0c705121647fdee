//! Tools: one-click setup of the coding tools whose config Switchyard can write
//! (`tool_setup`), and copyable steps for every tool and SDK, with this gateway's URL and a
//! model the user picks.

use crate::api;
use crate::components::{load, show, CopyButton};
use leptos::prelude::*;
use switchyard_api::routes::{GetOverview, ListModels};

/// One tool's setup: its name and the text to paste (shell lines or a config file).
pub struct ToolSteps {
    pub tool: &'static str,
    pub where_: &'static str,
    pub text: String,
}

const KEY_HINT: &str = "sk-sy-YOUR-KEY";

/// The steps for every tool, for the gateway at `endpoint` and the model `model`.
pub fn steps(endpoint: &str, model: &str) -> Vec<ToolSteps> {
    let v1 = format!("{endpoint}/v1");
    vec![
        ToolSteps {
            tool: "Claude Code",
            where_: "shell, before running claude",
            text: format!(
                "export ANTHROPIC_BASE_URL={endpoint}\nexport ANTHROPIC_AUTH_TOKEN={KEY_HINT}\nexport ANTHROPIC_MODEL={model}\nclaude"
            ),
        },
        ToolSteps {
            tool: "Codex CLI",
            where_: "~/.codex/config.toml, then export SWITCHYARD_API_KEY",
            text: format!(
                "model = \"{model}\"\nmodel_provider = \"switchyard\"\n\n[model_providers.switchyard]\nname = \"Switchyard\"\nbase_url = \"{v1}\"\nwire_api = \"responses\"\nenv_key = \"SWITCHYARD_API_KEY\""
            ),
        },
        ToolSteps {
            tool: "Gemini CLI",
            where_: "shell, before running gemini",
            text: format!("export GOOGLE_GEMINI_BASE_URL={endpoint}\nexport GEMINI_API_KEY={KEY_HINT}\ngemini -m {model}"),
        },
        ToolSteps {
            tool: "OpenCode",
            where_: "~/.config/opencode/opencode.json",
            text: format!(
                "{{\n  \"provider\": {{\n    \"switchyard\": {{\n      \"npm\": \"@ai-sdk/openai-compatible\",\n      \"options\": {{ \"baseURL\": \"{v1}\", \"apiKey\": \"{KEY_HINT}\" }},\n      \"models\": {{ \"{model}\": {{}} }}\n    }}\n  }}\n}}"
            ),
        },
        ToolSteps {
            tool: "Cursor, Cline, Roo Code, Kilo Code",
            where_: "the tool's OpenAI-compatible provider settings",
            text: format!("Base URL: {v1}\nAPI key:  {KEY_HINT}\nModel:    {model}"),
        },
        ToolSteps {
            tool: "OpenAI, Anthropic and Gemini SDKs",
            where_: "environment",
            text: format!(
                "export OPENAI_BASE_URL={v1}\nexport ANTHROPIC_BASE_URL={endpoint}\nexport OPENAI_API_KEY={KEY_HINT}\n# model: {model}"
            ),
        },
    ]
}

#[component]
pub fn StepsList(
    #[prop(into)] endpoint: String,
    #[prop(into)] model: Signal<String>,
    #[prop(default = 99)] limit: usize,
) -> impl IntoView {
    move || {
        steps(&endpoint, &model.get())
            .into_iter()
            .take(limit)
            .map(|s| {
                let text = s.text.clone();
                view! {
                    <section class="card tool">
                        <header>
                            <h3>{s.tool}</h3>
                            <span class="muted">{s.where_}</span>
                            <CopyButton text=Signal::derive(move || text.clone())/>
                        </header>
                        <pre><code>{s.text}</code></pre>
                    </section>
                }
            })
            .collect_view()
    }
}

#[component]
pub fn Tools() -> impl IntoView {
    let overview = load(|| api::call(GetOverview {}, ()));
    let models = load(|| api::call(ListModels {}, ()));
    let model = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(list)) = models.get() {
            if model.get_untracked().is_empty() {
                if let Some(first) = list.first() {
                    model.set(first.clone());
                }
            }
        }
    });
    view! {
        <h1>"Coding tools"</h1>
        <p>"Point each tool at Switchyard. Create a key on the Keys page; while require-key is off, on this machine, any key works."</p>
        <label for="tool-model">"Model "</label>
        <select id="tool-model" on:change=move |ev| model.set(event_target_value(&ev))>
            {move || models.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|m| {
                let selected = m == model.get_untracked();
                let label = m.clone();
                view! { <option value=m selected=selected>{label}</option> }
            }).collect_view()}
        </select>
        <crate::pages::tool_setup::ToolSetup model=model/>
        <h2>"By hand"</h2>
        {show(overview, move |o| view! { <StepsList endpoint=o.endpoint model=model/> })}
    }
}
