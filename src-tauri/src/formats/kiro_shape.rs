//! The conversation and tools Kiro takes, made from any IR request. Kiro answers "Improperly
//! formed request" to conversations the other APIs accept; its rules, as the open-source Kiro
//! clients found them: turns alternate, a user turn first; every tool call in the history is
//! answered in the next turn and every tool result answers a call of the turn before; every tool
//! the history calls is declared; a tool has a non-empty description of at most 10 000
//! characters and an object schema; images are inline bytes of png, jpeg, gif or webp.

use super::ir::{Image, Message, Part, Role, Tool};
use serde_json::{json, Value};
use std::collections::HashSet;

/// The longest tool description Kiro takes, in characters.
pub const MAX_TOOL_DESCRIPTION: usize = 10_000;

/// The joined text parts of `parts`.
pub fn texts(parts: &[Part]) -> String {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The tool call ids `pick` finds in the parts of `m` (its calls, or the calls its results answer).
fn ids(m: &Message, pick: impl Fn(&Part) -> Option<&String>) -> HashSet<String> {
    m.parts.iter().filter_map(pick).cloned().collect()
}

fn call_ids(m: &Message) -> HashSet<String> {
    ids(m, |p| match p {
        Part::ToolCall { id, .. } => Some(id),
        _ => None,
    })
}

fn result_ids(m: &Message) -> HashSet<String> {
    ids(m, |p| match p {
        Part::ToolResult { call_id, .. } => Some(call_id),
        _ => None,
    })
}

/// `messages` as Kiro takes them: neighbours of one role merged, a user turn first, a tool
/// result that answers no call of the turn before kept as text, a call left unanswered left out.
pub fn conversation(messages: &[Message]) -> Vec<Message> {
    let mut turns: Vec<Message> = Vec::with_capacity(messages.len() + 1);
    for m in messages {
        match turns.last_mut() {
            Some(last) if last.role == m.role => last.parts.extend(m.parts.iter().cloned()),
            _ => turns.push(m.clone()),
        }
    }
    if turns.first().is_some_and(|m| m.role == Role::Assistant) {
        turns.insert(0, Message { role: Role::User, parts: vec![Part::Text("(empty)".into())] });
    }
    for i in 0..turns.len() {
        if turns[i].role != Role::User {
            continue;
        }
        let asked = if i > 0 { call_ids(&turns[i - 1]) } else { HashSet::new() };
        let parts = std::mem::take(&mut turns[i].parts);
        turns[i].parts = parts
            .into_iter()
            .map(|p| match p {
                Part::ToolResult { call_id, content, .. } if !asked.contains(&call_id) => {
                    Part::Text(format!("[tool result for {call_id}]\n{}", texts(&content)))
                }
                other => other,
            })
            .collect();
    }
    for i in 0..turns.len() {
        if turns[i].role != Role::Assistant {
            continue;
        }
        let answered = turns.get(i + 1).map(result_ids).unwrap_or_default();
        turns[i].parts.retain(|p| !matches!(p, Part::ToolCall { id, .. } if !answered.contains(id)));
    }
    turns
}

/// The `toolSpecification`s for Kiro: the declared tools with their descriptions fitted and
/// schemas cleaned, then a stand-in for each tool `history` calls that is not declared (a
/// client may drop a tool it used before).
pub fn tools(declared: &[Tool], history: &[Message]) -> Vec<Value> {
    let mut names: HashSet<&str> = declared.iter().map(|t| t.name.as_str()).collect();
    let mut out: Vec<Value> = declared
        .iter()
        .filter(|t| !t.name.is_empty())
        .map(|t| specification(&t.name, &description(t), schema(&t.parameters)))
        .collect();
    for m in history {
        for p in &m.parts {
            if let Part::ToolCall { name, .. } = p {
                if names.insert(name.as_str()) {
                    let stand_in = "A tool used earlier in this conversation.";
                    out.push(specification(name, stand_in, json!({"type": "object", "properties": {}})));
                }
            }
        }
    }
    out
}

fn specification(name: &str, description: &str, schema: Value) -> Value {
    json!({"toolSpecification": {"name": name, "description": description, "inputSchema": {"json": schema}}})
}

fn description(t: &Tool) -> String {
    let text = t.description.as_deref().map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return format!("Tool: {}", t.name);
    }
    if text.chars().count() <= MAX_TOOL_DESCRIPTION {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_TOOL_DESCRIPTION - 1).collect();
    cut.push('…');
    cut
}

/// A JSON schema Kiro takes: an object at the root, no `$schema`, `required` a non-empty list
/// of names or absent, `properties` an object (all the way down).
fn schema(parameters: &Value) -> Value {
    let mut root = match parameters {
        Value::Object(map) => Value::Object(map.clone()),
        _ => json!({}),
    };
    if let Value::Object(map) = &mut root {
        map.insert("type".into(), json!("object"));
        if !map.get("properties").is_some_and(Value::is_object) {
            map.insert("properties".into(), json!({}));
        }
    }
    clean(&mut root);
    root
}

fn clean(node: &mut Value) {
    let Value::Object(map) = node else { return };
    map.remove("$schema");
    let required: Option<Vec<Value>> = map.get("required").map(|r| {
        r.as_array().map(|names| names.iter().filter(|n| n.is_string()).cloned().collect()).unwrap_or_default()
    });
    match required {
        Some(names) if !names.is_empty() => {
            map.insert("required".into(), Value::Array(names));
        }
        Some(_) => {
            map.remove("required");
        }
        None => {}
    }
    if map.get("properties").is_some_and(|p| !p.is_object()) {
        map.insert("properties".into(), json!({}));
    }
    for key in ["properties", "$defs", "definitions"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            children.values_mut().for_each(clean);
        }
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        if let Some(Value::Array(choices)) = map.get_mut(key) {
            choices.iter_mut().for_each(clean);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            clean(child);
        }
    }
}

/// The images of a user turn as Kiro takes them (inline bytes; other kinds are left out).
pub fn images(parts: &[Part]) -> Vec<Value> {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Image(Image::Base64 { media_type, data }) => {
                let format = match media_type.trim_start_matches("image/") {
                    "png" => "png",
                    "jpeg" | "jpg" => "jpeg",
                    "gif" => "gif",
                    "webp" => "webp",
                    _ => return None,
                };
                Some(json!({"format": format, "source": {"bytes": data}}))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(role: Role, t: &str) -> Message {
        Message { role, parts: vec![Part::Text(t.into())] }
    }

    fn call(id: &str, name: &str) -> Part {
        Part::ToolCall { id: id.into(), name: name.into(), arguments: "{}".into() }
    }

    fn result(id: &str, t: &str) -> Part {
        Part::ToolResult { call_id: id.into(), name: None, content: vec![Part::Text(t.into())], is_error: false }
    }

    #[test]
    fn turns_alternate_from_a_user_turn_and_calls_pair_with_results() {
        let messages = vec![
            text(Role::Assistant, "hello"),
            text(Role::User, "a"),
            text(Role::User, "b"),
            Message { role: Role::Assistant, parts: vec![call("t1", "read"), call("t2", "read")] },
            Message { role: Role::User, parts: vec![result("t1", "one")] },
            Message { role: Role::User, parts: vec![result("t9", "stray"), Part::Text("go on".into())] },
        ];
        let turns = conversation(&messages);
        let roles: Vec<Role> = turns.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::User, Role::Assistant, Role::User, Role::Assistant, Role::User]);
        assert_eq!(turns[0].parts, vec![Part::Text("(empty)".into())]);
        assert_eq!(texts(&turns[2].parts), "a\nb");
        assert_eq!(turns[3].parts, vec![call("t1", "read")], "the unanswered call is left out");
        assert_eq!(turns[4].parts[0], result("t1", "one"));
        assert_eq!(turns[4].parts[1], Part::Text("[tool result for t9]\nstray".into()));
    }

    #[test]
    fn tools_get_descriptions_schemas_and_stand_ins() {
        let declared = vec![
            Tool { name: "long".into(), description: Some("x".repeat(12_000)), parameters: Value::Null },
            Tool {
                name: "bare".into(),
                description: None,
                parameters: json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                    "required": [], "properties": {"p": {"type": "object", "required": null, "properties": null}}}),
            },
        ];
        let history = vec![Message { role: Role::Assistant, parts: vec![call("t1", "gone"), call("t2", "bare")] }];
        let specs = tools(&declared, &history);
        let spec = |i: usize| &specs[i]["toolSpecification"];
        assert_eq!(spec(0)["description"].as_str().unwrap().chars().count(), MAX_TOOL_DESCRIPTION);
        assert_eq!(spec(0)["inputSchema"]["json"], json!({"type": "object", "properties": {}}));
        assert_eq!(spec(1)["description"], "Tool: bare");
        assert_eq!(
            spec(1)["inputSchema"]["json"],
            json!({"type": "object", "properties": {"p": {"type": "object", "properties": {}}}})
        );
        assert_eq!((specs.len(), spec(2)["name"].as_str()), (3, Some("gone")), "one stand-in, for the undeclared tool");
    }

    #[test]
    fn images_are_inline_bytes_of_known_formats() {
        let parts = vec![
            Part::Image(Image::Base64 { media_type: "image/jpg".into(), data: "AAA".into() }),
            Part::Image(Image::Base64 { media_type: "image/bmp".into(), data: "BBB".into() }),
            Part::Image(Image::Url("https://example.com/a.png".into())),
        ];
        assert_eq!(images(&parts), vec![json!({"format": "jpeg", "source": {"bytes": "AAA"}})]);
    }
}
