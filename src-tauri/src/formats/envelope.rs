//! The same-format fast path, for every format with a top-level `model` (OpenAI Chat,
//! Anthropic, Responses). `Envelope` reads only what routing needs from a request (the model
//! and whether it streams) and rewrites the model name, leaving every other top-level value
//! byte-for-byte as the client sent it: pass-through never re-serialises messages, tools,
//! thinking signatures or anything a provider cache keys on.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the request body must be a JSON object")]
    NotAnObject,
    #[error("missing 'model': name the model as PROVIDER/MODEL (GET /v1/models lists them)")]
    MissingModel,
    #[error("'{0}' must be {1}")]
    WrongType(&'static str, &'static str),
}

impl EnvelopeError {
    /// The request field the error is about, for the error's `param`.
    pub fn param(&self) -> Option<&'static str> {
        match self {
            Self::MissingModel => Some("model"),
            Self::WrongType(field, _) => Some(field),
            _ => None,
        }
    }
}

/// The top level of a request body: keys with their raw, unparsed values, in order.
pub struct Envelope<'a> {
    fields: Vec<(String, &'a RawValue)>,
    model_index: usize,
    model: String,
    stream: bool,
}

impl<'a> Envelope<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, EnvelopeError> {
        let TopLevel(fields) = serde_json::from_slice(body).map_err(|e| {
            if e.classify() == serde_json::error::Category::Data {
                EnvelopeError::NotAnObject
            } else {
                EnvelopeError::InvalidJson(e.to_string())
            }
        })?;
        let model_index = fields.iter().position(|(k, _)| k == "model").ok_or(EnvelopeError::MissingModel)?;
        let model: String = serde_json::from_str(fields[model_index].1.get())
            .map_err(|_| EnvelopeError::WrongType("model", "a string such as \"openai/gpt-5\""))?;
        if model.trim().is_empty() {
            return Err(EnvelopeError::MissingModel);
        }
        let stream = match fields.iter().find(|(k, _)| k == "stream") {
            Some((_, raw)) => serde_json::from_str::<Option<bool>>(raw.get())
                .map_err(|_| EnvelopeError::WrongType("stream", "true or false"))?
                .unwrap_or(false),
            None => false,
        };
        Ok(Self { fields, model_index, model, stream })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn stream(&self) -> bool {
        self.stream
    }

    /// The body with `model` replaced; every other value keeps its original bytes.
    pub fn with_model(&self, model: &str) -> Vec<u8> {
        let size: usize = self.fields.iter().map(|(k, v)| k.len() + v.get().len() + 4).sum::<usize>() + model.len() + 2;
        let mut out = Vec::with_capacity(size);
        out.push(b'{');
        for (i, (key, raw)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Keys came from valid JSON; writing a String into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, key);
            out.push(b':');
            if i == self.model_index {
                let _ = serde_json::to_writer(&mut out, model);
            } else {
                out.extend_from_slice(raw.get().as_bytes());
            }
        }
        out.push(b'}');
        out
    }
}

/// A hash of a conversation's beginning: its system prompt and its first message (of
/// `messages`, `input` or `contents`; at most 4 KiB of each). As the conversation grows, only
/// its end changes, so every request of one conversation gets the same hash.
pub fn conversation_hash(body: &[u8]) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let TopLevel(fields) = serde_json::from_slice(body).ok()?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut any = false;
    for key in ["system", "instructions", "systemInstruction", "messages", "input", "contents"] {
        if let Some((_, raw)) = fields.iter().find(|(k, _)| k == key) {
            let first = serde_json::from_str::<Vec<&RawValue>>(raw.get()).ok().and_then(|items| items.first().copied());
            let text = first.unwrap_or(raw).get();
            let mut end = text.len().min(4096);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text[..end].hash(&mut hasher);
            any = true;
        }
    }
    any.then(|| hasher.finish())
}

/// Checks that a body is one JSON object, without building it (values are only scanned).
pub fn check_object(body: &[u8]) -> Result<(), EnvelopeError> {
    serde_json::from_slice::<TopLevel>(body).map(|_| ()).map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            EnvelopeError::NotAnObject
        } else {
            EnvelopeError::InvalidJson(e.to_string())
        }
    })
}

/// A JSON object's bytes with `"key": raw` added first (the key must not be there yet); the
/// rest unchanged.
pub fn with_key_added(body: &[u8], key: &str, raw: &str) -> Vec<u8> {
    let Some(open) = body.iter().position(|b| *b == b'{') else { return body.to_vec() };
    let rest = &body[open + 1..];
    let empty = rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'}');
    let mut out = Vec::with_capacity(body.len() + key.len() + raw.len() + 4);
    out.extend_from_slice(&body[..=open]);
    out.extend_from_slice(format!("\"{key}\":{raw}{}", if empty { "" } else { "," }).as_bytes());
    out.extend_from_slice(rest);
    out
}

/// The raw text of one top-level field of a JSON object body.
pub fn top_level_raw<'a>(body: &'a [u8], key: &str) -> Option<&'a str> {
    let TopLevel(fields) = serde_json::from_slice(body).ok()?;
    fields.into_iter().find(|(k, _)| k == key).map(|(_, raw)| raw.get())
}

struct TopLevel<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = TopLevel<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    fields.push((key, value));
                }
                Ok(TopLevel(fields))
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_through_changes_only_the_model() {
        let body = br#"{"model":"openai/gpt-5","messages":[{"role":"user","content":"h\u00e9 \"x\"","n":1.50}],"stream":true,"x":{"a" : [1, 2]}}"#;
        let env = Envelope::parse(body).unwrap();
        assert_eq!(env.model(), "openai/gpt-5");
        assert!(env.stream());
        let out = String::from_utf8(env.with_model("gpt-5")).unwrap();
        assert_eq!(
            out,
            r#"{"model":"gpt-5","messages":[{"role":"user","content":"h\u00e9 \"x\"","n":1.50}],"stream":true,"x":{"a" : [1, 2]}}"#
        );
    }

    #[test]
    fn a_growing_conversation_keeps_its_hash() {
        let long = "x".repeat(5000);
        let turn1 = format!(r#"{{"model":"a","system":"s","messages":[{{"role":"user","content":"{long}"}}]}}"#);
        let short1 = r#"{"model":"a","messages":[{"role":"user","content":"hi"}]}"#;
        let short2 = r#"{"model":"a","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"},{"role":"user","content":"more"}]}"#;
        assert_eq!(conversation_hash(short1.as_bytes()), conversation_hash(short2.as_bytes()));
        let turn2 = format!(
            r#"{{"model":"b","system":"s","messages":[{{"role":"user","content":"{long}"}},{{"role":"assistant","content":"y"}}]}}"#
        );
        let other = format!(r#"{{"model":"a","system":"t","messages":[{{"role":"user","content":"{long}"}}]}}"#);
        assert_eq!(conversation_hash(turn1.as_bytes()), conversation_hash(turn2.as_bytes()));
        assert_ne!(conversation_hash(turn1.as_bytes()), conversation_hash(other.as_bytes()));
        assert_eq!(conversation_hash(b"{}"), None);
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        assert!(matches!(Envelope::parse(b"{\"model\":"), Err(EnvelopeError::InvalidJson(_))));
        assert!(matches!(Envelope::parse(b"[1,2]"), Err(EnvelopeError::NotAnObject)));
        assert!(matches!(Envelope::parse(b"\"str\""), Err(EnvelopeError::NotAnObject)));
        assert_eq!(Envelope::parse(b"{}").err(), Some(EnvelopeError::MissingModel));
        assert_eq!(Envelope::parse(br#"{"model":""}"#).err(), Some(EnvelopeError::MissingModel));
        assert_eq!(Envelope::parse(br#"{"model":5}"#).err().and_then(|e| e.param()), Some("model"));
        assert_eq!(Envelope::parse(br#"{"model":"a/b","stream":"yes"}"#).err().and_then(|e| e.param()), Some("stream"));
        assert!(!Envelope::parse(br#"{"model":"a/b","stream":null}"#).unwrap().stream());
        assert!(matches!(Envelope::parse(b""), Err(EnvelopeError::InvalidJson(_))));
        assert!(matches!(Envelope::parse(b"\xff\xfe"), Err(EnvelopeError::InvalidJson(_))));
    }
}
