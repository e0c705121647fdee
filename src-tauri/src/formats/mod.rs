//! Wire formats: one module per API. Each owns its request/response/stream types and the
//! codecs to and from the canonical IR (arriving with translation). Today: the OpenAI Chat
//! Completions envelope used for same-format pass-through, and SSE helpers.

pub mod openai_chat;
pub mod sse;
