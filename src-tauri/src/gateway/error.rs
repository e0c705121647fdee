//! The gateway's error answer: a status and a message that says what is wrong, rendered in the
//! client's own API shape (`render`): OpenAI's `{"error":{"message","type","param","code"}}`,
//! Anthropic's `{"type":"error","error":{...}}`, Gemini's `{"error":{"code","message","status"}}`.

use crate::formats::codec::DecodeError;
use crate::formats::envelope::EnvelopeError;
use crate::formats::translate::{self, Format};
use crate::providers::upstream::UpstreamError;
use crate::routing::RouteError;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// OpenAI's error `type`: invalid_request_error, authentication_error, server_error, ...
    pub error_type: &'static str,
    pub code: Option<&'static str>,
    pub param: Option<&'static str>,
    /// Kept from an upstream's answer so that clients back off as the provider asked.
    pub retry_after: Option<http::HeaderValue>,
}

impl ApiError {
    pub fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), error_type, code: None, param: None, retry_after: None }
    }

    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }
}

impl ApiError {
    /// The error as an HTTP response in `format`'s shape.
    pub fn render(self, format: Format) -> Response {
        let body =
            translate::error_body(format, self.status.as_u16(), &self.message, self.error_type, self.code, self.param);
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(retry_after) = self.retry_after {
            response.headers_mut().insert(http::header::RETRY_AFTER, retry_after);
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.render(Format::Openai)
    }
}

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        let code = match e {
            DecodeError::Json(_) => "invalid_json",
            DecodeError::Invalid(_) => "invalid_request",
        };
        Self::bad_request(e.to_string()).code(code)
    }
}

impl From<EnvelopeError> for ApiError {
    fn from(e: EnvelopeError) -> Self {
        let mut err = Self::bad_request(e.to_string());
        err.param = e.param();
        err.code = Some(match e {
            EnvelopeError::InvalidJson(_) | EnvelopeError::NotAnObject => "invalid_json",
            EnvelopeError::MissingModel => "missing_model",
            EnvelopeError::WrongType(..) => "invalid_type",
        });
        err
    }
}

impl From<RouteError> for ApiError {
    fn from(e: RouteError) -> Self {
        let (status, error_type, code) = match e {
            RouteError::UnknownProvider { .. } | RouteError::UnknownModel { .. } => {
                (StatusCode::NOT_FOUND, "invalid_request_error", "model_not_found")
            }
            RouteError::Ambiguous { .. } => (StatusCode::BAD_REQUEST, "invalid_request_error", "ambiguous_model"),
            RouteError::NoAccount { .. } => (StatusCode::SERVICE_UNAVAILABLE, "server_error", "no_account"),
            RouteError::Cycle { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", "combo_cycle"),
        };
        let mut err = Self::new(status, error_type, e.to_string()).code(code);
        err.param = Some("model");
        err
    }
}

impl From<UpstreamError> for ApiError {
    fn from(e: UpstreamError) -> Self {
        match e {
            UpstreamError::Unreachable { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string()).code("upstream_unreachable")
            }
            UpstreamError::Timeout { .. } => {
                Self::new(StatusCode::GATEWAY_TIMEOUT, "upstream_error", e.to_string()).code("upstream_timeout")
            }
            UpstreamError::BadCredential => {
                Self::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string()).code("bad_credential")
            }
            UpstreamError::BadUrl { .. } => Self::bad_request(e.to_string()).code("invalid_model"),
            UpstreamError::BadProxy { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string()).code("bad_proxy")
            }
        }
    }
}
