//! Server-sent events: what the gateway writes into a stream itself (today: the error event
//! that closes a stream whose upstream broke).

use bytes::Bytes;

/// An OpenAI-style error as the last `data:` event of a stream.
pub fn openai_error_event(message: &str, error_type: &str) -> Bytes {
    let body = serde_json::json!({"error": {"message": message, "type": error_type, "code": null, "param": null}});
    Bytes::from(format!("data: {body}\n\n"))
}
