//! The mock's Kiro route (`POST /generateAssistantResponse`): the answer as AWS event-stream
//! frames, `assistantResponseEvent`s carrying `w0`, ` w1`, … (after a `<thinking>` block
//! when the prompt turns reasoning on), or, when the current message
//! defines tools and says "use the tool", `toolUseEvent`s calling the first tool with
//! `{"city":"Paris"}` in three pieces; then a `meteringEvent` and a `metadataEvent` with the
//! token counts (as the mock's other routes count them). A conversation that breaks one of
//! the rules Kiro holds requests to (`malformed`) gets Kiro's 400, "Improperly formed request."

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
    if let Some(rule) = malformed(&req) {
        let refusal = json!({"message": "Improperly formed request.", "reason": null, "mock_rule": rule});
        return (StatusCode::BAD_REQUEST, axum::Json(refusal)).into_response();
    }
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
        if String::from_utf8_lossy(&body).contains("<thinking_mode>enabled</thinking_mode>") {
            // Reasoning asked for: Kiro writes it first, in a block whose tags arrive cut.
            for piece in ["<thin", "king>Weighing it", " up.</thi", "nking>\n\n"] {
                frames.push(frame("assistantResponseEvent", json!({"content": piece})));
            }
        }
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

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array().into_iter().flatten().filter_map(|v| v[key].as_str().map(String::from)).collect()
}

/// The rule of Kiro's that `req` breaks, if any (as the open-source Kiro clients found them):
/// turns alternate from a user turn to an assistant turn before the current message; no turn is
/// empty; each tool result answers a call of the turn before and each call is answered in the
/// next turn; every tool the history calls is declared, with a description of 1 to 10 240
/// characters and an object schema; images are png, jpeg, gif or webp bytes.
fn malformed(req: &Value) -> Option<String> {
    let state = &req["conversationState"];
    let current = &state["currentMessage"]["userInputMessage"];
    let mut turns: Vec<(bool, &Value)> = Vec::new();
    for entry in state["history"].as_array().into_iter().flatten() {
        match (entry.get("userInputMessage"), entry.get("assistantResponseMessage")) {
            (Some(user), None) => turns.push((true, user)),
            (None, Some(assistant)) => turns.push((false, assistant)),
            _ => return Some("a history entry is neither one user nor one assistant message".into()),
        }
    }
    turns.push((true, current));
    for (i, (user, turn)) in turns.iter().enumerate() {
        if *user != (i % 2 == 0) {
            return Some(format!("turn {i} breaks the user/assistant alternation"));
        }
        if turn["content"].as_str().is_none_or(str::is_empty) {
            return Some(format!("turn {i} is empty"));
        }
        let results = ids(&turn["userInputMessageContext"]["toolResults"], "toolUseId");
        let asked = if i > 0 { ids(&turns[i - 1].1["toolUses"], "toolUseId") } else { vec![] };
        if let Some(stray) = results.iter().find(|r| !asked.contains(r)) {
            return Some(format!("turn {i} answers {stray}, which the turn before did not call"));
        }
        if !*user {
            let answered = ids(&turns[i + 1].1["userInputMessageContext"]["toolResults"], "toolUseId");
            if let Some(open) = ids(&turn["toolUses"], "toolUseId").iter().find(|c| !answered.contains(c)) {
                return Some(format!("the call {open} of turn {i} is not answered"));
            }
        }
        for image in turn["images"].as_array().into_iter().flatten() {
            let known = ["png", "jpeg", "gif", "webp"].contains(&image["format"].as_str().unwrap_or_default());
            if !known || !image["source"]["bytes"].is_string() {
                return Some(format!("turn {i} has an image Kiro does not take: {image}"));
            }
        }
    }
    let tools = current["userInputMessageContext"]["tools"].as_array().cloned().unwrap_or_default();
    let declared: Vec<&str> = tools.iter().filter_map(|t| t["toolSpecification"]["name"].as_str()).collect();
    for (_, turn) in &turns {
        if let Some(name) = ids(&turn["toolUses"], "name").into_iter().find(|n| !declared.contains(&n.as_str())) {
            return Some(format!("the history calls {name}, which is not declared"));
        }
    }
    for tool in &tools {
        let spec = &tool["toolSpecification"];
        let length = spec["description"].as_str().map_or(0, |d| d.chars().count());
        if !(1..=10_240).contains(&length) {
            return Some(format!("the tool {} has a description of {length} characters", spec["name"]));
        }
        if spec["inputSchema"]["json"]["type"] != "object" {
            return Some(format!("the tool {} has no object schema", spec["name"]));
        }
    }
    None
}
