//! Tool schemas for Gemini: function parameters accept only an OpenAPI 3.0 subset of JSON
//! Schema. Everything else (`$schema`, `additionalProperties`, `$ref`, `const`, ...) is
//! removed; `type: [T, "null"]` becomes `type: T, nullable: true`; `const` becomes a one-value
//! enum.

use serde_json::{Map, Value};

const ALLOWED: &[&str] = &[
    "type",
    "format",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
    "title",
];

pub fn clean(schema: &Value) -> Value {
    let Value::Object(map) = schema else { return schema.clone() };
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "properties" => {
                if let Value::Object(props) = value {
                    out.insert(key.clone(), Value::Object(props.iter().map(|(k, v)| (k.clone(), clean(v))).collect()));
                }
            }
            "items" => {
                out.insert(key.clone(), clean(value));
            }
            "anyOf" | "oneOf" => {
                if let Value::Array(options) = value {
                    let options: Vec<Value> =
                        options.iter().filter(|o| o.get("type") != Some(&Value::from("null"))).map(clean).collect();
                    if options.len() < value.as_array().map_or(0, Vec::len) {
                        out.insert("nullable".into(), Value::Bool(true));
                    }
                    if options.len() == 1 {
                        if let Value::Object(only) = &options[0] {
                            for (k, v) in only {
                                out.entry(k.clone()).or_insert(v.clone());
                            }
                        }
                    } else {
                        out.insert("anyOf".into(), Value::Array(options));
                    }
                }
            }
            "type" => match value {
                Value::Array(types) => {
                    let non_null: Vec<&Value> = types.iter().filter(|t| t.as_str() != Some("null")).collect();
                    if non_null.len() < types.len() {
                        out.insert("nullable".into(), Value::Bool(true));
                    }
                    if let Some(first) = non_null.first() {
                        out.insert("type".into(), (*first).clone());
                    }
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "const" => {
                out.insert("enum".into(), Value::Array(vec![value.clone()]));
            }
            "enum" => {
                // Gemini takes string enums only.
                let values: Vec<Value> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| match v {
                        Value::String(_) => v.clone(),
                        other => Value::String(other.to_string().trim_matches('"').to_string()),
                    })
                    .collect();
                out.insert("enum".into(), Value::Array(values));
            }
            k if ALLOWED.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    if let Some(Value::Array(required)) = out.get("required").cloned() {
        // `required` may only name properties that exist.
        let props = out.get("properties").and_then(Value::as_object);
        let kept: Vec<Value> = required
            .into_iter()
            .filter(|r| props.is_some_and(|p| r.as_str().is_some_and(|n| p.contains_key(n))))
            .collect();
        out.insert("required".into(), Value::Array(kept));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rejected_keywords_are_removed_and_nullables_rewritten() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false,
            "properties": {
                "path": {"type": "string", "description": "file", "examples": ["a"]},
                "mode": {"type": ["string", "null"], "enum": ["r", "w"]},
                "n": {"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}]},
                "kind": {"const": "x"},
                "tags": {"type": "array", "items": {"type": "string", "$ref": "#/x"}}
            },
            "required": ["path", "ghost"]
        });
        let clean = clean(&schema);
        assert_eq!(
            clean,
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "file"},
                    "mode": {"type": "string", "nullable": true, "enum": ["r", "w"]},
                    "n": {"type": "integer", "nullable": true},
                    "kind": {"enum": ["x"]},
                    "tags": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["path"]
            })
        );
    }
}
