//! generateContent requests ↔ IR. The model comes from the URL, not the body.

use super::schema;
use crate::formats::codec::{arguments_value, parse, parts_text, DecodeError};
use crate::formats::ir::{Image, Message, Part, Reasoning, Request, ResponseFormat, Role, Tool, ToolChoice};
use crate::formats::openai_chat::request::push_parts;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    #[serde(default)]
    contents: Vec<WireContent>,
    #[serde(alias = "system_instruction")]
    system_instruction: Option<WireContent>,
    #[serde(default)]
    tools: Vec<Value>,
    #[serde(alias = "tool_config")]
    tool_config: Option<Value>,
    #[serde(alias = "generation_config")]
    generation_config: Option<Value>,
}

#[derive(Deserialize)]
struct WireContent {
    role: Option<String>,
    #[serde(default)]
    parts: Vec<Value>,
}

/// Reads a field that may be camelCase or snake_case.
fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

/// Derives stable tool-call ids: Gemini has none (or optional ones). The n-th call gets
/// `call_{n}`, and each functionResponse takes the id of the earliest unanswered call of its name.
struct CallIds {
    next: usize,
    open: Vec<(String, String)>,
}

impl CallIds {
    fn call(&mut self, name: &str, given: Option<&str>) -> String {
        let id = given.map(String::from).unwrap_or_else(|| format!("call_{}", self.next));
        self.next += 1;
        self.open.push((name.to_string(), id.clone()));
        id
    }

    fn response(&mut self, name: &str, given: Option<&str>) -> String {
        if let Some(id) = given {
            self.open.retain(|(_, open)| open != id);
            return id.to_string();
        }
        match self.open.iter().position(|(n, _)| n == name) {
            Some(i) => self.open.remove(i).1,
            None => format!("call_{name}"),
        }
    }
}

fn decode_part(p: &Value, ids: &mut CallIds) -> Option<Part> {
    if let Some(text) = p.get("text").and_then(Value::as_str) {
        if p.get("thought").and_then(Value::as_bool) == Some(true) {
            return Some(Part::Thinking { text: text.to_string(), signature: None });
        }
        return Some(Part::Text(text.to_string()));
    }
    if let Some(data) = field(p, "inlineData", "inline_data") {
        return Some(Part::Image(Image::Base64 {
            media_type: field(data, "mimeType", "mime_type").and_then(Value::as_str).unwrap_or("image/png").to_string(),
            data: data.get("data").and_then(Value::as_str)?.to_string(),
        }));
    }
    if let Some(file) = field(p, "fileData", "file_data") {
        return Some(Part::Image(Image::Url(field(file, "fileUri", "file_uri").and_then(Value::as_str)?.to_string())));
    }
    if let Some(call) = field(p, "functionCall", "function_call") {
        let name = call.get("name").and_then(Value::as_str)?.to_string();
        let id = ids.call(&name, call.get("id").and_then(Value::as_str));
        let arguments = call.get("args").map(Value::to_string).unwrap_or_else(|| "{}".into());
        return Some(Part::ToolCall { id, name, arguments });
    }
    if let Some(resp) = field(p, "functionResponse", "function_response") {
        let name = resp.get("name").and_then(Value::as_str)?.to_string();
        let call_id = ids.response(&name, resp.get("id").and_then(Value::as_str));
        let response = resp.get("response").cloned().unwrap_or(Value::Null);
        let text = match &response {
            Value::Object(m) if m.len() == 1 && m.values().next().is_some_and(Value::is_string) => {
                m.values().next().and_then(Value::as_str).unwrap_or_default().to_string()
            }
            other => other.to_string(),
        };
        let is_error = response.get("error").is_some();
        return Some(Part::ToolResult { call_id, name: Some(name), content: vec![Part::Text(text)], is_error });
    }
    None
}

/// Decodes a request body; `model` is the one named in the URL.
pub fn decode(body: &[u8], model: &str, stream: bool) -> Result<Request, DecodeError> {
    let w: WireRequest = parse(body)?;
    let mut ids = CallIds { next: 0, open: vec![] };
    let system = w
        .system_instruction
        .map(|c| parts_text(&c.parts.iter().filter_map(|p| decode_part(p, &mut ids)).collect::<Vec<_>>()))
        .filter(|t| !t.is_empty())
        .into_iter()
        .collect();
    let mut messages = Vec::new();
    for c in &w.contents {
        let role = match c.role.as_deref().unwrap_or("user") {
            "model" | "assistant" => Role::Assistant,
            _ => Role::User,
        };
        let parts = c.parts.iter().filter_map(|p| decode_part(p, &mut ids)).collect();
        push_parts(&mut messages, role, parts);
    }
    let mut tools = Vec::new();
    for t in &w.tools {
        for f in
            field(t, "functionDeclarations", "function_declarations").and_then(Value::as_array).into_iter().flatten()
        {
            tools.push(Tool {
                name: f.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                description: f.get("description").and_then(Value::as_str).map(String::from),
                parameters: f
                    .get("parameters")
                    .or_else(|| field(f, "parametersJsonSchema", "parameters_json_schema"))
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            });
        }
    }
    let tool_choice =
        w.tool_config.as_ref().and_then(|c| field(c, "functionCallingConfig", "function_calling_config")).and_then(
            |c| {
                let allowed = field(c, "allowedFunctionNames", "allowed_function_names").and_then(Value::as_array);
                match c.get("mode").and_then(Value::as_str)?.to_ascii_uppercase().as_str() {
                    "AUTO" => Some(ToolChoice::Auto),
                    "NONE" => Some(ToolChoice::None),
                    "ANY" => match allowed.map(Vec::as_slice) {
                        Some([one]) => one.as_str().map(|n| ToolChoice::Named(n.to_string())),
                        _ => Some(ToolChoice::Required),
                    },
                    _ => None,
                }
            },
        );
    let g = w.generation_config.unwrap_or(Value::Null);
    let num = |camel: &str, snake: &str| field(&g, camel, snake).and_then(Value::as_f64);
    let reasoning = field(&g, "thinkingConfig", "thinking_config").and_then(|t| {
        let budget = field(t, "thinkingBudget", "thinking_budget").and_then(Value::as_i64);
        match budget {
            Some(0) => None,
            Some(b) if b > 0 => Some(Reasoning { effort: None, budget_tokens: Some(b as u32) }),
            _ => Some(Reasoning::default()),
        }
    });
    let response_format = match field(&g, "responseMimeType", "response_mime_type").and_then(Value::as_str) {
        Some("application/json") => Some(
            match field(&g, "responseJsonSchema", "response_json_schema")
                .or_else(|| field(&g, "responseSchema", "response_schema"))
            {
                Some(schema) => {
                    ResponseFormat::JsonSchema { name: "response".into(), schema: schema.clone(), strict: None }
                }
                None => ResponseFormat::JsonObject,
            },
        ),
        _ => None,
    };
    Ok(Request {
        model: model.to_string(),
        system,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls: None,
        max_tokens: num("maxOutputTokens", "max_output_tokens").map(|n| n as u32),
        temperature: num("temperature", "temperature"),
        top_p: num("topP", "top_p"),
        stop: field(&g, "stopSequences", "stop_sequences")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
            .unwrap_or_default(),
        stream,
        stream_usage: true,
        reasoning,
        response_format,
    })
}

fn encode_part(p: &Part, call_names: &HashMap<&str, &str>) -> Option<Value> {
    Some(match p {
        Part::Text(t) => json!({"text": t}),
        Part::Image(Image::Base64 { media_type, data }) => {
            json!({"inlineData": {"mimeType": media_type, "data": data}})
        }
        Part::Image(Image::Url(url)) => {
            let mime = mime_from_url(url);
            json!({"fileData": {"mimeType": mime, "fileUri": url}})
        }
        // Signatures from another provider cannot be verified by Gemini: reasoning is not resent.
        Part::Thinking { .. } | Part::RedactedThinking { .. } => return None,
        Part::ToolCall { name, arguments, .. } => {
            json!({"functionCall": {"name": name, "args": arguments_value(arguments)}})
        }
        Part::ToolResult { call_id, name, content, is_error } => {
            let name = name.as_deref().or_else(|| call_names.get(call_id.as_str()).copied()).unwrap_or("tool");
            let text = parts_text(content);
            let response = match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) if !is_error => Value::Object(m),
                _ if *is_error => json!({"error": text}),
                _ => json!({"content": text}),
            };
            json!({"functionResponse": {"name": name, "response": response}})
        }
    })
}

fn mime_from_url(url: &str) -> &'static str {
    let lower = url.to_ascii_lowercase();
    if lower.ends_with(".png") {
        "image/png"
    } else if lower.ends_with(".gif") {
        "image/gif"
    } else if lower.ends_with(".webp") {
        "image/webp"
    } else {
        "image/jpeg"
    }
}

pub fn encode(r: &Request) -> Value {
    let call_names: HashMap<&str, &str> = r
        .messages
        .iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| if let Part::ToolCall { id, name, .. } = p { Some((id.as_str(), name.as_str())) } else { None })
        .collect();
    let contents: Vec<Value> = r
        .messages
        .iter()
        .filter_map(|m: &Message| {
            let parts: Vec<Value> = m.parts.iter().filter_map(|p| encode_part(p, &call_names)).collect();
            (!parts.is_empty())
                .then(|| json!({"role": if m.role == Role::User { "user" } else { "model" }, "parts": parts}))
        })
        .collect();
    let mut out = json!({"contents": contents});
    if let Some(system) = r.system_text() {
        out["systemInstruction"] = json!({"parts": [{"text": system}]});
    }
    if !r.tools.is_empty() {
        let decls: Vec<Value> = r
            .tools
            .iter()
            .map(|t| {
                let mut d = json!({"name": t.name, "parameters": schema::clean(&t.parameters)});
                if let Some(desc) = &t.description {
                    d["description"] = json!(desc);
                }
                d
            })
            .collect();
        out["tools"] = json!([{"functionDeclarations": decls}]);
        if let Some(choice) = &r.tool_choice {
            out["toolConfig"] = json!({"functionCallingConfig": match choice {
                ToolChoice::Auto => json!({"mode": "AUTO"}),
                ToolChoice::None => json!({"mode": "NONE"}),
                ToolChoice::Required => json!({"mode": "ANY"}),
                ToolChoice::Named(n) => json!({"mode": "ANY", "allowedFunctionNames": [n]}),
            }});
        }
    }
    let mut g = serde_json::Map::new();
    if let Some(n) = r.max_tokens {
        g.insert("maxOutputTokens".into(), json!(n));
    }
    if let Some(t) = r.temperature {
        g.insert("temperature".into(), json!(t));
    }
    if let Some(t) = r.top_p {
        g.insert("topP".into(), json!(t));
    }
    if !r.stop.is_empty() {
        g.insert("stopSequences".into(), json!(r.stop));
    }
    if let Some(reasoning) = &r.reasoning {
        g.insert("thinkingConfig".into(), json!({"thinkingBudget": reasoning.budget(), "includeThoughts": true}));
    }
    match &r.response_format {
        Some(ResponseFormat::JsonObject) => {
            g.insert("responseMimeType".into(), json!("application/json"));
        }
        Some(ResponseFormat::JsonSchema { schema: s, .. }) => {
            g.insert("responseMimeType".into(), json!("application/json"));
            g.insert("responseSchema".into(), schema::clean(s));
        }
        None => {}
    }
    if !g.is_empty() {
        out["generationConfig"] = Value::Object(g);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_are_stable_and_results_find_their_call() {
        let body = json!({
            "contents": [
                {"role": "user", "parts": [{"text": "weather?"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}, {"functionCall": {"name": "get_time", "args": {}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "get_time", "response": {"content": "noon"}}}, {"functionResponse": {"name": "get_weather", "response": {"t": 20}}}]}
            ],
            "systemInstruction": {"parts": [{"text": "be kind"}]},
            "generationConfig": {"maxOutputTokens": 50, "thinkingConfig": {"thinkingBudget": 3000}}
        });
        let r = decode(body.to_string().as_bytes(), "g", false).unwrap();
        let ids: Vec<String> = r
            .messages
            .iter()
            .flat_map(|m| &m.parts)
            .filter_map(|p| match p {
                Part::ToolCall { id, .. } => Some(id.clone()),
                Part::ToolResult { call_id, .. } => Some(call_id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, ["call_0", "call_1", "call_1", "call_0"]);
        assert_eq!(r.system, ["be kind"]);
        assert_eq!(r.reasoning.unwrap().budget(), 3000);
        let encoded = encode(&r);
        assert_eq!(encoded["contents"][2]["parts"][0]["functionResponse"]["name"], "get_time");
        assert_eq!(encoded["contents"][1]["parts"][0]["functionCall"]["args"], json!({"city": "Paris"}));
    }
}
