//! The web dashboard's files (ui/dist: index.html, the wasm app and its JS glue, styles),
//! served at / by `serve`. A release binary carries them inside (rust-embed); a debug build
//! reads them from ui/dist, so a rebuilt UI shows without rebuilding the server. A binary built
//! before the UI says how to build it instead of answering 404.

use axum::response::{Html, IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

#[derive(rust_embed::Embed)]
#[folder = "ui/dist/"]
#[allow_missing = true]
struct Assets;

/// What the dashboard page may load: only its own files; wasm compiled by the browser; inline
/// style attributes (charts position their parts with them); no framing.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub async fn index() -> Response {
    match Assets::get("index.html") {
        Some(file) => page(file),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(
                "<!doctype html><title>Switchyard</title><h1>The dashboard is not built into this binary</h1>\
                 <p>Build it with <code>bash .ci/ui</code>, then rebuild Switchyard. The gateway and the \
                 <code>switchyard</code> CLI work without it.</p>",
            ),
        )
            .into_response(),
    }
}

/// A file's answer: its type, revalidated on each load (names carry no hash), never sniffed.
fn served(file: rust_embed::EmbeddedFile, content_type: HeaderValue) -> Response {
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn page(file: rust_embed::EmbeddedFile) -> Response {
    let mut response = served(file, HeaderValue::from_static("text/html; charset=utf-8"));
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}

/// One of the dashboard's files, or None (the caller answers 404 in its own shape).
pub fn asset(path: &str) -> Option<Response> {
    let file = Assets::get(path)?;
    if path.ends_with(".html") {
        return Some(page(file));
    }
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    Some(served(file, mime))
}

/// Paths no route claims: one of the dashboard's files on a GET, else the gateway's 404.
pub async fn fallback(method: http::Method, uri: http::Uri) -> Response {
    if method == http::Method::GET {
        if let Some(response) = asset(uri.path().trim_start_matches('/')) {
            return response;
        }
    }
    super::models::not_found(uri).await
}
