//! The error body of every /api failure (and of /v1 in the OpenAI shape):
//! `{"error":{"message","type","code"}}`, with a 4xx status that says what is wrong.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// What is wrong, for a person.
    pub message: String,
    /// The class: `invalid_request_error`, `authentication_error`, `not_found_error`...
    #[serde(rename = "type")]
    pub kind: String,
    /// A stable name for the case, where a client may act on it (`login_required`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}
