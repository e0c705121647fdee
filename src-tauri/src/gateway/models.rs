//! GET /v1/models: every configured provider's models as `PROVIDER/MODEL` (those it was given
//! with `--models`, else those it lists itself), in the OpenAI list shape.

use super::error::ApiError;
use super::{auth, AppState};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Uri};
use serde::Serialize;

#[derive(Serialize)]
struct ModelEntry {
    id: String,
    object: &'static str,
    created: u64,
    owned_by: String,
}

pub async fn list_models(State(app): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let config = app.live.get();
    if let Err(e) = auth::check(&config, app.exposed, &headers, &uri) {
        return e.into_response();
    }
    let routed = config.combos.keys().chain(config.aliases.keys()).map(|name| ModelEntry {
        id: name.clone(),
        object: "model",
        created: 0,
        owned_by: "switchyard".into(),
    });
    let mut data: Vec<ModelEntry> = routed.collect();
    data.sort_by(|a, b| a.id.cmp(&b.id));
    for (provider, models) in provider_models(&app, &config) {
        data.extend(models.iter().map(|m| ModelEntry {
            id: format!("{provider}/{m}"),
            object: "model",
            created: 0,
            owned_by: provider.to_string(),
        }));
    }
    axum::Json(serde_json::json!({"object": "list", "data": data})).into_response()
}

/// Each provider's models, in provider order: those the user gave it; else those it lists
/// itself (`model_lists`), the catalog's until it has answered.
fn provider_models<'a>(
    app: &AppState,
    config: &'a crate::snapshot::ConfigSnapshot,
) -> Vec<(&'a str, std::sync::Arc<Vec<String>>)> {
    config
        .provider_order
        .iter()
        .filter_map(|id| {
            let provider = &config.providers[id.as_str()];
            let listed = provider.lists_own_models.then(|| app.model_lists.get(id)).flatten();
            let models = match listed {
                Some(listed) if !listed.is_empty() => listed,
                _ if !provider.models.is_empty() => std::sync::Arc::new(provider.models.clone()),
                _ => return None,
            };
            Some((provider.id.as_str(), models))
        })
        .collect()
}

/// GET /v1beta/models: the same models in Gemini's list shape (`models/PROVIDER/MODEL`).
pub async fn list_gemini_models(State(app): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let config = app.live.get();
    if let Err(e) = auth::check(&config, app.exposed, &headers, &uri) {
        return e.render(crate::formats::translate::Format::Gemini);
    }
    let models: Vec<serde_json::Value> = provider_models(&app, &config)
        .into_iter()
        .flat_map(|(provider, models)| {
            models
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "name": format!("models/{provider}/{m}"),
                        "displayName": format!("{m} ({provider})"),
                        "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect();
    axum::Json(serde_json::json!({"models": models})).into_response()
}

/// Any path the gateway does not serve: a 404 that names the path.
pub async fn not_found(uri: Uri) -> Response {
    ApiError::new(http::StatusCode::NOT_FOUND, "invalid_request_error", format!("unknown path '{}'", uri.path()))
        .code("unknown_path")
        .into_response()
}
