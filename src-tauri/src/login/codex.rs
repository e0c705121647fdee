//! What the ChatGPT Codex backend requires of a Responses request, as the Codex CLI sends it:
//! `stream: true` (a client that wants one JSON answer gets the stream gathered), `store:
//! false`, an `instructions` string, `input` as a list of items, system items as `developer`,
//! and none of the fields the backend refuses (output-token caps, sampling, truncation,
//! previous-response chaining).

use serde_json::{json, Value};

/// Fields the Codex backend refuses.
const REFUSED: [&str; 11] = [
    "max_output_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "truncation",
    "user",
    "prompt_cache_retention",
    "previous_response_id",
    "safety_identifier",
    "stream_options",
    "metadata",
];

/// The body as the backend takes it; None when it is not a JSON object (sent as it is, for
/// the backend to say what is wrong).
pub fn adapt(body: &[u8]) -> Option<Vec<u8>> {
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(body) else { return None };
    map.insert("stream".into(), Value::Bool(true));
    map.insert("store".into(), Value::Bool(false));
    if !map.get("instructions").is_some_and(Value::is_string) {
        map.insert("instructions".into(), Value::String(String::new()));
    }
    if let Some(Value::String(text)) = map.get("input") {
        let item = json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]});
        map.insert("input".into(), Value::Array(vec![item]));
    }
    if let Some(Value::Array(items)) = map.get_mut("input") {
        for item in items {
            if item.get("role").and_then(Value::as_str) == Some("system") {
                item["role"] = Value::String("developer".into());
            }
        }
    }
    for field in REFUSED {
        map.remove(field);
    }
    if map.get("service_tier").and_then(Value::as_str) != Some("priority") {
        map.remove("service_tier");
    }
    serde_json::to_vec(&Value::Object(map)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_responses_request_becomes_what_the_backend_takes() {
        let body = br#"{"model":"gpt-5.1-codex","input":"hi","stream":false,"temperature":0.2,"max_output_tokens":100,"service_tier":"auto"}"#;
        let out: Value = serde_json::from_slice(&adapt(body).unwrap()).unwrap();
        assert_eq!(
            (out["stream"].as_bool(), out["store"].as_bool(), out["instructions"].as_str()),
            (Some(true), Some(false), Some(""))
        );
        assert_eq!(out["input"][0]["content"][0]["text"], "hi");
        assert!(
            out.get("temperature").is_none()
                && out.get("max_output_tokens").is_none()
                && out.get("service_tier").is_none()
        );
        let codex_cli = br#"{"model":"m","instructions":"be brief","input":[{"type":"message","role":"system","content":[]}],"stream":true,"store":false}"#;
        let out: Value = serde_json::from_slice(&adapt(codex_cli).unwrap()).unwrap();
        assert_eq!(
            (out["instructions"].as_str(), out["input"][0]["role"].as_str()),
            (Some("be brief"), Some("developer"))
        );
        assert!(adapt(b"[1]").is_none());
    }
}
