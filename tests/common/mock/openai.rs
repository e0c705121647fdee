//! The mock's OpenAI Chat Completions route.

use super::*;

pub fn error_body(code: u16, message: &str) -> Value {
    json!({"error": {"message": message, "type": "mock_error", "param": null, "code": format!("mock_{code}")}})
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => {
            parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join(" ")
        }
        _ => String::new(),
    }
}

pub async fn chat(State(state): State<MockState>, RawQuery(q): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let key = match intake(&state, "/v1/chat/completions", &headers, q.as_deref(), &body, error_body).await {
        Ok(key) => key,
        Err(response) => return response,
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else { return bad_request(error_body, "mock: bad JSON") };
    let tools: Vec<String> = req["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.pointer("/function/name")?.as_str().map(String::from))
        .collect();
    let last = req["messages"].as_array().and_then(|m| m.iter().rev().find(|m| m["role"] != "system"));
    let last_text = last.filter(|m| m["role"] == "user").map(|m| text_of(&m["content"]));
    let ask = Ask::new(
        req["model"].as_str().unwrap_or("unknown").into(),
        req["stream"] == true,
        tools,
        last_text,
        req.get("reasoning_effort").is_some(),
        body.len(),
    );
    let chunks = state.config.chunks;
    let usage = json!({"prompt_tokens": ask.prompt_tokens, "completion_tokens": ask.completion_tokens(chunks),
        "total_tokens": ask.prompt_tokens + ask.completion_tokens(chunks), "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": if ask.think { 2 } else { 0 }}});
    let finish = if ask.calls.is_empty() { "stop" } else { "tool_calls" };
    if !ask.stream {
        let mut message = json!({"role": "assistant", "content": if ask.calls.is_empty() { json!(full_answer(chunks)) } else { Value::Null }});
        if ask.think {
            message["reasoning_content"] = json!(THINKING);
        }
        if !ask.calls.is_empty() {
            message["tool_calls"] = ask.calls.iter().enumerate().map(|(i, name)| {
                json!({"id": format!("call_mock_{i}"), "type": "function", "function": {"name": name, "arguments": TOOL_ARGS}})
            }).collect();
        }
        return axum::Json(
            json!({"id": "chatcmpl-mock", "object": "chat.completion", "created": 1_700_000_000, "model": ask.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage}),
        )
        .into_response();
    }
    let include_usage = req.pointer("/stream_options/include_usage") == Some(&json!(true));
    let chunk = |delta: Value, finish: Option<&str>| {
        sse(
            None,
            &json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": ask.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    if ask.think {
        events.push(chunk(json!({"reasoning_content": THINKING}), None));
    }
    if ask.calls.is_empty() {
        events.extend((0..chunks).map(|i| chunk(json!({"content": answer_piece(i)}), None)));
    } else {
        for (i, name) in ask.calls.iter().enumerate() {
            events.push(chunk(json!({"tool_calls": [{"index": i, "id": format!("call_mock_{i}"), "type": "function", "function": {"name": name, "arguments": ""}}]}), None));
            for piece in TOOL_ARG_PIECES {
                events.push(chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}), None));
            }
        }
    }
    events.push(chunk(json!({}), Some(finish)));
    if include_usage {
        events.push(sse(None, &json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": ask.model, "choices": [], "usage": usage})));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    event_stream(&state, &key, events, "text/event-stream")
}
