//! Kiro's reasoning, which it carries in text: the tags in the prompt that turn it on, an
//! earlier turn's reasoning written back as a `<thinking>` block, and the `<thinking>` block
//! that opens an answer split out of the answer's text as it streams (a tag may arrive cut
//! across frames).

use super::ir::{Part, Reasoning, StreamEvent};

const OPEN: &str = "<thinking>";
const CLOSE: &str = "</thinking>";

/// The prompt tags that ask Kiro to reason first, within the request's budget.
pub fn mode_tags(reasoning: &Reasoning) -> String {
    format!("<thinking_mode>enabled</thinking_mode><max_thinking_length>{}</max_thinking_length>", reasoning.budget())
}

/// An assistant turn's reasoning as the block Kiro writes it in (empty when it has none).
pub fn written_back(parts: &[Part]) -> String {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Thinking { text, .. } if !text.is_empty() => Some(format!("{OPEN}{text}{CLOSE}\n\n")),
            _ => None,
        })
        .collect()
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Phase {
    /// Nothing but blanks and maybe the start of OPEN seen so far.
    #[default]
    Opening,
    Thinking,
    /// Just after CLOSE: the blank lines that follow it are dropped.
    Closed,
    Text,
}

/// Splits the answer's text into reasoning (a `<thinking>` block at its very start) and text.
#[derive(Debug, Default)]
pub struct ThinkingSplitter {
    phase: Phase,
    held: String,
}

/// The length of the longest end of `text` that begins `tag` (and could be the rest of it to come).
fn partial_tag_at_end(text: &str, tag: &str) -> usize {
    (1..tag.len()).rev().find(|&k| text.ends_with(&tag[..k])).unwrap_or(0)
}

impl ThinkingSplitter {
    /// The events for the next piece of the answer's text.
    pub fn push(&mut self, piece: &str) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        self.held.push_str(piece);
        loop {
            match self.phase {
                Phase::Opening => {
                    let trimmed = self.held.trim_start();
                    if let Some(rest) = trimmed.strip_prefix(OPEN) {
                        self.held = rest.to_string();
                        self.phase = Phase::Thinking;
                    } else if OPEN.starts_with(trimmed) {
                        return out;
                    } else {
                        self.phase = Phase::Text;
                    }
                }
                Phase::Thinking => {
                    if let Some(at) = self.held.find(CLOSE) {
                        if at > 0 {
                            out.push(StreamEvent::ThinkingDelta(self.held[..at].to_string()));
                        }
                        self.held.drain(..at + CLOSE.len());
                        self.phase = Phase::Closed;
                        continue;
                    }
                    let ready = self.held.len() - partial_tag_at_end(&self.held, CLOSE);
                    if ready > 0 {
                        out.push(StreamEvent::ThinkingDelta(self.held.drain(..ready).collect()));
                    }
                    return out;
                }
                Phase::Closed => {
                    let rest = self.held.trim_start();
                    if rest.is_empty() {
                        self.held.clear();
                        return out;
                    }
                    self.held = rest.to_string();
                    self.phase = Phase::Text;
                }
                Phase::Text => {
                    if !self.held.is_empty() {
                        out.push(StreamEvent::TextDelta(std::mem::take(&mut self.held)));
                    }
                    return out;
                }
            }
        }
    }

    /// What is held back, at the end of the text (the answer ends or a tool call begins).
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        let held = std::mem::take(&mut self.held);
        let phase = std::mem::replace(&mut self.phase, Phase::Text);
        match phase {
            Phase::Opening if !held.is_empty() => vec![StreamEvent::TextDelta(held)],
            Phase::Thinking if !held.is_empty() => vec![StreamEvent::ThinkingDelta(held)],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reasoning and the text `pieces` come to.
    fn split(pieces: &[&str]) -> (String, String) {
        let mut s = ThinkingSplitter::default();
        let mut events: Vec<StreamEvent> = pieces.iter().flat_map(|p| s.push(p)).collect();
        events.extend(s.finish());
        let (mut thought, mut text) = (String::new(), String::new());
        for e in events {
            match e {
                StreamEvent::ThinkingDelta(t) => thought.push_str(&t),
                StreamEvent::TextDelta(t) => text.push_str(&t),
                other => panic!("unexpected {other:?}"),
            }
        }
        (thought, text)
    }

    #[test]
    fn a_thinking_block_at_the_start_is_split_out_wherever_the_pieces_are_cut() {
        let answer = "<thinking>Plan: read é first.</thinking>\n\nDone. <thinking>stays text</thinking>";
        let chars: Vec<String> = answer.chars().map(String::from).collect();
        let one_by_one: Vec<&str> = chars.iter().map(String::as_str).collect();
        for pieces in [
            vec![answer],
            one_by_one,
            vec!["<thi", "nking>Plan: read é first.</thin", "king>\n", "\nDone. <thinking>stays text</thinking>"],
        ] {
            assert_eq!(split(&pieces), ("Plan: read é first.".into(), "Done. <thinking>stays text</thinking>".into()));
        }
    }

    #[test]
    fn text_that_only_looks_like_the_tag_stays_text() {
        assert_eq!(split(&["<thi", "s is html>"]), (String::new(), "<this is html>".into()));
        assert_eq!(split(&["<thin"]), (String::new(), "<thin".into()), "held back, then told at the end");
        assert_eq!(split(&["<thinking>cut off"]), ("cut off".into(), String::new()));
    }

    #[test]
    fn the_mode_and_earlier_reasoning_are_written_as_kiro_reads_them() {
        let reasoning = Reasoning { effort: None, budget_tokens: Some(4096) };
        assert_eq!(
            mode_tags(&reasoning),
            "<thinking_mode>enabled</thinking_mode><max_thinking_length>4096</max_thinking_length>"
        );
        let parts = vec![Part::Thinking { text: "why".into(), signature: Some("sig".into()) }, Part::Text("so".into())];
        assert_eq!(written_back(&parts), "<thinking>why</thinking>\n\n");
    }
}
