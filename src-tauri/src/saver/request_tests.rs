//! The saver on request bodies of each inbound API: only tool results change, error results
//! and small ones never do, and a body comes out the same every time.

use super::*;
use serde_json::{json, Value};

const LOG: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/saver/cargo-build.txt"));
const LISTING: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/saver/find.txt"));

fn saved(format: Format, body: &Value) -> (Value, SavedBody) {
    let bytes = serde_json::to_vec(body).unwrap();
    let saved = save(format, &bytes).expect("a long tool result is compressed");
    (serde_json::from_slice(&saved.body).expect("the body stays JSON"), saved)
}

/// Every token the body saved: those known at once and those counted afterwards.
fn total(saved: SavedBody) -> u64 {
    saved.tokens_saved + saved.uncounted.count()
}

/// `after` is `before` with only the string at `pointer` changed, to a shorter one.
fn only_changed(before: &Value, after: &Value, pointer: &str) {
    let (old, new) = (before.pointer(pointer).unwrap(), after.pointer(pointer).unwrap());
    assert!(new.as_str().unwrap().len() < old.as_str().unwrap().len(), "{pointer} shrank");
    let mut restored = after.clone();
    *restored.pointer_mut(pointer).unwrap() = old.clone();
    assert_eq!(&restored, before, "nothing but {pointer} changed");
}

#[test]
fn openai_tool_messages_are_compressed() {
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": LOG},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "sh", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": LOG},
        {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": LISTING}]},
    ]});
    let (after, saved) = saved(Format::Openai, &body);
    assert_eq!(saved.results, 2);
    let tokens = total(saved);
    assert!(tokens > 1000, "{tokens} tokens saved");
    assert_eq!(after["messages"][0], body["messages"][0], "a user's own text is not a tool result");
    let mut once = after.clone();
    *once.pointer_mut("/messages/3/content/0/text").unwrap() = body["messages"][3]["content"][0]["text"].clone();
    only_changed(&body, &once, "/messages/2/content");
}

#[test]
fn anthropic_error_results_stay_whole() {
    let body = json!({"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": LOG},
            {"type": "tool_result", "tool_use_id": "t2", "content": LOG, "is_error": true},
        ]},
    ]});
    let (after, saved) = saved(Format::Anthropic, &body);
    assert_eq!(saved.results, 1);
    only_changed(&body, &after, "/messages/0/content/0/content");
}

#[test]
fn responses_outputs_are_compressed_unless_the_command_failed() {
    let failed = format!("Exit code: 101\nWall time: 3 seconds\nOutput:\n{LOG}");
    let body = json!({"model": "m", "input": [
        {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": LISTING},
        {"type": "function_call_output", "call_id": "c2", "output": failed},
    ]});
    let (after, saved) = saved(Format::Responses, &body);
    assert_eq!(saved.results, 1);
    only_changed(&body, &after, "/input/1/output");
}

#[test]
fn gemini_function_responses_are_compressed_unless_errors() {
    let body = json!({"contents": [
        {"role": "user", "parts": [
            {"functionResponse": {"name": "run", "response": {"output": LOG}}},
            {"functionResponse": {"name": "run", "response": {"error": "failed", "output": LOG}}},
        ]},
    ]});
    let (after, saved) = saved(Format::Gemini, &body);
    assert_eq!(saved.results, 1);
    only_changed(&body, &after, "/contents/0/parts/0/functionResponse/response/output");
}

#[test]
fn the_rest_of_the_body_stays_byte_for_byte() {
    let body = format!(
        "{{ \"model\" : \"m\",\n  \"messages\": [{{\"role\":\"tool\",\"tool_call_id\":\"c\",\"content\":{}}}], \"temperature\": 0.10 }}",
        serde_json::to_string(LOG).unwrap()
    );
    let saved = save(Format::Openai, body.as_bytes()).unwrap();
    let out = String::from_utf8(saved.body.clone()).unwrap();
    let first_body = saved.body.clone();
    let tokens = total(saved);
    let at = body.find("\"content\":").unwrap() + "\"content\":".len();
    assert_eq!(out[..at], body[..at], "bytes before the result");
    assert!(out.ends_with("}], \"temperature\": 0.10 }"), "bytes after the result");
    let again = save(Format::Openai, body.as_bytes()).unwrap();
    assert_eq!(again.body, first_body, "deterministic");
    assert!(again.uncounted.is_empty(), "counted once, then known");
    assert_eq!(again.tokens_saved, tokens, "the cached result counts the same");
}

#[test]
fn small_results_and_other_bodies_pass() {
    let small = json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "c", "content": "ok"}]});
    assert!(save(Format::Openai, &serde_json::to_vec(&small).unwrap()).is_none());
    let no_tools = json!({"model": "m", "messages": [{"role": "user", "content": LOG}]});
    assert!(save(Format::Openai, &serde_json::to_vec(&no_tools).unwrap()).is_none());
    assert!(save(Format::Anthropic, b"not json at all, but long enough tool_result ".repeat(40).as_slice()).is_none());
    let wrong_shape = json!({"model": "m", "messages": {"role": "tool", "content": LOG}});
    assert!(
        save(Format::Openai, &serde_json::to_vec(&wrong_shape).unwrap()).is_none(),
        "left for the decoder to refuse"
    );
}
