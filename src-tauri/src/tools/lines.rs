//! Files of one level of `key<separator>value` lines, edited one line at a time so the rest
//! stays byte for byte: `.env` files (`KEY=value`, `export KEY=value`) and the top-level
//! `key: value` lines of a YAML file (the YAML module parses the file; this edits its lines).

use serde_json::Value;

/// The syntax of a one-level `key<separator>value` file.
pub struct LineSyntax {
    /// `=` or `:`.
    separator: char,
    /// `export KEY=...` is a key line too (.env).
    export_prefix: bool,
    /// Values are always written double-quoted (YAML: a URL or a key never turns into another
    /// type); otherwise only when they need it.
    always_quote: bool,
}

pub const DOTENV: LineSyntax = LineSyntax { separator: '=', export_prefix: true, always_quote: false };
pub const YAML_KEYS: LineSyntax = LineSyntax { separator: ':', export_prefix: false, always_quote: true };

impl LineSyntax {
    pub fn key_of<'a>(&self, line: &'a str) -> Option<&'a str> {
        if line.starts_with([' ', '\t', '-', '#']) {
            return None;
        }
        let line = if self.export_prefix { line.strip_prefix("export ").unwrap_or(line) } else { line };
        let (key, rest) = line.split_once(self.separator)?;
        // YAML: `key:` ends with the colon or a space follows it (`http://` is not a key).
        if self.separator == ':' && !(rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n'])) {
            return None;
        }
        Some(key.trim())
    }

    pub fn read(&self, text: &str, path: &[&str]) -> Option<Value> {
        let [key] = path else { return None };
        let line = text.lines().rev().find(|l| self.key_of(l) == Some(key))?;
        let raw = line.split_once(self.separator)?.1.trim();
        let value = if let Some(quoted) = raw.strip_prefix('"') {
            let end = quoted.rfind('"')?;
            serde_json::from_str::<String>(&format!("\"{}\"", &quoted[..end]))
                .unwrap_or_else(|_| quoted[..end].to_string())
        } else if let Some(quoted) = raw.strip_prefix('\'') {
            quoted.rsplit_once('\'').map_or(quoted, |(v, _)| v).to_string()
        } else {
            raw.split(" #").next().unwrap_or(raw).trim().to_string()
        };
        Some(Value::String(value))
    }

    pub fn line(&self, key: &str, value: &Value) -> String {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let separator = if self.separator == ':' { ": " } else { "=" };
        if self.always_quote || text.chars().any(|c| c.is_whitespace() || c == '#' || c == '"' || c == '\'') {
            format!("{key}{separator}{}", Value::String(text))
        } else {
            format!("{key}{separator}{text}")
        }
    }

    pub fn write(&self, text: &str, path: &[&str], value: Option<&Value>) -> String {
        let [key] = path else { return text.to_string() };
        let mut out = String::with_capacity(text.len() + 64);
        let mut done = false;
        for line in text.split_inclusive('\n') {
            if self.key_of(line) == Some(key) {
                if let (Some(value), false) = (value, done) {
                    let ending = if line.ends_with("\r\n") {
                        "\r\n"
                    } else if line.ends_with('\n') {
                        "\n"
                    } else {
                        ""
                    };
                    out.push_str(&self.line(key, value));
                    out.push_str(ending);
                    done = true;
                }
                continue;
            }
            out.push_str(line);
        }
        if let (Some(value), false) = (value, done) {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&self.line(key, value));
            out.push('\n');
        }
        out
    }
}
