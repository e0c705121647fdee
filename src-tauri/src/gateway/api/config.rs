//! /api routes for configuration: providers and the catalog, accounts, combos, gateway keys,
//! settings and the model names clients may use. Each reads its request and calls `manage`;
//! the request and answer types are the contract's (`switchyard_api::routes`).

use super::{ok, Answer, Body, Reply};
use crate::gateway::AppState;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use switchyard_api::routes::*;
use switchyard_api::{AccountChange, ComboSpec, KeyChange, ModelName, NewAccount, NewKey, NewProvider};
use switchyard_api::{ProviderChange, SettingValue};

pub async fn models(State(app): State<AppState>) -> Reply<ListModels> {
    ok(app.manager.model_names().await?)
}

/// Sends one short request to a model name through the gateway's own path.
pub async fn model_test(State(app): State<AppState>, Body(m): Body<ModelName>) -> Reply<TestModel> {
    ok(crate::gateway::selftest::test_model(app, &m.model).await)
}

pub async fn catalog(State(app): State<AppState>) -> Reply<ListCatalog> {
    ok(app.manager.provider_catalog())
}

pub async fn providers(State(app): State<AppState>) -> Reply<ListProviders> {
    ok(app.manager.provider_list().await?)
}

pub async fn provider_add(State(app): State<AppState>, Body(p): Body<NewProvider>) -> Reply<AddProvider> {
    Ok(Answer::created(app.manager.provider_add(p).await?))
}

pub async fn provider_set(
    State(app): State<AppState>,
    Path(route): Path<ChangeProvider>,
    Body(change): Body<ProviderChange>,
) -> Reply<ChangeProvider> {
    ok(app.manager.provider_set(&route.id, change).await?)
}

pub async fn provider_remove(State(app): State<AppState>, Path(route): Path<RemoveProvider>) -> Reply<RemoveProvider> {
    ok(app.manager.provider_remove(&route.id).await?)
}

pub async fn accounts(State(app): State<AppState>) -> Reply<ListAccounts> {
    ok(app.manager.account_list().await?)
}

pub async fn account_add(State(app): State<AppState>, Body(a): Body<NewAccount>) -> Reply<AddAccount> {
    Ok(Answer::created(app.manager.account_add(a).await?))
}

pub async fn account_set(
    State(app): State<AppState>,
    Path(route): Path<ChangeAccount>,
    Body(change): Body<AccountChange>,
) -> Reply<ChangeAccount> {
    ok(app.manager.account_set(route.id, change).await?)
}

pub async fn account_remove(State(app): State<AppState>, Path(route): Path<RemoveAccount>) -> Reply<RemoveAccount> {
    ok(app.manager.account_remove(route.id).await?)
}

/// Tries the account's key against its provider (a model-list call; no tokens spent).
pub async fn account_test(State(app): State<AppState>, Path(route): Path<TestAccount>) -> Reply<TestAccount> {
    ok(app.manager.account_test(route.id, &app.upstream, &app.live.get()).await?)
}

pub async fn cooldowns(State(app): State<AppState>) -> Reply<ListCooldowns> {
    ok(app.manager.cooldowns().await?)
}

pub async fn combos(State(app): State<AppState>) -> Reply<ListCombos> {
    ok(app.manager.combo_list().await?)
}

pub async fn combo_set(
    State(app): State<AppState>,
    Path(route): Path<SetCombo>,
    Body(spec): Body<ComboSpec>,
) -> Reply<SetCombo> {
    ok(app.manager.combo_set(&route.name, spec).await?)
}

pub async fn combo_remove(State(app): State<AppState>, Path(route): Path<RemoveCombo>) -> Reply<RemoveCombo> {
    ok(app.manager.combo_remove(&route.name).await?)
}

pub async fn keys(State(app): State<AppState>) -> Reply<ListKeys> {
    ok(app.manager.key_list().await?)
}

/// The whole key is in this answer and nowhere else, ever.
pub async fn key_create(State(app): State<AppState>, Body(k): Body<NewKey>) -> Reply<CreateKey> {
    Ok(Answer::created(app.manager.key_create(&k.name).await?))
}

/// A key's limits and token saver switch, as `key set` takes them.
pub async fn key_set(
    State(app): State<AppState>,
    Path(route): Path<ChangeKey>,
    Body(change): Body<KeyChange>,
) -> Reply<ChangeKey> {
    ok(app.manager.key_set(route.id, change).await?)
}

pub async fn key_revoke(State(app): State<AppState>, Path(route): Path<RevokeKey>) -> Reply<RevokeKey> {
    ok(app.manager.key_revoke(route.id).await?)
}

pub async fn settings(State(app): State<AppState>) -> Reply<GetSettings> {
    ok(app.manager.settings_get().await?)
}

pub async fn setting_set(
    State(app): State<AppState>,
    Path(route): Path<SetSetting>,
    Body(v): Body<SettingValue>,
) -> axum::response::Response {
    let settings = match app.manager.settings_set(&route.name, &v.value).await {
        Ok(settings) => Answer::<SetSetting>::ok(settings),
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    if route.name == crate::manage::dashboard::SETTING_NAME {
        // A new password: every other browser logs in again; this one stays in.
        app.sessions.end_all().await;
        return app.sessions.start(settings.into_response()).await;
    }
    settings.into_response()
}
