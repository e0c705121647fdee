//! Embeddings in the gateway's own terms (`EmbedRequest`, `Embeddings`) and in each API's
//! shape. Inbound: OpenAI `/v1/embeddings` (a string, strings, or token ids) and Gemini
//! `:embedContent` / `:batchEmbedContents`. Upstream: OpenAI-compatible `/embeddings` (Voyage's
//! dialect names the size `output_dimension`) and Gemini `:batchEmbedContents`. Vectors go back
//! as floats or, when the client asks, as base64 of little-endian f32 (OpenAI's encoding).

use serde_json::{json, Value};

/// OpenAI's limit on inputs in one request; the gateway holds every API to it.
pub const MAX_INPUTS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct EmbedRequest {
    pub model: String,
    pub inputs: Vec<String>,
    /// The vector size asked for (models that can shorten their vectors).
    pub dimensions: Option<u32>,
    /// The client wants base64 vectors (OpenAI `encoding_format: "base64"`).
    pub base64: bool,
    /// Gemini's task type (`RETRIEVAL_QUERY`, …), passed on to Gemini upstreams.
    pub task_type: Option<String>,
    /// Gemini `:embedContent`: one input, answered with one `embedding`.
    pub single: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    /// The provider's count of input tokens (Gemini reports none).
    pub input_tokens: Option<u64>,
}

/// The shape of an upstream's embeddings API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    /// OpenAI's shape with `output_dimension` for the size.
    Voyage,
    Gemini,
}

fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("the body must be a JSON object".into()),
        Err(e) => Err(format!("the body is not valid JSON: {e}")),
    }
}

fn dimensions(value: Option<&Value>, name: &str) -> Result<Option<u32>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=65536).contains(&n) => Ok(Some(n as u32)),
            _ => Err(format!("'{name}' must be a positive integer")),
        },
    }
}

fn check_inputs(inputs: &[String]) -> Result<(), String> {
    if inputs.is_empty() {
        return Err("'input' must hold at least one text".into());
    }
    if inputs.len() > MAX_INPUTS {
        return Err(format!("'input' holds {} texts; at most {MAX_INPUTS} go in one request", inputs.len()));
    }
    if let Some(i) = inputs.iter().position(|t| t.is_empty()) {
        return Err(format!("'input' text {i} is empty"));
    }
    Ok(())
}

/// Token ids (OpenAI's other input form) back to text, with text-embedding-3's encoding.
fn detokenize(ids: &[Value]) -> Result<String, String> {
    let ids: Vec<u32> = ids
        .iter()
        .map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok()))
        .collect::<Option<_>>()
        .ok_or("'input' token ids must be non-negative integers")?;
    tiktoken_rs::cl100k_base_singleton()
        .decode(&ids)
        .map_err(|e| format!("'input' holds token ids that are not cl100k_base tokens: {e}"))
}

/// An OpenAI `/v1/embeddings` body.
pub fn decode_openai(body: &[u8]) -> Result<EmbedRequest, String> {
    let map = object(body)?;
    let model = match map.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        _ => return Err("'model' is required: name the embedding model".into()),
    };
    let inputs = match map.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
        }
        Some(Value::Array(items)) if items.iter().all(Value::is_number) => vec![detokenize(items)?],
        Some(Value::Array(items)) if items.iter().all(Value::is_array) => items
            .iter()
            .map(|v| detokenize(v.as_array().map(Vec::as_slice).unwrap_or_default()))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(
                "'input' must be a string, an array of strings, or token ids (integers or arrays of them)".into()
            )
        }
        None => return Err("'input' is required".into()),
    };
    check_inputs(&inputs)?;
    let base64 = match map.get("encoding_format") {
        None | Some(Value::Null) => false,
        Some(Value::String(f)) if f == "float" => false,
        Some(Value::String(f)) if f == "base64" => true,
        Some(other) => return Err(format!("'encoding_format' must be \"float\" or \"base64\", not {other}")),
    };
    Ok(EmbedRequest {
        model,
        inputs,
        dimensions: dimensions(map.get("dimensions"), "dimensions")?,
        base64,
        task_type: None,
        single: false,
    })
}

/// The text of a Gemini `content` (its parts' texts, joined).
fn gemini_text(content: &Value) -> Result<String, String> {
    let parts = content.get("parts").and_then(Value::as_array).ok_or("'content.parts' is required")?;
    let text: Vec<&str> = parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect();
    if text.is_empty() {
        return Err("'content.parts' must hold text: only text can be embedded".into());
    }
    Ok(text.join("\n"))
}

/// A Gemini `:embedContent` (`batch` false) or `:batchEmbedContents` body; the model is the
/// path's.
pub fn decode_gemini(model: &str, body: &[u8], batch: bool) -> Result<EmbedRequest, String> {
    let map = object(body)?;
    let items: Vec<Value> = if batch {
        map.get("requests").and_then(Value::as_array).ok_or("'requests' is required")?.clone()
    } else {
        vec![Value::Object(map)]
    };
    let mut inputs = Vec::with_capacity(items.len());
    let mut size = None;
    let mut task_type = None;
    for item in &items {
        let content = item.get("content").ok_or("'content' is required")?;
        inputs.push(gemini_text(content)?);
        size = size.or(dimensions(item.get("outputDimensionality"), "outputDimensionality")?);
        task_type = task_type.or_else(|| item.get("taskType").and_then(Value::as_str).map(str::to_string));
    }
    check_inputs(&inputs)?;
    Ok(EmbedRequest { model: model.to_string(), inputs, dimensions: size, base64: false, task_type, single: !batch })
}

/// The upstream body for `request` sent to `upstream_model`.
pub fn encode_upstream(dialect: Dialect, request: &EmbedRequest, upstream_model: &str) -> Value {
    match dialect {
        Dialect::OpenAi | Dialect::Voyage => {
            let mut body = json!({"model": upstream_model, "input": request.inputs, "encoding_format": "float"});
            if let Some(n) = request.dimensions {
                let name = if dialect == Dialect::Voyage { "output_dimension" } else { "dimensions" };
                body[name] = json!(n);
            }
            if dialect == Dialect::Voyage {
                // Voyage takes null (floats) or base64 only.
                body["encoding_format"] = Value::Null;
            }
            body
        }
        Dialect::Gemini => {
            let requests: Vec<Value> = request
                .inputs
                .iter()
                .map(|text| {
                    let mut one =
                        json!({"model": format!("models/{upstream_model}"), "content": {"parts": [{"text": text}]}});
                    if let Some(n) = request.dimensions {
                        one["outputDimensionality"] = json!(n);
                    }
                    if let Some(task) = &request.task_type {
                        one["taskType"] = json!(task);
                    }
                    one
                })
                .collect();
            json!({"requests": requests})
        }
    }
}

fn floats(value: &Value) -> Option<Vec<f32>> {
    value.as_array()?.iter().map(|v| v.as_f64().map(|f| f as f32)).collect()
}

fn from_base64(text: &str) -> Option<Vec<f32>> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    (bytes.len() % 4 == 0)
        .then(|| bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// An upstream's answer.
pub fn decode_upstream(dialect: Dialect, body: &[u8]) -> Result<Embeddings, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    match dialect {
        Dialect::OpenAi | Dialect::Voyage => {
            let data = value.get("data").and_then(Value::as_array).ok_or("no 'data' list")?;
            let mut indexed: Vec<(u64, Vec<f32>)> = data
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let index = item.get("index").and_then(Value::as_u64).unwrap_or(i as u64);
                    let vector = match item.get("embedding") {
                        Some(Value::String(b64)) => from_base64(b64),
                        Some(v) => floats(v),
                        None => None,
                    };
                    vector.map(|v| (index, v)).ok_or_else(|| format!("item {i} holds no embedding"))
                })
                .collect::<Result<_, _>>()?;
            indexed.sort_by_key(|(i, _)| *i);
            let usage = value.get("usage");
            let input_tokens =
                usage.and_then(|u| u.get("prompt_tokens").or_else(|| u.get("total_tokens"))).and_then(Value::as_u64);
            Ok(Embeddings { vectors: indexed.into_iter().map(|(_, v)| v).collect(), input_tokens })
        }
        Dialect::Gemini => {
            let list: Vec<&Value> = match (value.get("embeddings"), value.get("embedding")) {
                (Some(Value::Array(items)), _) => items.iter().collect(),
                (_, Some(one)) => vec![one],
                _ => return Err("no 'embeddings' list".into()),
            };
            let vectors = list
                .iter()
                .enumerate()
                .map(|(i, e)| e.get("values").and_then(floats).ok_or_else(|| format!("embedding {i} holds no values")))
                .collect::<Result<_, _>>()?;
            Ok(Embeddings { vectors, input_tokens: None })
        }
    }
}

fn to_base64(vector: &[f32]) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The OpenAI answer for a client that asked for `model`.
pub fn encode_openai(e: &Embeddings, model: &str, base64: bool) -> Value {
    let data: Vec<Value> = e
        .vectors
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 { json!(to_base64(v)) } else { json!(v) };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let tokens = e.input_tokens.unwrap_or(0);
    json!({"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
}

/// The Gemini answer: `embedding` for `:embedContent`, `embeddings` for the batch.
pub fn encode_gemini(e: &Embeddings, single: bool) -> Value {
    let values = |v: &Vec<f32>| json!({"values": v});
    if single {
        json!({"embedding": e.vectors.first().map(values).unwrap_or(json!({"values": []}))})
    } else {
        json!({"embeddings": e.vectors.iter().map(values).collect::<Vec<_>>()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_inputs_in_every_form() {
        let one = decode_openai(br#"{"model":"m","input":"hi"}"#).unwrap();
        assert_eq!(one.inputs, vec!["hi"]);
        let many =
            decode_openai(br#"{"model":"m","input":["a","b"],"dimensions":4,"encoding_format":"base64"}"#).unwrap();
        assert_eq!((many.inputs.len(), many.dimensions, many.base64), (2, Some(4), true));
        let ids = tiktoken_rs::cl100k_base_singleton().encode_ordinary("hello world");
        let body = json!({"model": "m", "input": [ids.clone(), ids]});
        let tokens = decode_openai(body.to_string().as_bytes()).unwrap();
        assert_eq!(tokens.inputs, vec!["hello world", "hello world"]);
    }

    #[test]
    fn bad_openai_bodies_say_what_is_wrong() {
        for (body, says) in [
            (r#"{"input":"x"}"#, "'model' is required"),
            (r#"{"model":"m"}"#, "'input' is required"),
            (r#"{"model":"m","input":[]}"#, "at least one"),
            (r#"{"model":"m","input":[""]}"#, "is empty"),
            (r#"{"model":"m","input":{"a":1}}"#, "must be a string"),
            (r#"{"model":"m","input":"x","encoding_format":"int8"}"#, "encoding_format"),
            (r#"{"model":"m","input":"x","dimensions":-3}"#, "'dimensions'"),
            (r#"[1]"#, "JSON object"),
        ] {
            let err = decode_openai(body.as_bytes()).unwrap_err();
            assert!(err.contains(says), "{body}: {err}");
        }
    }

    #[test]
    fn gemini_single_and_batch() {
        let single = decode_gemini(
            "text-embedding-004",
            br#"{"content":{"parts":[{"text":"a"}]},"taskType":"RETRIEVAL_QUERY","outputDimensionality":8}"#,
            false,
        )
        .unwrap();
        assert_eq!(
            (single.inputs.clone(), single.dimensions, single.task_type.as_deref(), single.single),
            (vec!["a".to_string()], Some(8), Some("RETRIEVAL_QUERY"), true)
        );
        let batch = decode_gemini(
            "m",
            br#"{"requests":[{"model":"models/m","content":{"parts":[{"text":"a"}]}},{"content":{"parts":[{"text":"b"}]}}]}"#,
            true,
        )
        .unwrap();
        assert_eq!(batch.inputs, vec!["a", "b"]);
        assert!(decode_gemini("m", br#"{"content":{"parts":[{"inlineData":{}}]}}"#, false)
            .unwrap_err()
            .contains("text"));
    }

    #[test]
    fn upstream_round_trips_and_base64_is_little_endian_f32() {
        let request = EmbedRequest { inputs: vec!["a".into(), "b".into()], dimensions: Some(2), ..Default::default() };
        let voyage = encode_upstream(Dialect::Voyage, &request, "voyage-3.5");
        assert_eq!((voyage["output_dimension"].as_u64(), voyage.get("dimensions")), (Some(2), None));
        let gemini = encode_upstream(Dialect::Gemini, &request, "gemini-embedding-001");
        assert_eq!(gemini["requests"][1]["content"]["parts"][0]["text"], "b");
        assert_eq!(gemini["requests"][0]["model"], "models/gemini-embedding-001");
        let answer = br#"{"data":[{"index":1,"embedding":[3.0,4.0]},{"index":0,"embedding":"AACAPwAAAEA="}],"usage":{"prompt_tokens":7}}"#;
        let e = decode_upstream(Dialect::OpenAi, answer).unwrap();
        assert_eq!(e.vectors, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert_eq!(e.input_tokens, Some(7));
        let out = encode_openai(&e, "m", true);
        assert_eq!(out["data"][0]["embedding"], "AACAPwAAAEA=");
        assert_eq!(out["usage"]["prompt_tokens"], 7);
        let g = decode_upstream(Dialect::Gemini, br#"{"embeddings":[{"values":[0.5]},{"values":[1.5]}]}"#).unwrap();
        assert_eq!(encode_gemini(&g, false)["embeddings"][1]["values"][0], 1.5);
        assert_eq!(encode_gemini(&g, true)["embedding"]["values"][0], 0.5);
    }
}
