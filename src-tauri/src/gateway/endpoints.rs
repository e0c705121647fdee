//! The inbound routes: each names its API format and hands the request to `inbound::handle`.
//! Gemini's routes carry the model in the path (`/v1beta/models/{model}:generateContent`,
//! also under `/v1/models/`, the model possibly `PROVIDER/MODEL` as extra segments or
//! URL-encoded). Embeddings: `/v1/embeddings`, and Gemini's `:embedContent` and
//! `:batchEmbedContents` on the same model paths.

use super::body::read_limited;
use super::embeddings::{self, EmbedInbound};
use super::error::ApiError;
use super::inbound::{handle, Inbound};
use super::{auth, AppState};
use crate::formats::translate::{self, Format};
use crate::formats::{envelope::Envelope, tokens};
use crate::providers::upstream;
use crate::routing;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, Uri};

pub async fn chat_completions(State(app): State<AppState>, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    handle(app, Inbound::body_format(Format::Openai), uri, headers, body).await
}

pub async fn embeddings(State(app): State<AppState>, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    embeddings::handle(app, EmbedInbound::Openai, uri, headers, body).await
}

pub async fn messages(State(app): State<AppState>, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    handle(app, Inbound::body_format(Format::Anthropic), uri, headers, body).await
}

pub async fn responses(State(app): State<AppState>, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    handle(app, Inbound::body_format(Format::Responses), uri, headers, body).await
}

/// POST /v1beta/models/{model}:{method} (and /v1/models/...).
pub async fn gemini(
    State(app): State<AppState>,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some((model, method)) = rest.rsplit_once(':') else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("unknown path '{}': expected models/MODEL:generateContent", uri.path()),
        )
        .render(Format::Gemini);
    };
    let model = model.trim_start_matches("models/").to_string();
    let path_stream = match method {
        "generateContent" => false,
        "streamGenerateContent" => true,
        "embedContent" | "batchEmbedContents" => {
            let inbound = EmbedInbound::Gemini { model, batch: method == "batchEmbedContents" };
            return embeddings::handle(app, inbound, uri, headers, body).await;
        }
        other => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                format!(
                    "method '{other}' is not served; generateContent, streamGenerateContent, embedContent and batchEmbedContents are"
                ),
            )
            .render(Format::Gemini)
        }
    };
    let gemini_sse = query.as_deref().is_some_and(|q| q.split('&').any(|p| p == "alt=sse"));
    let inbound = Inbound { format: Format::Gemini, path_model: Some(model), path_stream, gemini_sse, internal: false };
    handle(app, inbound, uri, headers, body).await
}

/// POST /v1/messages/count_tokens: the provider's own count for Anthropic-kind targets, a BPE
/// count otherwise.
pub async fn count_tokens(State(app): State<AppState>, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    match count(app, uri, headers, body).await {
        Ok(r) => r,
        Err(e) => e.render(Format::Anthropic),
    }
}

async fn count(app: AppState, uri: Uri, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let config = app.live.get();
    auth::check(&config, app.exposed, &headers, &uri)?;
    let body = read_limited(&headers, body, &config.settings).await?;
    let envelope = Envelope::parse(&body)?;
    let candidates = routing::plan(&config, &app.routing, envelope.model())?;
    let target = candidates
        .first()
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", "no candidate"))?;
    if target.provider.kind == Format::Anthropic {
        let url = upstream::count_tokens_endpoint(&target.provider)?;
        let upstream_body = bytes::Bytes::from(envelope.with_model(&target.upstream_model));
        let (ready, _) = app.routing.order_accounts(&target.provider, &target.upstream_model, None);
        let response = app
            .upstream
            .post_json(
                &target.provider,
                ready.first().map(|a| a.as_ref()),
                url,
                "application/json",
                HeaderMap::new(),
                upstream_body,
            )
            .await?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", upstream::error_chain(&e)))?;
        if status.is_success() {
            return Ok((status, [(http::header::CONTENT_TYPE, "application/json")], bytes).into_response());
        }
        return Err(ApiError::new(status, "upstream_error", translate::upstream_error_message(&bytes)));
    }
    let request = translate::decode_request(Format::Anthropic, &body, "", false)?;
    let n = tokio::task::spawn_blocking(move || tokens::count_request(&request))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()))?;
    Ok(axum::Json(serde_json::json!({"input_tokens": n})).into_response())
}
