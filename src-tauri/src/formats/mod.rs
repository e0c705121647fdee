//! Wire formats: one module per API, each with request and response codecs and stateful
//! stream transcoders to and from the canonical IR (`ir`). `envelope` is the same-format
//! fast path: the client's bytes with only the model name changed. `translate` ties a pair of
//! formats together.

pub mod anthropic;
pub mod codec;
pub mod embeddings;
pub mod envelope;
pub mod eventstream;
pub mod gemini;
pub mod ir;
pub mod kiro;
pub mod kiro_shape;
pub mod kiro_thinking;
pub mod openai_chat;
pub mod responses;
#[cfg(test)]
mod robustness;
pub mod tokens;
pub mod translate;
