//! The token saver: compresses a tool's output (a build log, a diff, a listing, search
//! results, a JSON dump, a long file) before it goes upstream, so an agent's conversation costs
//! fewer tokens. Rules that never bend:
//! - A line that carries an error or a warning (`is_protected`) is kept byte for byte.
//! - Output that a tool marked as an error is never given to the saver (the callers check).
//! - The same input always gives the same output (no clocks, no random state), so earlier
//!   turns stay byte-stable and providers' prompt caches keep hitting.
//! - Small outputs, and outputs the saver cannot shrink by a useful margin, pass untouched.
//! - What is left out is said in a bracketed note, never silently.

mod cache;
mod kinds;
mod lines;
mod request;

pub use kinds::Kind;
pub use request::{save, SavedBody};

/// Outputs shorter than this pass untouched: too small to be worth a change.
pub const MIN_BYTES: usize = 1024;
/// A result must be at least this much smaller (bytes) to be used; else the input passes.
const MIN_GAIN: f64 = 0.05;

/// A compressed tool output.
#[derive(Debug, Clone, PartialEq)]
pub struct Compressed {
    pub text: String,
    pub kind: Kind,
}

/// Compresses `text`, or None when it is small or would not shrink enough.
pub fn compress(text: &str) -> Option<Compressed> {
    if text.len() < MIN_BYTES {
        return None;
    }
    let kind = kinds::classify(text);
    let out = match kind {
        Kind::Json => kinds::minify_json(text)?,
        _ => {
            let mut lines = lines::clean(text);
            kinds::apply(kind, &mut lines);
            // A diff's changed lines are its content: none is folded or cut.
            if kind != Kind::Diff {
                lines::fold_repeats(&mut lines);
                lines::window(&mut lines);
            }
            lines::join(&lines)
        }
    };
    if (out.len() as f64) > text.len() as f64 * (1.0 - MIN_GAIN) {
        return None;
    }
    Some(Compressed { text: out, kind })
}

/// Words that make a line an error or warning line, matched without regard to case.
const PROTECTED: [&str; 12] = [
    "error",
    "warn",
    "fail",
    "panic",
    "exception",
    "traceback",
    "fatal",
    "denied",
    "not found",
    "assert",
    "abort",
    "critical",
];

/// Finds the protected words in ASCII-lowercased text (lowercasing ASCII keeps every byte
/// offset). Case-sensitive patterns allow the SIMD (Teddy) searcher, about ten times faster
/// here than an automaton; the automaton is for CPUs without it.
enum ProtectedWords {
    Simd(aho_corasick::packed::Searcher),
    Automaton(aho_corasick::AhoCorasick),
}

impl ProtectedWords {
    fn get() -> &'static Self {
        static WORDS: std::sync::OnceLock<ProtectedWords> = std::sync::OnceLock::new();
        WORDS.get_or_init(|| match aho_corasick::packed::Searcher::new(PROTECTED) {
            Some(simd) => Self::Simd(simd),
            None => Self::Automaton(
                aho_corasick::AhoCorasick::new(PROTECTED).expect("a dozen fixed words build an automaton"),
            ),
        })
    }

    /// Start offsets of the words found in `lower`, in order.
    fn starts(&self, lower: &str) -> Vec<usize> {
        match self {
            Self::Simd(s) => s.find_iter(lower).map(|m| m.start()).collect(),
            Self::Automaton(a) => a.find_iter(lower).map(|m| m.start()).collect(),
        }
    }
}

/// Whether a line carries an error or a warning (then nothing may change or drop it).
pub fn is_protected(line: &str) -> bool {
    !ProtectedWords::get().starts(&line.to_ascii_lowercase()).is_empty()
}

/// The lines of a text (split at `\n`), each with whether it is protected, from one scan of
/// the whole text rather than one per line.
pub(crate) fn marked_lines(text: &str) -> impl Iterator<Item = (&str, bool)> {
    let hits = ProtectedWords::get().starts(&text.to_ascii_lowercase());
    let mut next = 0;
    lines::with_ends(text).map(move |(start, end)| {
        // A word holds no newline: each hit lies inside one line.
        while next < hits.len() && hits[next] < start {
            next += 1;
        }
        (&text[start..end], next < hits.len() && hits[next] < end)
    })
}

#[cfg(test)]
mod tests;
