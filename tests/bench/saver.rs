//! The token saver benchmark: every file of the corpus of real tool outputs (tests/data/saver),
//! compressed; tokens before and after (o200k_base), error and warning lines kept, and the time
//! per MB of output (median of repeated runs).
//!
//!     cargo bench --bench saver            # 50 runs per file
//!     cargo bench --bench saver -- --quick # 5

use std::time::Instant;
use switchyard::formats::tokens::count;
use switchyard::saver::{compress, is_protected};

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
}
