//! What the saver made of each tool result it has seen, by content (a 128-bit hash and the
//! length of the result as the client wrote it, a JSON string): an agent sends every earlier
//! tool result again with each turn, and those then cost a hash instead of unescaping, a
//! second compression and two tokenizer passes. Bounded by bytes; results
//! the saver cannot shrink are remembered too, so they are not tried again.
//!
//! Counting the tokens a result saved is the slow part (the tokenizer runs at ~20 MB/s, the
//! saver at ~700), so it is not done here: the request path sends the compressed body at once
//! and counts on a blocking thread (`Saved::count`) while the provider answers.

use crate::formats::tokens::count;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::sync::{Arc, OnceLock};

/// Bytes of compressed text (plus a small charge per entry) the cache may hold.
const CAPACITY_BYTES: u64 = 32 * 1024 * 1024;
/// Charged per entry on top of its text (keys, counts, the cache's own bookkeeping).
const ENTRY_BYTES: u64 = 96;

/// A tool result's compressed form, ready to splice into a request.
#[derive(Debug)]
pub struct Saved {
    /// The compressed text as a JSON string (quotes and escapes included).
    pub json: String,
    /// Tokens (o200k_base) fewer than the original, once counted.
    tokens_saved: OnceLock<u64>,
}

impl Saved {
    /// The tokens saved, if counted already.
    pub fn tokens_saved(&self) -> Option<u64> {
        self.tokens_saved.get().copied()
    }

    /// Counts (once) the tokens saved against `original`, the text this was made from.
    pub fn count(&self, original: &str) -> u64 {
        *self.tokens_saved.get_or_init(|| {
            let compressed: String = serde_json::from_str(&self.json).unwrap_or_default();
            count(original).saturating_sub(count(&compressed))
        })
    }
}

type Key = (u128, usize);

#[derive(Clone)]
struct ByBytes;

impl Weighter<Key, Option<Arc<Saved>>> for ByBytes {
    fn weight(&self, _key: &Key, value: &Option<Arc<Saved>>) -> u64 {
        ENTRY_BYTES + value.as_ref().map_or(0, |s| s.json.len() as u64)
    }
}

fn cache() -> &'static Cache<Key, Option<Arc<Saved>>, ByBytes> {
    static CACHE: OnceLock<Cache<Key, Option<Arc<Saved>>, ByBytes>> = OnceLock::new();
    CACHE.get_or_init(|| Cache::with_weighter(16 * 1024, CAPACITY_BYTES, ByBytes))
}

/// The compressed form of a tool result given as a JSON string (`json`, quotes included), or
/// None when it is left as it is; also its text when this call had to decode it.
pub fn compress(json: &str) -> (Option<Arc<Saved>>, Option<String>) {
    let key = (xxhash_rust::xxh3::xxh3_128(json.as_bytes()), json.len());
    if let Some(known) = cache().get(&key) {
        return (known, None);
    }
    let Ok(text) = serde_json::from_str::<String>(json) else { return (None, None) };
    let saved = super::compress(&text).and_then(|c| {
        let json = serde_json::to_string(&c.text).ok()?;
        Some(Arc::new(Saved { json, tokens_saved: OnceLock::new() }))
    });
    cache().insert(key, saved.clone());
    (saved, Some(text))
}
