//! The bottom layer: plain types and functions that every other module may use and that
//! use nothing of the crate: the names of kinds and strategies (`kinds`), the settings
//! (`settings`), what a request cost (`records`), the clock, the default port, how requests
//! leave the machine (`ProxyChoice`) and how an error is told (`error_chain`).

pub mod records;
pub use switchyard_api::kinds;
pub mod settings;

pub use settings::DEFAULT_PORT;

/// The user agent of every request Switchyard itself makes.
pub const USER_AGENT: &str = concat!("switchyard/", env!("CARGO_PKG_VERSION"));

/// Milliseconds since the Unix epoch (0 for a time before it).
pub fn unix_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    unix_ms(std::time::SystemTime::now())
}

/// How a provider's requests leave the machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProxyChoice {
    /// The environment's HTTP(S)_PROXY / NO_PROXY, if any (reqwest's default).
    Environment,
    /// Straight to the provider, whatever the environment says.
    Direct,
    /// Through this proxy (http://, https://, socks5://, socks5h://), except for `no_proxy` hosts.
    Url { url: String, no_proxy: String },
}

/// The innermost causes of an error, joined: reqwest's top-level message alone ("error sending
/// request") does not say what went wrong.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
