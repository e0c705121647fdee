//! What every format's codec shares: the decode error, the SSE event a stream decoder reads,
//! the output buffer a stream encoder writes, and small helpers (data URLs, JSON text).

use super::ir::Image;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the request body is not valid JSON: {0}")]
    Json(String),
    #[error("{0}")]
    Invalid(String),
}

impl DecodeError {
    pub fn from_serde(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => Self::Invalid(format!("invalid request: {e}")),
            _ => Self::Json(e.to_string()),
        }
    }
}

/// Parses a JSON body into a typed wire struct, with errors that name the field
/// (`messages[2].content: invalid type ...`).
pub fn parse<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data if path != "." => {
                DecodeError::Invalid(format!("invalid request: {path}: {inner}"))
            }
            _ => DecodeError::from_serde(inner),
        }
    })?;
    de.end().map_err(DecodeError::from_serde)?;
    Ok(value)
}

/// One server-sent event as a stream decoder sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// Writes one SSE event: `event: NAME` (when given) and `data: JSON`.
pub fn write_sse(out: &mut Vec<u8>, event: Option<&str>, data: &Value) {
    if let Some(name) = event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b"data: ");
    // Writing a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, data);
    out.extend_from_slice(b"\n\n");
}

/// `data:image/png;base64,AAAA` → base64 image; any other URL stays a URL.
pub fn image_from_url(url: &str) -> Image {
    if let Some(rest) = url.strip_prefix("data:") {
        if let Some((meta, data)) = rest.split_once(',') {
            if let Some(media_type) = meta.strip_suffix(";base64") {
                return Image::Base64 { media_type: media_type.to_string(), data: data.to_string() };
            }
        }
    }
    Image::Url(url.to_string())
}

pub fn image_to_url(image: &Image) -> String {
    match image {
        Image::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        Image::Url(url) => url.clone(),
    }
}

/// A tool call's arguments as a JSON value, for formats that carry objects rather than text.
/// Unparseable text (a model's broken JSON) is kept as a string rather than lost.
pub fn arguments_value(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(Default::default());
    }
    serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.to_string()))
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Text of tool-result content: formats that take only text get the text parts joined.
pub fn parts_text(parts: &[super::ir::Part]) -> String {
    parts
        .iter()
        .filter_map(|p| match p {
            super::ir::Part::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}
