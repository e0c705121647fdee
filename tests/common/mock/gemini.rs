//! The mock's Gemini routes (`models/{model}:generateContent` and `:streamGenerateContent`,
//! SSE with `?alt=sse`, a streamed JSON array without).

use super::*;

fn error_body(code: u16, message: &str) -> Value {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    json!({"error": {"code": code, "message": message, "status": status}})
}

pub async fn generate(
    State(state): State<MockState>,
    path: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (model, method, q) = split_gemini_path(path, query);
    let key =
        match intake(&state, &format!("/v1beta/models/{model}:{method}"), &headers, q.as_deref(), &body, error_body)
            .await
        {
            Ok(key) => key,
            Err(response) => return response,
        };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else { return bad_request(error_body, "mock: bad JSON") };
    if method == "embedContent" || method == "batchEmbedContents" {
        return super::embeddings::gemini(&req, method == "batchEmbedContents");
    }
    let tools: Vec<String> = req["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["functionDeclarations"].as_array().into_iter().flatten())
        .filter_map(|f| f["name"].as_str().map(String::from))
        .collect();
    let last = req["contents"].as_array().and_then(|c| c.last());
    let last_text = last.and_then(|c| {
        let parts = c["parts"].as_array()?;
        if parts.iter().any(|p| p.get("functionResponse").is_some()) {
            return None;
        }
        Some(parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" "))
    });
    // The API takes camelCase and snake_case alike (the google-genai SDK mixes them).
    let budget = req
        .pointer("/generationConfig/thinkingConfig/thinkingBudget")
        .or_else(|| req.pointer("/generationConfig/thinkingConfig/thinking_budget"));
    let think = budget.and_then(Value::as_i64).is_some_and(|b| b != 0);
    let stream = method == "streamGenerateContent";
    let ask = Ask::new(model.clone(), stream, tools, last_text, think, body.len());
    let chunks = state.config.chunks;
    let usage = json!({"promptTokenCount": ask.prompt_tokens, "candidatesTokenCount": ask.completion_tokens(chunks),
        "thoughtsTokenCount": if think { 2 } else { 0 }, "totalTokenCount": ask.prompt_tokens + ask.completion_tokens(chunks) + if think { 2 } else { 0 }});
    let call_parts: Vec<Value> =
        ask.calls.iter().map(|name| json!({"functionCall": {"name": name, "args": {"city": "Paris"}}})).collect();
    let candidate = |parts: Vec<Value>, finish: Option<&str>| {
        let mut c = json!({"content": {"role": "model", "parts": parts}, "index": 0});
        if let Some(f) = finish {
            c["finishReason"] = json!(f);
        }
        c
    };
    if !stream {
        let mut parts = Vec::new();
        if think {
            parts.push(json!({"text": THINKING, "thought": true}));
        }
        if ask.calls.is_empty() {
            parts.push(json!({"text": full_answer(chunks)}));
        }
        parts.extend(call_parts);
        return axum::Json(json!({"candidates": [candidate(parts, Some("STOP"))], "usageMetadata": usage, "modelVersion": model, "responseId": "gem-mock"})).into_response();
    }
    let mut chunk_values = Vec::new();
    if think {
        chunk_values.push(json!({"candidates": [candidate(vec![json!({"text": THINKING, "thought": true})], None)], "modelVersion": model, "responseId": "gem-mock"}));
    }
    if ask.calls.is_empty() {
        for i in 0..chunks {
            let finish = (i + 1 == chunks).then_some("STOP");
            let mut v = json!({"candidates": [candidate(vec![json!({"text": answer_piece(i)})], finish)], "modelVersion": model, "responseId": "gem-mock"});
            if finish.is_some() {
                v["usageMetadata"] = usage.clone();
            }
            chunk_values.push(v);
        }
    } else {
        chunk_values.push(json!({"candidates": [candidate(call_parts, Some("STOP"))], "usageMetadata": usage, "modelVersion": model, "responseId": "gem-mock"}));
    }
    let sse_mode = q.as_deref().is_some_and(|q| q.contains("alt=sse"));
    let events: Vec<Bytes> = if sse_mode {
        chunk_values.iter().map(|v| Bytes::from(format!("data: {v}\r\n\r\n"))).collect()
    } else {
        let n = chunk_values.len();
        chunk_values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let prefix = if i == 0 { "[" } else { ",\r\n" };
                let suffix = if i + 1 == n { "]" } else { "" };
                Bytes::from(format!("{prefix}{v}{suffix}"))
            })
            .collect()
    };
    event_stream(&state, &key, events, if sse_mode { "text/event-stream" } else { "application/json" })
}
