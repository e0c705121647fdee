//! The mock's embeddings routes: OpenAI-style `POST /v1/embeddings` (Voyage's
//! `output_dimension` read too) and Gemini `:embedContent` / `:batchEmbedContents`. Vectors are
//! deterministic, from the text: `vector(text, n)`; n is the size asked for, else 8.

use super::*;

/// The mock's vector for `text`, of `n` values in [0, 1).
pub fn vector(text: &str, n: usize) -> Vec<f32> {
    let seed: u64 = text.bytes().fold(1469598103934665603, |h, b| (h ^ b as u64).wrapping_mul(1099511628211));
    (0..n).map(|i| ((seed >> (i % 56)) & 0xff) as f32 / 256.0).collect()
}

pub async fn openai(
    State(state): State<MockState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error_body = super::openai::error_body;
    if let Err(response) = intake(&state, "/v1/embeddings", &headers, q.as_deref(), &body, error_body).await {
        return response;
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else { return bad_request(error_body, "mock: bad JSON") };
    let inputs: Vec<String> = match &req["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
        _ => return bad_request(error_body, "mock: 'input' must be text"),
    };
    let n = req["dimensions"].as_u64().or(req["output_dimension"].as_u64()).unwrap_or(8) as usize;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": vector(t, n)}))
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.len().div_ceil(4)).sum();
    axum::Json(json!({"object": "list", "data": data, "model": req["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
    .into_response()
}

/// `:embedContent` (one `content`) or `:batchEmbedContents` (`requests`).
pub fn gemini(req: &Value, batch: bool) -> Response {
    let items: Vec<&Value> =
        if batch { req["requests"].as_array().map(|r| r.iter().collect()).unwrap_or_default() } else { vec![req] };
    let embeddings: Vec<Value> = items
        .iter()
        .map(|item| {
            let text: String = item["content"]["parts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let n = item["outputDimensionality"].as_u64().unwrap_or(8) as usize;
            json!({"values": vector(&text, n)})
        })
        .collect();
    if batch {
        axum::Json(json!({"embeddings": embeddings})).into_response()
    } else {
        axum::Json(json!({"embedding": embeddings[0]})).into_response()
    }
}
