//! What every request passes before it is routed: the browser checks (`browser`: host,
//! origin, content type, CORS). Refusals are in the client's API shape, told by the path
//! (`render`; the listener's 503s beyond its caps use it too, through `overloaded`), and
//! `Held`, the body that keeps a guard until the answer has been sent.

use super::browser::{self, Verdict};
use super::error::ApiError;
use super::AppState;
use crate::formats::translate::Format;
use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The middleware over every route.
pub async fn admit(State(app): State<AppState>, request: Request, next: Next) -> Response {
    // Load balancers' probes name whatever host they like; the answers say nothing secret.
    if request.method() == http::Method::GET && matches!(request.uri().path(), "/health" | "/ready") {
        return next.run(request).await;
    }
    let config = app.live.get();
    let verdict = browser::judge(
        request.method(),
        request.uri().path(),
        request.headers(),
        request.uri().authority().map(|a| a.as_str()),
        app.listen.ip(),
        &config.settings,
    );
    let cors = match verdict {
        Verdict::Pass => None,
        Verdict::Cors(origin) => Some(origin),
        Verdict::Preflight(origin) => {
            let mut answer = StatusCode::NO_CONTENT.into_response();
            browser::preflight_headers(origin, request.headers(), answer.headers_mut());
            return answer;
        }
        Verdict::Refuse(refusal) => {
            tracing::warn!(
                path = request.uri().path(),
                host = ?request.headers().get(http::header::HOST),
                origin = ?request.headers().get(http::header::ORIGIN),
                "refused: {}", refusal.code
            );
            let error = ApiError::new(refusal.status, "permission_error", refusal.message).code(refusal.code);
            return render(request.uri().path(), error);
        }
    };
    drop(config);
    let mut response = next.run(request).await;
    if let Some(origin) = cors {
        browser::cors_headers(origin, response.headers_mut());
    }
    response
}

/// The 503 for a request beyond a cap (`setting`), with `retry-after`, in the client's shape.
pub fn overloaded(path: &str, setting: &str) -> Response {
    let mut error = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded_error",
        format!("Switchyard is serving as many requests as it is set to (setting {setting}); retry in a moment"),
    )
    .code("overloaded");
    error.retry_after = Some(HeaderValue::from_static("1"));
    let mut response = render(path, error);
    response.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// An error in the shape of the API the path belongs to: Anthropic's for /v1/messages,
/// Gemini's for its model paths, OpenAI's for the rest of /v1 and for /api, text for pages.
fn render(path: &str, error: ApiError) -> Response {
    let format = if path.starts_with("/v1/messages") {
        Format::Anthropic
    } else if path.starts_with("/v1beta/") || (path.starts_with("/v1/models/") && path.contains(':')) {
        Format::Gemini
    } else if path.starts_with("/v1") || path.starts_with("/api/") {
        Format::Openai
    } else {
        let mut response = (error.status, error.message).into_response();
        if let Some(retry_after) = error.retry_after {
            response.headers_mut().insert(http::header::RETRY_AFTER, retry_after);
        }
        return response;
    };
    error.render(format)
}

/// A response body that holds `guard` until it has been sent or dropped.
pub struct Held<G> {
    body: Body,
    _guard: G,
}

impl<G> Held<G> {
    pub fn new(body: Body, guard: G) -> Self {
        Self { body, _guard: guard }
    }
}

impl<G: Unpin> HttpBody for Held<G> {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
