//! What kind of output a text is (a build log, test log, diff, search results, a path listing,
//! a git log, JSON, or plain text) and the compression each kind allows: progress lines and
//! passing tests counted instead of listed, diff context trimmed to what surrounds a change,
//! repeated path prefixes written once, JSON without its indentation. Protected lines pass
//! every step untouched.

use super::lines::Line;
use serde::Serialize;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    BuildLog,
    TestLog,
    Diff,
    Search,
    Listing,
    GitLog,
    Json,
    Text,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BuildLog => "build_log",
            Self::TestLog => "test_log",
            Self::Diff => "diff",
            Self::Search => "search",
            Self::Listing => "listing",
            Self::GitLog => "git_log",
            Self::Json => "json",
            Self::Text => "text",
        }
    }
}

/// Progress lines of build tools (cargo, npm, pip, make, go), by their start once trimmed.
const BUILD_NOISE: [&str; 14] = [
    "Compiling ",
    "Checking ",
    "Downloaded ",
    "Downloading ",
    "Fresh ",
    "Updating ",
    "Locking ",
    "Adding ",
    "Blocking waiting",
    "Collecting ",
    "Using cached ",
    "npm http fetch",
    "go: downloading ",
    "make[",
];

/// A progress line of a build tool (trimmed). The first byte is compared before any prefix:
/// most lines are ruled out without a string comparison.
fn is_build_noise(t: &str) -> bool {
    let Some(&first) = t.as_bytes().first() else { return false };
    BUILD_NOISE.iter().any(|p| p.as_bytes()[0] == first && t.starts_with(p))
}

/// Lines of a passing test (cargo test, pytest -v, go test -v, jest/vitest).
fn is_passing_test(t: &str) -> bool {
    static PASSED: std::sync::OnceLock<memchr::memmem::Finder<'static>> = std::sync::OnceLock::new();
    let by_start = match t.as_bytes().first() {
        Some(b't') => t.starts_with("test ") && t.ends_with(" ... ok"),
        Some(b'-') => t.starts_with("--- PASS"),
        Some(b'=') => t.starts_with("=== RUN") || t.starts_with("=== PAUSE") || t.starts_with("=== CONT"),
        Some(0xE2) => t.starts_with("✓ ") || t.starts_with("√ "),
        _ => false,
    };
    by_start
        || (t.len() > 7
            && PASSED.get_or_init(|| memchr::memmem::Finder::new(" PASSED")).find(t.as_bytes()).is_some_and(|at| {
                let rest = &t[at + " PASSED".len()..];
                rest.is_empty() || rest.starts_with(" [")
            }))
}

/// `path:line:` or `path:line:col:` at the start (grep -n, ripgrep, compilers' short form).
fn search_prefix(line: &str) -> Option<(&str, &str)> {
    let colon = memchr::memchr(b':', line.as_bytes())?;
    let (path, rest) = (&line[..colon], &line[colon + 1..]);
    if path.is_empty() || path.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && rest.as_bytes().get(digits) == Some(&b':')).then_some((path, rest))
}

fn looks_like_path(t: &str) -> bool {
    !t.is_empty() && !t.bytes().any(|b| b.is_ascii_whitespace()) && t.bytes().any(|b| b == b'/' || b == b'.')
}

/// Looks at (up to) the first 1000 lines and names the kind.
pub fn classify(text: &str) -> Kind {
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    {
        return Kind::Json;
    }
    let (mut total, mut build, mut tests, mut search, mut paths, mut commits, mut hunks) = (0, 0, 0, 0, 0, 0, 0);
    let mut diff_header = false;
    let escapes = memchr::memchr(0x1b, text.as_bytes()).is_some();
    for raw in super::lines::split(text).take(1000) {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let line = &*if escapes { super::lines::strip_ansi(raw) } else { Cow::Borrowed(raw) };
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        total += 1;
        build += is_build_noise(t) as usize;
        tests += is_passing_test(t) as usize;
        search += search_prefix(line).is_some() as usize;
        paths += looks_like_path(t) as usize;
        commits += (t.starts_with("commit ") && t.len() >= 47) as usize;
        hunks += line.starts_with("@@ ") as usize;
        diff_header |= line.starts_with("diff --git ") || line.starts_with("+++ ");
    }
    let share = |n: usize| total > 0 && n * 100 >= total * 60;
    if diff_header && hunks > 0 {
        Kind::Diff
    } else if commits >= 2 {
        Kind::GitLog
    } else if tests >= 10 {
        Kind::TestLog
    } else if build >= 10 || (build >= 3 && share(build)) {
        Kind::BuildLog
    } else if share(search) {
        Kind::Search
    } else if share(paths) {
        Kind::Listing
    } else {
        Kind::Text
    }
}

/// The kind's own compression, on cleaned lines.
pub fn apply(kind: Kind, lines: &mut Vec<Line<'_>>) {
    match kind {
        Kind::BuildLog => drop_counted(lines, is_build_noise, "build progress lines"),
        Kind::TestLog => {
            drop_counted(lines, is_passing_test, "passing test lines");
            drop_counted(lines, is_build_noise, "build progress lines");
        }
        Kind::Diff => trim_diff_context(lines),
        Kind::Search => group_search(lines),
        Kind::Listing => group_paths(lines),
        Kind::GitLog => shorten_commits(lines),
        Kind::Json | Kind::Text => {}
    }
}

/// Drops unprotected lines that `noise` matches (trimmed) and says how many went, where the
/// first one was.
fn drop_counted(lines: &mut Vec<Line<'_>>, noise: impl Fn(&str) -> bool, what: &str) {
    let mut out = Vec::with_capacity(lines.len());
    let mut first = None;
    let mut dropped = 0;
    for line in lines.drain(..) {
        if !line.protected && !line.note && noise(line.text.trim()) {
            first.get_or_insert(out.len());
            dropped += 1;
        } else {
            out.push(line);
        }
    }
    if let Some(at) = first {
        out.insert(at, Line::note(format!("[token saver: {dropped} {what} left out]")));
    }
    *lines = out;
}

/// Unchanged lines a diff keeps on each side of a change.
const DIFF_CONTEXT: usize = 1;

/// Keeps headers, changed lines and `DIFF_CONTEXT` unchanged lines around each change; drops
/// `index` lines; notes each run of context left out.
fn trim_diff_context(lines: &mut Vec<Line<'_>>) {
    let is_change = |l: &Line| {
        (l.text.starts_with('+') && !l.text.starts_with("+++"))
            || (l.text.starts_with('-') && !l.text.starts_with("---"))
    };
    let is_context = |l: &Line| !l.protected && (l.text.starts_with(' ') || l.text.is_empty());
    let n = lines.len();
    let mut keep = vec![true; n];
    for i in 0..n {
        if lines[i].text.starts_with("index ") && !lines[i].protected {
            keep[i] = false;
        } else if is_context(&lines[i]) {
            let lo = i.saturating_sub(DIFF_CONTEXT);
            let hi = (i + DIFF_CONTEXT).min(n - 1);
            keep[i] = (lo..=hi).any(|j| is_change(&lines[j]));
        }
    }
    let mut out = Vec::with_capacity(n);
    let mut skipped = 0;
    for (line, kept) in lines.drain(..).zip(keep) {
        if kept {
            if skipped > 0 {
                out.push(Line::note(format!("[token saver: {skipped} unchanged lines]")));
                skipped = 0;
            }
            out.push(line);
        } else if !line.text.starts_with("index ") {
            skipped += 1;
        }
    }
    if skipped > 0 {
        out.push(Line::note(format!("[token saver: {skipped} unchanged lines]")));
    }
    *lines = out;
}

/// `path:12:text` lines in a row with the same path become `path:` and `  12:text` lines.
fn group_search(lines: &mut Vec<Line<'_>>) {
    let mut out = Vec::with_capacity(lines.len());
    let mut current: Option<String> = None;
    for line in lines.drain(..) {
        if line.protected || line.note {
            current = None;
            out.push(line);
            continue;
        }
        match search_prefix(&line.text) {
            Some((path, rest)) => {
                if current.as_deref() != Some(path) {
                    out.push(Line::owned(format!("{path}:")));
                    current = Some(path.to_string());
                }
                out.push(Line::owned(format!("  {rest}")));
            }
            None => {
                current = None;
                out.push(line);
            }
        }
    }
    *lines = out;
}

/// Paths in a row under the same folder become `folder/: name, name, …`.
fn group_paths<'a>(lines: &mut Vec<Line<'a>>) {
    let mut out: Vec<Line<'a>> = Vec::with_capacity(lines.len());
    let mut group: Option<(Cow<'a, str>, Vec<Cow<'a, str>>)> = None;
    let flush = |group: &mut Option<(Cow<'a, str>, Vec<Cow<'a, str>>)>, out: &mut Vec<Line<'a>>| {
        if let Some((dir, names)) = group.take() {
            let text =
                if names.len() == 1 { format!("{dir}{}", names[0]) } else { format!("{dir}: {}", names.join(", ")) };
            out.push(Line::owned(text));
        }
    };
    for line in lines.drain(..) {
        let split = (!line.protected && !line.note && looks_like_path(line.text.trim()))
            .then(|| split_path(&line.text))
            .flatten();
        match split {
            Some((dir, name)) => {
                if group.as_ref().is_some_and(|(d, _)| *d == dir) {
                    if let Some((_, names)) = group.as_mut() {
                        names.push(name);
                    }
                } else {
                    flush(&mut group, &mut out);
                    group = Some((dir, vec![name]));
                }
            }
            None => {
                flush(&mut group, &mut out);
                out.push(line);
            }
        }
    }
    flush(&mut group, &mut out);
    *lines = out;
}

/// A path line's folder (with its `/`) and name, borrowed from the output where the line is.
fn split_path<'a>(text: &Cow<'a, str>) -> Option<(Cow<'a, str>, Cow<'a, str>)> {
    let t: &str = text;
    let start = t.len() - t.trim_start().len();
    let end = t.trim_end().len();
    let slash = start + t[start..end].rfind('/')?;
    if slash + 1 >= end {
        return None;
    }
    let (dir, name) = (start..slash + 1, slash + 1..end);
    Some(match text {
        Cow::Borrowed(b) => (Cow::Borrowed(&b[dir]), Cow::Borrowed(&b[name])),
        Cow::Owned(o) => (Cow::Owned(o[dir].to_string()), Cow::Owned(o[name].to_string())),
    })
}

/// `commit <40 hex>` → `commit <12 hex>` (still unique in any real repository).
fn shorten_commits(lines: &mut [Line<'_>]) {
    for line in lines.iter_mut().filter(|l| !l.protected) {
        if let Some(sha) = line.text.strip_prefix("commit ") {
            let hex = sha.split_whitespace().next().unwrap_or("");
            if hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                line.text = Cow::Owned(format!("commit {}{}", &hex[..12], &sha[40..]));
            }
        }
    }
}

/// JSON without the whitespace between tokens (strings and key order untouched). A protected
/// line (`"error": ...`) stays whole on a line of its own; newlines are whitespace to JSON, so
/// the result parses as the input did.
pub fn minify_json(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for (line, protected) in super::marked_lines(text) {
        if protected {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // JSON strings hold no raw newline: each line starts outside a string.
        let mut in_string = false;
        let mut escaped = false;
        for c in line.chars() {
            if in_string {
                out.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
                out.push(c);
            } else if !c.is_whitespace() {
                out.push(c);
            }
        }
        if in_string {
            return None;
        }
    }
    Some(out.trim_end_matches('\n').to_string())
}
