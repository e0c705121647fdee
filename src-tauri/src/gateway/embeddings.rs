//! Embeddings requests: OpenAI `POST /v1/embeddings` and Gemini `:embedContent` /
//! `:batchEmbedContents`, through the same key check, key limits, routing plan and attempt
//! loop as chat (accounts, rotation, fallback, cooldowns, one usage record per request). A
//! candidate that cannot embed (a chat model, an Anthropic provider) is skipped, and a request
//! that only such candidates could serve gets a 400 saying so.

use super::attempts::{read_upstream, Job, Prepared};
use super::body::read_limited;
use super::error::ApiError;
use super::inbound::{recorded, refusal};
use super::{auth, AppState};
use crate::formats::embeddings::{self, Dialect, EmbedRequest};
use crate::formats::ir::Usage;
use crate::formats::translate::Format;
use crate::providers::{capabilities, upstream};
use crate::routing::{self, Candidate};
use crate::usage::{Draft, UsageTap};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri};
use std::time::Duration;

/// Which inbound shape an embeddings request came in.
#[derive(Debug, Clone)]
pub enum EmbedInbound {
    Openai,
    /// Gemini, with the model from the path; `batch` for `:batchEmbedContents`.
    Gemini {
        model: String,
        batch: bool,
    },
}

impl EmbedInbound {
    fn format(&self) -> Format {
        match self {
            Self::Openai => Format::Openai,
            Self::Gemini { .. } => Format::Gemini,
        }
    }
}

pub async fn handle(app: AppState, inbound: EmbedInbound, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let format = inbound.format();
    let label = match inbound {
        EmbedInbound::Openai => "openai-embeddings",
        EmbedInbound::Gemini { .. } => "gemini-embeddings",
    };
    let tool = super::inbound::tool_of(&headers);
    let state = app.clone();
    let work = async move |draft: &mut Draft, _: &mut Option<tokio::task::JoinHandle<u64>>| {
        serve(app, inbound, uri, headers, body, draft).await
    };
    recorded(state, format, label, tool, work).await
}

async fn serve(
    app: AppState,
    inbound: EmbedInbound,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    draft: &mut Draft,
) -> Result<(Response, Option<UsageTap>), ApiError> {
    let config = app.live.get();
    draft.key_id = auth::check(&config, app.exposed, &headers, &uri)?;
    let body = read_limited(&headers, body, &config.settings).await?;
    let request = match &inbound {
        EmbedInbound::Openai => embeddings::decode_openai(&body),
        EmbedInbound::Gemini { model, batch } => embeddings::decode_gemini(model, &body, *batch),
    }
    .map_err(|m| ApiError::bad_request(m).code("invalid_embeddings_request"))?;
    draft.requested_model = request.model.clone();
    if let Some(limits) = draft.key_id.and_then(|id| config.key_limits.get(&id).map(|l| (id, l))) {
        app.limits.check(limits.0, limits.1, &request.model).await.map_err(refusal)?;
    }
    if super::synthesis::combo_for(&config, &request.model).is_some() {
        return Err(ApiError::bad_request(format!(
            "'{}' is a synthesis combo, which answers chat: embeddings need an embedding model or a combo of them",
            request.model
        ))
        .code("not_an_embedding_model"));
    }
    let candidates = routing::plan(&config, &app.routing, &request.model)?;
    let model = request.model.clone();
    let mut job = EmbedJob { format: inbound.format(), request };
    super::attempts::run(&app, &mut job, &model, &candidates, draft).await
}

struct EmbedJob {
    format: Format,
    request: EmbedRequest,
}

impl Job for EmbedJob {
    fn format(&self) -> Format {
        self.format
    }

    fn stream(&self) -> bool {
        false
    }

    fn skip(&mut self, candidate: &Candidate) -> Option<String> {
        if let Some(login) = super::upstreams::Upstream::of(&candidate.provider).no_embeddings() {
            return Some(format!("a {login} login has no embeddings API"));
        }
        if candidate.provider.kind == Format::Anthropic {
            return Some(format!("provider '{}' (Anthropic) has no embeddings API", candidate.provider.id));
        }
        capabilities::embeddings_skip_reason(&candidate.upstream_model)
    }

    fn session(&mut self) -> Option<u64> {
        None
    }

    async fn prepare(&mut self, candidate: &Candidate) -> Result<Prepared, ApiError> {
        let Some((dialect, url)) = upstream::embeddings_endpoint(&candidate.provider, &candidate.upstream_model)?
        else {
            return Err(ApiError::bad_request(format!("provider '{}' has no embeddings API", candidate.provider.id)));
        };
        let body = embeddings::encode_upstream(dialect, &self.request, &candidate.upstream_model);
        Ok(Prepared {
            url,
            body: Bytes::from(body.to_string()),
            extra: HeaderMap::new(),
            translated: true,
            gather: false,
        })
    }

    async fn answer(
        &mut self,
        response: reqwest::Response,
        candidate: &Candidate,
        _translated: bool,
        _stall: Duration,
        tap: &UsageTap,
    ) -> Result<Response, ApiError> {
        let dialect = match candidate.provider.kind {
            Format::Gemini => Dialect::Gemini,
            _ => Dialect::OpenAi,
        };
        let bytes = read_upstream(response, candidate).await?;
        let answer = embeddings::decode_upstream(dialect, &bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!("provider '{}' sent embeddings that cannot be read: {e}", candidate.provider.id),
            )
        })?;
        if answer.vectors.len() != self.request.inputs.len() {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!(
                    "provider '{}' sent {} embeddings for {} inputs",
                    candidate.provider.id,
                    answer.vectors.len(),
                    self.request.inputs.len()
                ),
            ));
        }
        if let Some(input) = answer.input_tokens {
            tap.add_usage(Usage { input, ..Default::default() });
        }
        let body = match self.format {
            Format::Gemini => embeddings::encode_gemini(&answer, self.request.single),
            _ => embeddings::encode_openai(&answer, &self.request.model, self.request.base64),
        };
        Ok(axum::Json(body).into_response())
    }
}
