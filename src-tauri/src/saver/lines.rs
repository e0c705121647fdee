//! Line-level work every kind of output gets: terminal noise out (ANSI escapes, progress bars
//! redrawn with carriage returns, trailing spaces, runs of blank lines), runs of identical lines
//! folded, and very long outputs cut to their head and tail, keeping every protected line of
//! the middle. Protected lines (errors, warnings) are never changed or dropped.

use std::borrow::Cow;

/// One line of output as the saver sees it: borrowed from the input unless the saver changed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line<'a> {
    pub text: Cow<'a, str>,
    /// An error or warning line: kept byte for byte.
    pub protected: bool,
    /// A note the saver wrote (what it left out).
    pub note: bool,
}

impl Line<'_> {
    pub fn note(text: String) -> Self {
        Self { text: Cow::Owned(text), protected: false, note: true }
    }

    pub fn owned(text: String) -> Self {
        Self { text: Cow::Owned(text), protected: false, note: false }
    }
}

/// Outputs longer than this (in lines) keep their head and tail only (and protected lines).
const WINDOW_MAX: usize = 800;
const WINDOW_HEAD: usize = 300;
const WINDOW_TAIL: usize = 200;
/// Identical lines in a row, from this many, fold into one and a note.
const REPEAT_MIN: usize = 3;

/// Removes ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, and 2-byte ones).
pub fn strip_ansi(s: &str) -> Cow<'_, str> {
    if !s.contains('\x1b') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                // Parameters and intermediates, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' || (c == '\x1b' && chars.peek() == Some(&'\\')) {
                        if c == '\x1b' {
                            chars.next();
                        }
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    Cow::Owned(out)
}

/// The (start, end) byte offsets of each line of `text` (split at `\n`, which is left out).
pub fn with_ends(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    let mut start = 0;
    ends.map(move |end| {
        let line = (start, end);
        start = end + 1;
        line
    })
}

/// The lines of `text` (split at `\n`; one SIMD scan rather than a search per line).
pub fn split(text: &str) -> impl Iterator<Item = &str> {
    with_ends(text).map(|(start, end)| &text[start..end])
}

/// What a terminal shows of a line redrawn with carriage returns: the text after the last one.
fn last_redraw(s: &str) -> &str {
    let trimmed = s.trim_end_matches('\r');
    trimmed.rsplit('\r').next().unwrap_or(trimmed)
}

/// Splits the output into lines and cleans the unprotected ones.
pub fn clean(text: &str) -> Vec<Line<'_>> {
    // Most outputs hold neither: then no line is searched for them.
    let redraws = memchr::memchr(b'\r', text.as_bytes()).is_some();
    let escapes = memchr::memchr(0x1b, text.as_bytes()).is_some();
    let mut out: Vec<Line> = Vec::new();
    for (raw, protected) in super::marked_lines(text) {
        if protected {
            out.push(Line { text: Cow::Borrowed(raw), protected: true, note: false });
            continue;
        }
        let shown = if redraws { last_redraw(raw) } else { raw };
        let text = match if escapes { strip_ansi(shown) } else { Cow::Borrowed(shown) } {
            Cow::Borrowed(b) => Cow::Borrowed(b.trim_end()),
            Cow::Owned(o) => Cow::Owned(o.trim_end().to_string()),
        };
        // One blank line stands for a run of them.
        if text.is_empty() && out.last().is_some_and(|l| l.text.is_empty() && !l.protected) {
            continue;
        }
        out.push(Line { text, protected: false, note: false });
    }
    while out.last().is_some_and(|l| l.text.is_empty() && !l.protected) {
        out.pop();
    }
    out
}

/// Folds runs of identical unprotected lines: the first stays, a note says how many followed.
pub fn fold_repeats(lines: &mut Vec<Line<'_>>) {
    let mut out: Vec<Line<'_>> = Vec::with_capacity(lines.len());
    let mut run = 0usize;
    for line in lines.drain(..) {
        let same = out.last().is_some_and(|last| {
            !line.protected && !last.protected && !last.note && !last.text.is_empty() && last.text == line.text
        });
        if same {
            run += 1;
            continue;
        }
        flush_run(&mut out, run);
        run = 0;
        out.push(line);
    }
    flush_run(&mut out, run);
    *lines = out;
}

/// After a line that came `1 + extra` times: the copies back when they are few, else a note.
fn flush_run(out: &mut Vec<Line<'_>>, extra: usize) {
    if extra == 0 {
        return;
    }
    if extra + 1 >= REPEAT_MIN {
        out.push(Line::note(format!("[token saver: the line above repeated {extra} more times]")));
    } else if let Some(last) = out.last().cloned() {
        out.extend(std::iter::repeat_n(last, extra));
    }
}

/// Cuts a very long output to its head and tail, keeping every protected line between them.
pub fn window(lines: &mut Vec<Line<'_>>) {
    if lines.len() <= WINDOW_MAX {
        return;
    }
    let tail_start = lines.len() - WINDOW_TAIL;
    let mut out: Vec<Line<'_>> = lines[..WINDOW_HEAD].to_vec();
    let mut skipped = 0;
    for line in &lines[WINDOW_HEAD..tail_start] {
        if line.protected {
            if skipped > 0 {
                out.push(Line::note(format!("[token saver: {skipped} lines left out]")));
                skipped = 0;
            }
            out.push(line.clone());
        } else {
            skipped += 1;
        }
    }
    if skipped > 0 {
        out.push(Line::note(format!("[token saver: {skipped} lines left out]")));
    }
    out.extend_from_slice(&lines[tail_start..]);
    *lines = out;
}

pub fn join(lines: &[Line<'_>]) -> String {
    let mut out = String::with_capacity(lines.iter().map(|l| l.text.len() + 1).sum());
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&line.text);
    }
    out
}
