//! The token saver benchmark: every file of the corpus of real tool outputs (tests/data/saver),
//! compressed; tokens before and after (o200k_base), error and warning lines kept, and the time
//! per MB of output (median of repeated runs). Then whole request bodies: an agent's
//! conversation carrying the corpus as tool results, the first time (compress and count
//! tokens) and when it is sent again with the next turn (from the saver's cache).
//!
//!     cargo bench --bench saver            # 50 runs per file
//!     cargo bench --bench saver -- --quick # 5

use std::time::Instant;
use switchyard::formats::tokens::count;
use switchyard::formats::translate::Format;
use switchyard::saver::{compress, is_protected, save};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 5 } else { 50 };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/saver");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "json"))
        .collect();
    files.sort();
    println!("| output | kind | KiB | tokens before | tokens after | saved | error/warning lines kept | ms per MB |");
    println!("|---|---|---|---|---|---|---|---|");
    let (mut before_all, mut after_all, mut bytes_all, mut secs_all) = (0u64, 0u64, 0usize, 0f64);
    let (mut protected_all, mut kept_all) = (0usize, 0usize);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut samples = Vec::with_capacity(runs);
        let mut result = None;
        for _ in 0..runs {
            let t0 = Instant::now();
            result = compress(&text);
            samples.push(t0.elapsed().as_secs_f64());
        }
        samples.sort_by(f64::total_cmp);
        let secs = samples[samples.len() / 2];
        let kind = result.as_ref().map_or("(untouched)", |c| c.kind.as_str());
        let out = result.map(|c| c.text).unwrap_or_else(|| text.clone());
        let (before, after) = (count(&text), count(&out));
        let out_lines: std::collections::HashSet<&str> = out.split('\n').collect();
        let protected: Vec<&str> = text.split('\n').filter(|l| is_protected(l)).collect();
        let kept = protected.iter().filter(|l| out_lines.contains(*l)).count();
        println!(
            "| {} | {kind} | {} | {before} | {after} | {:.0} % | {kept} of {} | {:.2} |",
            path.file_name().unwrap().to_string_lossy(),
            text.len() / 1024,
            100.0 * (1.0 - after as f64 / before as f64),
            protected.len(),
            secs * 1e3 / (text.len() as f64 / 1e6),
        );
        before_all += before;
        after_all += after;
        bytes_all += text.len();
        secs_all += secs;
        protected_all += protected.len();
        kept_all += kept;
    }
    println!(
        "| **all** | | {} | {before_all} | {after_all} | **{:.1} %** | {kept_all} of {protected_all} | {:.2} |",
        bytes_all / 1024,
        100.0 * (1.0 - after_all as f64 / before_all as f64),
        secs_all * 1e3 / (bytes_all as f64 / 1e6),
    );
    println!("targets: ≥ 35 % fewer tokens over the corpus; every error and warning line kept; ≤ 2 ms per MB");
    request_bodies(&texts_of(&dir), runs);
}

fn texts_of(dir: &std::path::Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "txt" || e == "json"));
    files.sort();
    files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
}

/// An Anthropic request whose tool results are the corpus; `turn` makes each body's results
/// new to the saver's cache.
fn conversation(texts: &[String], turn: usize) -> Vec<u8> {
    let mut messages = vec![serde_json::json!({"role": "user", "content": "fix the build"})];
    for (i, text) in texts.iter().enumerate() {
        let id = format!("toolu_{turn}_{i}");
        messages.push(serde_json::json!({"role": "assistant", "content": [{"type": "tool_use", "id": id, "name": "bash", "input": {}}]}));
        let result = format!("{text}\n(turn {turn})");
        messages.push(serde_json::json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": result}]}));
    }
    serde_json::to_vec(&serde_json::json!({"model": "cc/claude", "max_tokens": 1024, "messages": messages})).unwrap()
}

fn request_bodies(texts: &[String], runs: usize) {
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut first, mut again, mut counting) = (Vec::new(), Vec::new(), Vec::new());
    let mut size = 0;
    let mut saved_tokens = 0;
    for turn in 0..runs.min(20) {
        let body = conversation(texts, turn);
        size = body.len();
        let t0 = Instant::now();
        let saved = save(Format::Anthropic, &body).expect("the corpus compresses");
        first.push(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        let compressed = saved.body.clone();
        saved_tokens = saved.uncounted.count();
        counting.push(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        let repeat = save(Format::Anthropic, &body).expect("the corpus compresses");
        again.push(t0.elapsed().as_secs_f64());
        assert_eq!(repeat.body, compressed, "deterministic");
        assert_eq!(repeat.tokens_saved, saved_tokens, "known from the first time");
    }
    let mb = size as f64 / 1e6;
    println!(
        "request body of {:.2} MB with {} tool results, {saved_tokens} tokens saved: first time {:.1} ms ({:.2} ms per MB; counting the tokens saved, off the request path, {:.0} ms), sent again {:.2} ms ({:.2} ms per MB, cached)",
        mb,
        texts.len(),
        median(first.clone()) * 1e3,
        median(first) * 1e3 / mb,
        median(counting) * 1e3,
        median(again.clone()) * 1e3,
        median(again) * 1e3 / mb,
    );
}
