//! Gateway-key auth: which requests need a key, and where a client may put it
//! (`Authorization: Bearer`, `x-api-key`, `x-goog-api-key`, or `?key=`, as each SDK sends it).

use super::error::ApiError;
use crate::snapshot::ConfigSnapshot;
use http::{HeaderMap, StatusCode, Uri};

/// The key a client presented, if any.
pub fn presented_key<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    if let Some(auth) = header("authorization") {
        let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")).unwrap_or(auth).trim();
        if !token.is_empty() {
            return Some(token);
        }
    }
    header("x-api-key")
        .or_else(|| header("x-goog-api-key"))
        .or_else(|| uri.query()?.split('&').find_map(|pair| pair.strip_prefix("key=")).filter(|k| !k.is_empty()))
}

/// Checks the key when one is required: always when the gateway listens beyond loopback, on
/// loopback when the `require-key` setting is on.
pub fn check(config: &ConfigSnapshot, exposed: bool, headers: &HeaderMap, uri: &Uri) -> Result<Option<i64>, ApiError> {
    let presented = presented_key(headers, uri);
    if !(exposed || config.settings.require_key) {
        // Not required, but a valid key still names who made the request.
        return Ok(presented.and_then(|k| config.key_id(k)));
    }
    match presented {
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "this gateway requires a key: send it as 'Authorization: Bearer KEY' (create one with `switchyard key create`)",
        )
        .code("missing_api_key")),
        Some(key) => config.key_id(key).map(Some).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_request_error", "invalid or revoked gateway key").code("invalid_api_key")
        }),
    }
}
