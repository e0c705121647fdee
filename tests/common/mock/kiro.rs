//! The mock's Kiro route (`POST /generateAssistantResponse`): the answer as AWS event-stream
//! frames, `assistantResponseEvent`s carrying `w0`, ` w1`, …, or, when the current message
//! defines tools and says "use the tool", `toolUseEvent`s calling the first tool with
//! `{"city":"Paris"}` in three pieces; then a `meteringEvent` and a `metadataEvent` with the
//! token counts (as the mock's other routes count them).

use super::*;
use switchyard::formats::eventstream::encode;

fn frame(event_type: &str, payload: Value) -> Bytes {
    Bytes::from(encode(
        &[(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")],
        payload.to_string().as_bytes(),
    ))
}

pub async fn generate(State(state): State<MockState>, headers: HeaderMap, body: Bytes) -> Response {
    let error_body = |code: u16, message: &str| json!({"message": message, "__type": format!("MockError{code}")});
    let key = match intake(&state, "/generateAssistantResponse", &headers, None, &body, error_body).await {
        Ok(key) => key,
        Err(response) => return response,
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else { return bad_request(error_body, "mock: bad JSON") };
    let current = &req["conversationState"]["currentMessage"]["userInputMessage"];
    let tools: Vec<String> = current["userInputMessageContext"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["toolSpecification"]["name"].as_str().map(String::from))
        .collect();
    let ask = Ask::new(
        current["modelId"].as_str().unwrap_or("unknown").into(),
        true,
        tools,
        current["content"].as_str().map(String::from),
        false,
        body.len(),
    );
    let mut frames = Vec::new();
    if let Some(name) = ask.calls.first() {
        for (i, piece) in TOOL_ARG_PIECES.iter().enumerate() {
            let mut event = json!({"toolUseId": "tooluse_mock1", "name": name, "input": piece});
            if i == TOOL_ARG_PIECES.len() - 1 {
                event["stop"] = json!(true);
            }
            frames.push(frame("toolUseEvent", event));
        }
    } else {
        for i in 0..state.config.chunks {
            frames.push(frame("assistantResponseEvent", json!({"content": answer_piece(i)})));
        }
    }
    frames.push(frame("meteringEvent", json!({"unit": "credit", "unitPlural": "credits", "usage": 0.05})));
    let output = ask.completion_tokens(state.config.chunks);
    frames.push(frame(
        "metadataEvent",
        json!({"tokenUsage": {"uncachedInputTokens": ask.prompt_tokens, "outputTokens": output,
            "totalTokens": ask.prompt_tokens + output, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 0}}),
    ));
    let mut response = event_stream(&state, &key, frames, "application/vnd.amazon.eventstream");
    response.headers_mut().remove("cache-control");
    response
}
