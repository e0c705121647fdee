//! The names of the ways requests spread over a provider's accounts and over a combo's members.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How a provider's accounts take turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Always the first healthy account by priority: use one up before touching the next.
    FillFirst,
    /// Each request starts at the next account.
    RoundRobin,
    /// Round-robin, but each account serves N requests in a row (keeps prompt caches warm).
    StickyRoundRobin,
    /// The account that has served the fewest requests.
    LeastUsed,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Self::FillFirst, Self::RoundRobin, Self::StickyRoundRobin, Self::LeastUsed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FillFirst => "fill-first",
            Self::RoundRobin => "round-robin",
            Self::StickyRoundRobin => "sticky-round-robin",
            Self::LeastUsed => "least-used",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sticky" => Ok(Self::StickyRoundRobin),
            _ => Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
                format!("unknown strategy '{s}': expected fill-first, round-robin, sticky-round-robin (or sticky) or least-used")
            }),
        }
    }
}

/// How a combo uses its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComboStrategy {
    /// Members in order; the next one answers when one fails.
    Fallback,
    /// Each request starts at the next member, then falls back through the others.
    RoundRobin,
    /// Every member answers in parallel; a judge model writes the final answer from theirs.
    Synthesize,
}

impl ComboStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fallback => "fallback",
            Self::RoundRobin => "round-robin",
            Self::Synthesize => "synthesize",
        }
    }
}

impl FromStr for ComboStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fallback" => Ok(Self::Fallback),
            "round-robin" => Ok(Self::RoundRobin),
            "synthesize" => Ok(Self::Synthesize),
            _ => Err(format!("unknown combo strategy '{s}': expected fallback, round-robin or synthesize")),
        }
    }
}
