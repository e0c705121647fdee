//! /api routes for configuration: providers and the catalog, accounts, combos, gateway keys,
//! settings and the model names clients may use. Each reads its request and calls `manage`.

use super::{json, ApiResult, Body};
use crate::gateway::error::ApiError;
use crate::gateway::AppState;
use crate::manage::{AccountAdd, AccountChange, ComboSpec, KeyLimitsChange, ProviderAdd, ProviderSet};
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use http::StatusCode;
use serde::Deserialize;

/// Parses a text field into its type, or a 400 saying what is accepted.
fn parsed<T: std::str::FromStr<Err = String>>(value: Option<&str>) -> Result<Option<T>, ApiError> {
    value.map(|v| v.parse::<T>().map_err(ApiError::bad_request)).transpose()
}

pub async fn models(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.model_names().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelName {
    model: String,
}

/// Sends one short request to a model name through the gateway's own path.
pub async fn model_test(State(app): State<AppState>, Body(m): Body<ModelName>) -> ApiResult {
    Ok(json(crate::gateway::selftest::test_model(app, &m.model).await))
}

pub async fn catalog(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.provider_catalog()))
}

pub async fn providers(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.provider_list().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProvider {
    id: String,
    kind: Option<String>,
    base_url: Option<String>,
    auth: Option<String>,
    #[serde(default)]
    models: Vec<String>,
    api_key: Option<String>,
}

pub async fn provider_add(State(app): State<AppState>, Body(p): Body<NewProvider>) -> ApiResult {
    let request = ProviderAdd {
        id: p.id,
        kind: parsed(p.kind.as_deref())?,
        base_url: p.base_url.filter(|u| !u.trim().is_empty()),
        auth: parsed(p.auth.as_deref())?,
        models: p.models,
        api_key: p.api_key.filter(|k| !k.trim().is_empty()),
    };
    let (provider, account_id) = app.manager.provider_add(request).await?;
    Ok((StatusCode::CREATED, axum::Json(serde_json::json!({"provider": provider, "account_id": account_id})))
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderChange {
    strategy: Option<String>,
    sticky_uses: Option<i64>,
    proxy: Option<String>,
    first_byte_timeout_secs: Option<u64>,
    stall_timeout_secs: Option<u64>,
}

pub async fn provider_set(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Body(c): Body<ProviderChange>,
) -> ApiResult {
    let change = ProviderSet {
        strategy: parsed(c.strategy.as_deref())?,
        sticky_uses: c.sticky_uses,
        proxy: c.proxy,
        first_byte_timeout_secs: c.first_byte_timeout_secs,
        stall_timeout_secs: c.stall_timeout_secs,
    };
    app.manager.provider_set(&id, change).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn provider_remove(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult {
    app.manager.provider_remove(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn accounts(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.account_list().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    provider: String,
    api_key: Option<String>,
    #[serde(default)]
    label: String,
    #[serde(default)]
    priority: i64,
}

pub async fn account_add(State(app): State<AppState>, Body(a): Body<NewAccount>) -> ApiResult {
    let request = AccountAdd {
        provider: a.provider,
        api_key: a.api_key.filter(|k| !k.trim().is_empty()),
        label: a.label,
        priority: a.priority,
    };
    Ok((StatusCode::CREATED, axum::Json(app.manager.account_add(request).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    priority: Option<i64>,
    enabled: Option<bool>,
    label: Option<String>,
    /// 0 removes the cap.
    max_concurrent: Option<i64>,
}

pub async fn account_set(State(app): State<AppState>, Path(id): Path<i64>, Body(c): Body<AccountPatch>) -> ApiResult {
    let change = AccountChange {
        priority: c.priority,
        enabled: c.enabled,
        label: c.label.as_deref(),
        max_concurrent: c.max_concurrent.map(|n| (n > 0).then_some(n)),
    };
    app.manager.account_set(id, change).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn account_remove(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult {
    app.manager.account_remove(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Tries the account's key against its provider (a model-list call; no tokens spent).
pub async fn account_test(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult {
    Ok(json(app.manager.account_test(id, &app.upstream, &app.live.get()).await?))
}

pub async fn cooldowns(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.cooldowns().await?))
}

pub async fn combos(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.combo_list().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComboBody {
    #[serde(default = "fallback")]
    strategy: String,
    members: Vec<String>,
    #[serde(default)]
    judge: Option<String>,
    #[serde(default)]
    deadline_secs: Option<u64>,
}

fn fallback() -> String {
    "fallback".into()
}

pub async fn combo_set(State(app): State<AppState>, Path(name): Path<String>, Body(c): Body<ComboBody>) -> ApiResult {
    let strategy = c.strategy.parse().map_err(ApiError::bad_request)?;
    let spec = ComboSpec { strategy, members: c.members, judge: c.judge, deadline_secs: c.deadline_secs };
    app.manager.combo_set(&name, spec).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn combo_remove(State(app): State<AppState>, Path(name): Path<String>) -> ApiResult {
    app.manager.combo_remove(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn keys(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.key_list().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
}

/// The whole key is in this answer and nowhere else, ever.
pub async fn key_create(State(app): State<AppState>, Body(k): Body<NewKey>) -> ApiResult {
    Ok((StatusCode::CREATED, axum::Json(app.manager.key_create(&k.name).await?)).into_response())
}

/// A key's limits and token saver switch, as `key set` takes them.
pub async fn key_set(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Body(change): Body<KeyLimitsChange>,
) -> ApiResult {
    app.manager.key_set(id, change).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn key_revoke(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult {
    app.manager.key_revoke(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn settings(State(app): State<AppState>) -> ApiResult {
    Ok(json(app.manager.settings_get().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingValue {
    value: String,
}

pub async fn setting_set(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Body(v): Body<SettingValue>,
) -> ApiResult {
    let settings = app.manager.settings_set(&key, &v.value).await?;
    if key == crate::manage::dashboard::SETTING_NAME {
        // A new password: every other browser logs in again; this one stays in.
        app.sessions.end_all();
        return Ok(app.sessions.start(json(settings)));
    }
    Ok(json(settings))
}
