//! The saver on the corpus of real tool outputs (tests/data/saver, made by generate.sh there),
//! on hand-made cases per kind, and as properties: protected lines survive whole, the output
//! is deterministic, small inputs pass untouched.

use super::*;
use proptest::prelude::*;

macro_rules! corpus {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/saver/", $name)))),*]
    };
}

/// Every file of the corpus, by name.
pub const CORPUS: [(&str, &str); 11] = corpus!(
    "cargo-build.txt",
    "cargo-test.txt",
    "clippy-pedantic.txt",
    "git-diff.txt",
    "git-log.txt",
    "grep.txt",
    "find.txt",
    "ls-la.txt",
    "cargo-metadata.json",
    "file-read.txt",
    "python-traceback.txt",
);

/// Each protected line of `input` is a whole line of `output`, as many times as in the input.
fn assert_protected_kept(input: &str, output: &str) {
    let mut out_lines: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for l in output.split('\n') {
        *out_lines.entry(l).or_default() += 1;
    }
    let mut needed: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for l in input.split('\n').filter(|l| is_protected(l)) {
        *needed.entry(l).or_default() += 1;
    }
    for (line, n) in needed {
        let have = out_lines.get(line).copied().unwrap_or(0);
        assert!(have >= n, "protected line kept {have} of {n} times: {line:?}");
    }
}

#[test]
fn the_corpus_keeps_every_error_and_warning_line_and_saves_tokens() {
    let (mut before, mut after) = (0u64, 0u64);
    for (name, text) in CORPUS {
        let out = compress(text).map(|c| c.text).unwrap_or_else(|| text.to_string());
        assert_protected_kept(text, &out);
        let (b, a) = (crate::formats::tokens::count(text), crate::formats::tokens::count(&out));
        assert!(a <= b, "{name}: {a} tokens after, {b} before");
        before += b;
        after += a;
    }
    let saved = 1.0 - after as f64 / before as f64;
    assert!(saved >= 0.35, "the corpus shrank by {:.1} % only", saved * 100.0);
}

#[test]
fn each_kind_is_recognised_on_real_output() {
    let kind = |name: &str| classify_named(name);
    assert_eq!(kind("cargo-build.txt"), Kind::BuildLog);
    assert_eq!(kind("cargo-test.txt"), Kind::TestLog);
    assert_eq!(kind("git-diff.txt"), Kind::Diff);
    assert_eq!(kind("git-log.txt"), Kind::GitLog);
    assert_eq!(kind("grep.txt"), Kind::Search);
    assert_eq!(kind("find.txt"), Kind::Listing);
    assert_eq!(kind("cargo-metadata.json"), Kind::Json);
}

fn classify_named(name: &str) -> Kind {
    kinds::classify(CORPUS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).unwrap_or_default())
}

#[test]
fn json_stays_json_with_the_same_value() {
    let (_, text) = CORPUS.iter().find(|(n, _)| *n == "cargo-metadata.json").copied().unwrap_or_default();
    let out = compress(text).expect("pretty JSON shrinks");
    let a: serde_json::Value = serde_json::from_str(text).unwrap();
    let b: serde_json::Value = serde_json::from_str(&out.text).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_diff_keeps_every_changed_line_and_its_headers() {
    let (_, text) = CORPUS.iter().find(|(n, _)| *n == "git-diff.txt").copied().unwrap_or_default();
    let out = compress(text).expect("a long diff shrinks").text;
    let kept: std::collections::HashSet<&str> = out.split('\n').collect();
    for line in text
        .lines()
        .filter(|l| l.starts_with('+') || l.starts_with('-') || l.starts_with("@@") || l.starts_with("diff --git"))
    {
        assert!(kept.contains(line), "lost {line:?}");
    }
}

#[test]
fn terminal_noise_goes_and_repeats_fold() {
    let mut text = String::new();
    for i in 0..60 {
        text.push_str(&format!("\x1b[32mstep {i}\x1b[0m   \n"));
        text.push_str("downloading [#####     ] 50%\rdownloading [##########] 100%\n");
    }
    for _ in 0..40 {
        text.push_str("same line again\n");
    }
    text.push_str("\x1b[31merror: it broke\x1b[0m\n");
    let out = compress(&text).unwrap().text;
    assert!(!out.contains("\x1b[32m") && out.contains("step 59"));
    assert!(!out.contains("50%") && out.contains("downloading [##########] 100%"));
    assert!(out.contains("same line again\n[token saver: the line above repeated 39 more times]"), "{out}");
    // The error line stays exactly as it came, colours included.
    assert!(out.contains("\x1b[31merror: it broke\x1b[0m"));
}

#[test]
fn search_results_and_listings_write_each_prefix_once() {
    let mut grep = String::new();
    let mut find = String::new();
    for i in 0..80 {
        grep.push_str(&format!("src/gateway/inbound.rs:{i}: let x{i} = y;\n"));
        find.push_str(&format!("./src/gateway/module_{i}.rs\n"));
    }
    let g = compress(&grep).unwrap();
    assert_eq!(g.kind, Kind::Search);
    assert!(g.text.starts_with("src/gateway/inbound.rs:\n  0: let x0 = y;"), "{}", g.text);
    let f = compress(&find).unwrap();
    assert_eq!(f.kind, Kind::Listing);
    assert!(f.text.starts_with("./src/gateway/: module_0.rs, module_1.rs"), "{}", f.text);
}

#[test]
fn long_outputs_keep_head_tail_and_every_error_between() {
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!("line {i} of a long file with some words in it\n"));
        if i == 1500 {
            text.push_str("ERROR in the middle\n");
        }
    }
    let out = compress(&text).unwrap().text;
    assert!(out.contains("line 0 of") && out.contains("line 2999 of") && out.contains("ERROR in the middle"));
    assert!(out.contains("lines left out]"));
    assert!(!out.contains("line 1000 of"));
}

#[test]
fn small_or_incompressible_outputs_pass_untouched() {
    assert!(compress("error: short").is_none());
    assert!(compress(&"x".repeat(MIN_BYTES - 1)).is_none());
    // Nothing to take out: every line differs and carries text.
    let varied: String = (0..200).map(|i| format!("{i:04} {}\n", "abcdefghij".repeat(1 + i % 3))).collect();
    assert!(compress(&varied).is_none());
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("   Compiling serde v1.0.0".to_string()),
        Just("test a::b ... ok".to_string()),
        Just("warning: unused variable `x`".to_string()),
        Just("error[E0308]: mismatched types".to_string()),
        Just("Traceback (most recent call last):".to_string()),
        Just("src/a.rs:12: fn main() {}".to_string()),
        Just("./dir/file.txt".to_string()),
        Just("@@ -1,3 +1,4 @@".to_string()),
        Just("diff --git a/x b/x".to_string()),
        Just(" context line".to_string()),
        Just("+added".to_string()),
        "[ -~]{0,60}",
        "\\x1b\\[3[0-9]m[a-z ]{0,20}\\x1b\\[0m",
        "[a-z]{1,10}\r[a-z]{1,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn protected_lines_always_survive_and_output_is_deterministic(lines in prop::collection::vec(line_strategy(), 0..400)) {
        let text = lines.join("\n");
        let first = compress(&text);
        let second = compress(&text);
        prop_assert_eq!(&first, &second);
        let out = first.map(|c| c.text).unwrap_or_else(|| text.clone());
        assert_protected_kept(&text, &out);
        prop_assert!(out.len() <= text.len().max(MIN_BYTES));
    }
}
