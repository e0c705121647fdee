//! What the saver made of each tool result it has seen, by content (a 128-bit hash and the
//! length): an agent sends every earlier tool result again with each turn, and those then cost
//! a hash instead of a second compression and two tokenizer passes. Bounded by bytes; results
//! the saver cannot shrink are remembered too, so they are not tried again.

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
    /// Tokens (o200k_base) fewer than the original.
    pub tokens_saved: u64,
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

/// The compressed form of a tool result's text, or None when it is left as it is.
pub fn compress(text: &str) -> Option<Arc<Saved>> {
    let key = (xxhash_rust::xxh3::xxh3_128(text.as_bytes()), text.len());
    if let Some(known) = cache().get(&key) {
        return known;
    }
    let saved = super::compress(text).and_then(|c| {
        let json = serde_json::to_string(&c.text).ok()?;
        let before = crate::formats::tokens::count(text);
        let after = crate::formats::tokens::count(&c.text);
        Some(Arc::new(Saved { json, tokens_saved: before.saturating_sub(after) }))
    });
    cache().insert(key, saved.clone());
    saved
}
