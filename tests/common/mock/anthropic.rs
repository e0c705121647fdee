//! The mock's Anthropic Messages routes.

use super::*;

fn error_body(code: u16, message: &str) -> Value {
    let kind = match code {
        400 => "invalid_request_error",
        401 => "authentication_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

fn parse(body: &Bytes) -> Option<(Value, Ask)> {
    let req: Value = serde_json::from_slice(body).ok()?;
    let tools: Vec<String> =
        req["tools"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str().map(String::from)).collect();
    let last = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user" || m["role"] == "assistant"));
    let last_text = last.filter(|m| m["role"] == "user").and_then(|m| match &m["content"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) if blocks.iter().any(|b| b["type"] == "tool_result") => None,
        Value::Array(blocks) => Some(blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join(" ")),
        _ => None,
    });
    let think = req["thinking"]["type"] == "enabled";
    let ask = Ask::new(
        req["model"].as_str().unwrap_or("unknown").into(),
        req["stream"] == true,
        tools,
        last_text,
        think,
        body.len(),
    );
    Some((req, ask))
}

pub async fn messages(
    State(state): State<MockState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = match intake(&state, "/v1/messages", &headers, q.as_deref(), &body, error_body).await {
        Ok(key) => key,
        Err(response) => return response,
    };
    let Some((_, ask)) = parse(&body) else { return bad_request(error_body, "mock: bad JSON") };
    if headers.get("anthropic-version").is_none() {
        return bad_request(error_body, "mock: anthropic-version header is required");
    }
    let chunks = state.config.chunks;
    let stop = if ask.calls.is_empty() { "end_turn" } else { "tool_use" };
    let usage = json!({"input_tokens": ask.prompt_tokens, "output_tokens": ask.completion_tokens(chunks), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0});
    if !ask.stream {
        let mut content = Vec::new();
        if ask.think {
            content.push(json!({"type": "thinking", "thinking": THINKING, "signature": SIGNATURE}));
        }
        if ask.calls.is_empty() {
            content.push(json!({"type": "text", "text": full_answer(chunks)}));
        }
        for (i, name) in ask.calls.iter().enumerate() {
            content.push(
                json!({"type": "tool_use", "id": format!("toolu_mock_{i}"), "name": name, "input": {"city": "Paris"}}),
            );
        }
        return axum::Json(
            json!({"id": "msg_mock", "type": "message", "role": "assistant", "model": ask.model, "content": content,
            "stop_reason": stop, "stop_sequence": null, "usage": usage}),
        )
        .into_response();
    }
    let mut events = vec![sse(
        Some("message_start"),
        &json!({"type": "message_start", "message": {"id": "msg_mock", "type": "message", "role": "assistant",
        "model": ask.model, "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": ask.prompt_tokens, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
    )];
    let mut index = 0;
    let block = |events: &mut Vec<Bytes>, index: usize, start: Value, deltas: Vec<Value>| {
        events.push(sse(
            Some("content_block_start"),
            &json!({"type": "content_block_start", "index": index, "content_block": start}),
        ));
        for d in deltas {
            events.push(sse(
                Some("content_block_delta"),
                &json!({"type": "content_block_delta", "index": index, "delta": d}),
            ));
        }
        events.push(sse(Some("content_block_stop"), &json!({"type": "content_block_stop", "index": index})));
    };
    if ask.think {
        block(
            &mut events,
            index,
            json!({"type": "thinking", "thinking": "", "signature": ""}),
            vec![
                json!({"type": "thinking_delta", "thinking": THINKING}),
                json!({"type": "signature_delta", "signature": SIGNATURE}),
            ],
        );
        index += 1;
    }
    if ask.calls.is_empty() {
        block(
            &mut events,
            index,
            json!({"type": "text", "text": ""}),
            (0..chunks).map(|i| json!({"type": "text_delta", "text": answer_piece(i)})).collect(),
        );
    }
    for (i, name) in ask.calls.iter().enumerate() {
        block(
            &mut events,
            index + i,
            json!({"type": "tool_use", "id": format!("toolu_mock_{i}"), "name": name, "input": {}}),
            TOOL_ARG_PIECES.iter().map(|p| json!({"type": "input_json_delta", "partial_json": p})).collect(),
        );
    }
    events.push(sse(Some("message_delta"), &json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": ask.completion_tokens(chunks)}})));
    events.push(sse(Some("message_stop"), &json!({"type": "message_stop"})));
    event_stream(&state, &key, events, "text/event-stream")
}

/// The mock's exact count: request bytes / 4, so tests can tell it from the gateway's own count.
pub async fn count_tokens(
    State(state): State<MockState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = intake(&state, "/v1/messages/count_tokens", &headers, q.as_deref(), &body, error_body).await
    {
        return response;
    }
    axum::Json(json!({"input_tokens": 1000 + body.len() / 4})).into_response()
}
