//! The mock's OpenAI Responses route.

use super::*;

fn error_body(code: u16, message: &str) -> Value {
    json!({"error": {"message": message, "type": "mock_error", "param": null, "code": format!("mock_{code}")}})
}

pub async fn responses(
    State(state): State<MockState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = match intake(&state, "/v1/responses", &headers, q.as_deref(), &body, error_body).await {
        Ok(key) => key,
        Err(response) => return response,
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else { return bad_request(error_body, "mock: bad JSON") };
    let tools: Vec<String> =
        req["tools"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str().map(String::from)).collect();
    let last_text = match &req["input"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.last().and_then(|item| {
            if item["type"] == "function_call_output" {
                return None;
            }
            match &item["content"] {
                Value::String(s) => Some(s.clone()),
                Value::Array(parts) => {
                    Some(parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" "))
                }
                _ => None,
            }
        }),
        _ => None,
    };
    let ask = Ask::new(
        req["model"].as_str().unwrap_or("unknown").into(),
        req["stream"] == true,
        tools,
        last_text,
        req.pointer("/reasoning/effort").is_some(),
        body.len(),
    );
    let chunks = state.config.chunks;
    let usage = json!({"input_tokens": ask.prompt_tokens, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": ask.completion_tokens(chunks),
        "output_tokens_details": {"reasoning_tokens": if ask.think { 2 } else { 0 }}, "total_tokens": ask.prompt_tokens + ask.completion_tokens(chunks)});
    let mut output = Vec::new();
    if ask.think {
        output.push(
            json!({"type": "reasoning", "id": "rs_mock", "summary": [{"type": "summary_text", "text": THINKING}]}),
        );
    }
    if ask.calls.is_empty() {
        output.push(json!({"type": "message", "id": "msg_mock", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": full_answer(chunks), "annotations": []}]}));
    }
    for (i, name) in ask.calls.iter().enumerate() {
        output.push(json!({"type": "function_call", "id": format!("fc_mock_{i}"), "call_id": format!("call_mock_{i}"), "name": name, "arguments": TOOL_ARGS, "status": "completed"}));
    }
    let response = |status: &str, output: Vec<Value>, usage: Value| json!({"id": "resp_mock", "object": "response", "created_at": 1_700_000_000, "status": status, "model": ask.model, "output": output, "usage": usage});
    if !ask.stream {
        return axum::Json(response("completed", output, usage)).into_response();
    }
    let mut seq = 0;
    let mut ev = |events: &mut Vec<Bytes>, kind: &str, mut data: Value| {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(seq);
        seq += 1;
        events.push(sse(Some(kind), &data));
    };
    let mut events = Vec::new();
    ev(&mut events, "response.created", json!({"response": response("in_progress", vec![], Value::Null)}));
    for (index, item) in output.iter().enumerate() {
        let mut added = item.clone();
        match item["type"].as_str().unwrap_or_default() {
            "reasoning" => {
                added["summary"] = json!([]);
                ev(&mut events, "response.output_item.added", json!({"output_index": index, "item": added}));
                ev(
                    &mut events,
                    "response.reasoning_summary_text.delta",
                    json!({"item_id": "rs_mock", "output_index": index, "summary_index": 0, "delta": THINKING}),
                );
            }
            "message" => {
                added["content"] = json!([]);
                ev(&mut events, "response.output_item.added", json!({"output_index": index, "item": added}));
                ev(
                    &mut events,
                    "response.content_part.added",
                    json!({"item_id": "msg_mock", "output_index": index, "content_index": 0, "part": {"type": "output_text", "text": ""}}),
                );
                for i in 0..chunks {
                    ev(
                        &mut events,
                        "response.output_text.delta",
                        json!({"item_id": "msg_mock", "output_index": index, "content_index": 0, "delta": answer_piece(i)}),
                    );
                }
                ev(
                    &mut events,
                    "response.output_text.done",
                    json!({"item_id": "msg_mock", "output_index": index, "content_index": 0, "text": full_answer(chunks)}),
                );
            }
            _ => {
                added["arguments"] = json!("");
                let item_id = item["id"].clone();
                ev(&mut events, "response.output_item.added", json!({"output_index": index, "item": added}));
                for piece in TOOL_ARG_PIECES {
                    ev(
                        &mut events,
                        "response.function_call_arguments.delta",
                        json!({"item_id": item_id, "output_index": index, "delta": piece}),
                    );
                }
                ev(
                    &mut events,
                    "response.function_call_arguments.done",
                    json!({"item_id": item_id, "output_index": index, "arguments": TOOL_ARGS}),
                );
            }
        }
        ev(&mut events, "response.output_item.done", json!({"output_index": index, "item": item}));
    }
    ev(&mut events, "response.completed", json!({"response": response("completed", output.clone(), usage)}));
    event_stream(&state, &key, events, "text/event-stream")
}
