//! Edits of other programs' configuration files that change only the keys asked for and keep
//! everything else byte for byte: JSON and JSONC through a concrete syntax tree (comments,
//! order and spacing kept; jsonc-parser), TOML through toml_edit (comments and layout kept),
//! and `.env` and flat YAML files (Aider's) line by line. A key is a path of names (`["env", "ANTHROPIC_BASE_URL"]`);
//! a value is JSON (strings, numbers, booleans, objects).

use serde_json::Value;

/// The formats of the files Switchyard edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// JSON, or JSON with comments and trailing commas.
    Json,
    Toml,
    /// `KEY=value` lines (one level of keys).
    DotEnv,
    /// Top-level `key: value` lines of a YAML file (one level of keys; the rest of the file,
    /// nested blocks included, is left as it is).
    FlatYaml,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EditError {
    #[error("it is not valid {format}: {message}")]
    Malformed { format: &'static str, message: String },
    #[error("'{key}' holds a {found}, not a table or object, so '{path}' cannot be set inside it")]
    NotATable { key: String, path: String, found: &'static str },
}

impl FileFormat {
    /// Checks that the text parses (an empty text is an empty file).
    pub fn check(self, text: &str) -> Result<(), EditError> {
        match self {
            Self::Json => json_root(text).map(|_| ()),
            Self::Toml => toml_doc(text).map(|_| ()),
            Self::DotEnv | Self::FlatYaml => Ok(()),
        }
    }

    /// The value at `path`, if the file has one.
    pub fn read(self, text: &str, path: &[&str]) -> Result<Option<Value>, EditError> {
        match self {
            Self::Json => json_read(text, path),
            Self::Toml => toml_read(text, path),
            Self::DotEnv => Ok(DOTENV.read(text, path)),
            Self::FlatYaml => Ok(FLAT_YAML.read(text, path)),
        }
    }

    /// Sets `path` to `value` (creating the objects or tables on the way), or removes it when
    /// `value` is None; the rest of the text stays as it was.
    pub fn write(self, text: &str, path: &[&str], value: Option<&Value>) -> Result<String, EditError> {
        match self {
            Self::Json => json_write(text, path, value),
            Self::Toml => toml_write(text, path, value),
            Self::DotEnv => Ok(DOTENV.write(text, path, value)),
            Self::FlatYaml => Ok(FLAT_YAML.write(text, path, value)),
        }
    }
}

// ---- JSON / JSONC

fn json_root(text: &str) -> Result<jsonc_parser::cst::CstRootNode, EditError> {
    let source = if text.trim().is_empty() { "{}\n" } else { text };
    let root = jsonc_parser::cst::CstRootNode::parse(source, &jsonc_parser::ParseOptions::default())
        .map_err(|e| EditError::Malformed { format: "JSON", message: e.to_string() })?;
    if root.value().is_some() && root.object_value().is_none() {
        return Err(EditError::Malformed { format: "JSON", message: "the top level is not an object".into() });
    }
    Ok(root)
}

fn json_read(text: &str, path: &[&str]) -> Result<Option<Value>, EditError> {
    let root = json_root(text)?;
    let Some(mut object) = root.object_value() else { return Ok(None) };
    for (i, name) in path.iter().enumerate() {
        let Some(prop) = object.get(name) else { return Ok(None) };
        if i + 1 == path.len() {
            return Ok(prop.value().and_then(|v| v.to_serde_value()));
        }
        match prop.object_value() {
            Some(inner) => object = inner,
            None => return Ok(None),
        }
    }
    Ok(None)
}

fn to_input(value: &Value) -> jsonc_parser::cst::CstInputValue {
    use jsonc_parser::cst::CstInputValue as In;
    match value {
        Value::Null => In::Null,
        Value::Bool(b) => In::Bool(*b),
        Value::Number(n) => In::Number(n.to_string()),
        Value::String(s) => In::String(s.clone()),
        Value::Array(items) => In::Array(items.iter().map(to_input).collect()),
        Value::Object(map) => In::Object(map.iter().map(|(k, v)| (k.clone(), to_input(v))).collect()),
    }
}

fn json_write(text: &str, path: &[&str], value: Option<&Value>) -> Result<String, EditError> {
    let Some((last, parents)) = path.split_last() else { return Ok(text.to_string()) };
    let root = json_root(text)?;
    let mut object = root.object_value_or_set();
    for (i, name) in parents.iter().enumerate() {
        match object.get(name) {
            Some(prop) => match prop.object_value() {
                Some(inner) => object = inner,
                None if value.is_none() => return Ok(root.to_string()),
                None => {
                    return Err(EditError::NotATable {
                        key: path[..=i].join("."),
                        path: path.join("."),
                        found: "value",
                    })
                }
            },
            None if value.is_none() => return Ok(root.to_string()),
            None => object = object.object_value_or_set(name),
        }
    }
    match (object.get(last), value) {
        (Some(prop), Some(value)) => prop.set_value(to_input(value)),
        (None, Some(value)) => {
            object.append(last, to_input(value));
        }
        (Some(prop), None) => {
            prop.remove();
            json_prune(&root, parents);
        }
        (None, None) => {}
    }
    Ok(root.to_string())
}

fn json_object_at(root: &jsonc_parser::cst::CstRootNode, path: &[&str]) -> Option<jsonc_parser::cst::CstObject> {
    let mut object = root.object_value()?;
    for name in path {
        object = object.object_value(name)?;
    }
    Some(object)
}

/// Removes the objects along `path` that a removal left empty, deepest first.
fn json_prune(root: &jsonc_parser::cst::CstRootNode, path: &[&str]) {
    for depth in (1..=path.len()).rev() {
        let empty = json_object_at(root, &path[..depth]).is_some_and(|o| o.properties().is_empty());
        if !empty {
            return;
        }
        if let Some(prop) = json_object_at(root, &path[..depth - 1]).and_then(|o| o.get(path[depth - 1])) {
            prop.remove();
        }
    }
}

// ---- TOML

fn toml_doc(text: &str) -> Result<toml_edit::DocumentMut, EditError> {
    text.parse::<toml_edit::DocumentMut>().map_err(|e| EditError::Malformed { format: "TOML", message: e.to_string() })
}

fn toml_to_json(item: &toml_edit::Item) -> Option<Value> {
    match item {
        toml_edit::Item::Value(v) => toml_value_to_json(v),
        toml_edit::Item::Table(t) => {
            Some(Value::Object(t.iter().filter_map(|(k, v)| Some((k.to_string(), toml_to_json(v)?))).collect()))
        }
        _ => None,
    }
}

fn toml_value_to_json(v: &toml_edit::Value) -> Option<Value> {
    Some(match v {
        toml_edit::Value::String(s) => Value::String(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::from(*i.value()),
        toml_edit::Value::Float(f) => Value::from(*f.value()),
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Array(a) => Value::Array(a.iter().filter_map(toml_value_to_json).collect()),
        toml_edit::Value::InlineTable(t) => {
            Value::Object(t.iter().filter_map(|(k, v)| Some((k.to_string(), toml_value_to_json(v)?))).collect())
        }
        toml_edit::Value::Datetime(d) => Value::String(d.value().to_string()),
    })
}

fn json_to_toml(value: &Value) -> toml_edit::Item {
    match value {
        Value::Object(map) => {
            let mut table = toml_edit::Table::new();
            for (k, v) in map {
                table.insert(k, json_to_toml(v));
            }
            toml_edit::Item::Table(table)
        }
        Value::Bool(b) => toml_edit::value(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml_edit::value(i),
            None => toml_edit::value(n.as_f64().unwrap_or_default()),
        },
        Value::Array(items) => {
            let mut array = toml_edit::Array::new();
            for item in items {
                if let toml_edit::Item::Value(v) = json_to_toml(item) {
                    array.push(v);
                }
            }
            toml_edit::Item::Value(toml_edit::Value::Array(array))
        }
        Value::String(s) => toml_edit::value(s.as_str()),
        Value::Null => toml_edit::Item::None,
    }
}

fn toml_read(text: &str, path: &[&str]) -> Result<Option<Value>, EditError> {
    let doc = toml_doc(text)?;
    let mut item = doc.as_item();
    for name in path {
        match item.get(name) {
            Some(inner) => item = inner,
            None => return Ok(None),
        }
    }
    Ok(toml_to_json(item))
}

fn toml_write(text: &str, path: &[&str], value: Option<&Value>) -> Result<String, EditError> {
    let Some((last, parents)) = path.split_last() else { return Ok(text.to_string()) };
    let mut doc = toml_doc(text)?;
    if value.is_none() && toml_read(text, path)?.is_none() {
        return Ok(text.to_string());
    }
    {
        let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
        for (i, name) in parents.iter().enumerate() {
            let parent = table;
            if parent.get(name).is_none() {
                let mut new = toml_edit::Table::new();
                new.set_implicit(true);
                parent.insert(name, toml_edit::Item::Table(new));
            }
            let not_a_table =
                |found: &'static str| EditError::NotATable { key: path[..=i].join("."), path: path.join("."), found };
            let item = parent.get_mut(name).ok_or_else(|| not_a_table("nothing"))?;
            let found = item.type_name();
            table = item.as_table_like_mut().ok_or_else(|| not_a_table(found))?;
        }
        match value {
            Some(value) => {
                let item = json_to_toml(value);
                match (table.get_mut(last), item) {
                    // A value replaced in place keeps its key, its comments and its spacing.
                    (Some(toml_edit::Item::Value(old)), toml_edit::Item::Value(mut new)) => {
                        *new.decor_mut() = old.decor().clone();
                        *old = new;
                    }
                    (_, item) => {
                        table.insert(last, item);
                    }
                }
            }
            None => {
                table.remove(last);
            }
        }
    }
    if value.is_none() {
        toml_prune(&mut doc, parents);
    }
    Ok(doc.to_string())
}

/// The table at `path`, if every step is one.
fn toml_table_at<'a>(doc: &'a mut toml_edit::DocumentMut, path: &[&str]) -> Option<&'a mut dyn toml_edit::TableLike> {
    let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    for name in path {
        table = table.get_mut(name)?.as_table_like_mut()?;
    }
    Some(table)
}

/// Removes the tables along `path` that a removal left empty, deepest first.
fn toml_prune(doc: &mut toml_edit::DocumentMut, path: &[&str]) {
    for depth in (1..=path.len()).rev() {
        let empty = toml_table_at(doc, &path[..depth]).is_some_and(|t| t.is_empty());
        if !empty {
            return;
        }
        if let Some(parent) = toml_table_at(doc, &path[..depth - 1]) {
            parent.remove(path[depth - 1]);
        }
    }
}

// ---- .env and flat YAML: one key a line

/// The syntax of a one-level `key<separator>value` file.
struct LineSyntax {
    /// `=` or `:`.
    separator: char,
    /// `export KEY=...` is a key line too (.env).
    export_prefix: bool,
    /// Values are always written double-quoted (YAML: a URL or a key never turns into another
    /// type); otherwise only when they need it.
    always_quote: bool,
}

const DOTENV: LineSyntax = LineSyntax { separator: '=', export_prefix: true, always_quote: false };
const FLAT_YAML: LineSyntax = LineSyntax { separator: ':', export_prefix: false, always_quote: true };

impl LineSyntax {
    fn key_of<'a>(&self, line: &'a str) -> Option<&'a str> {
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

    fn read(&self, text: &str, path: &[&str]) -> Option<Value> {
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

    fn line(&self, key: &str, value: &Value) -> String {
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

    fn write(&self, text: &str, path: &[&str], value: Option<&Value>) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JSONC: &str =
        "{\n  // the user's comment\n  \"theme\": \"dark\",\n  \"env\": {\n    \"KEEP\": \"1\"\n  },\n}\n";

    #[test]
    fn json_edits_keep_comments_and_other_keys_and_undo_exactly() {
        let set = FileFormat::Json.write(JSONC, &["env", "ANTHROPIC_BASE_URL"], Some(&json!("http://x"))).unwrap();
        assert!(set.contains("// the user's comment") && set.contains("\"KEEP\": \"1\""), "{set}");
        assert_eq!(FileFormat::Json.read(&set, &["env", "ANTHROPIC_BASE_URL"]).unwrap(), Some(json!("http://x")));
        let back = FileFormat::Json.write(&set, &["env", "ANTHROPIC_BASE_URL"], None).unwrap();
        assert_eq!(FileFormat::Json.read(&back, &["env", "ANTHROPIC_BASE_URL"]).unwrap(), None);
        assert!(back.contains("// the user's comment"));
        let created = FileFormat::Json.write("", &["model"], Some(&json!("m"))).unwrap();
        assert_eq!(FileFormat::Json.read(&created, &["model"]).unwrap(), Some(json!("m")));
    }

    #[test]
    fn malformed_files_are_refused_not_rewritten() {
        assert!(matches!(FileFormat::Json.write("{ nope", &["a"], Some(&json!(1))), Err(EditError::Malformed { .. })));
        assert!(matches!(FileFormat::Json.write("[1]", &["a"], Some(&json!(1))), Err(EditError::Malformed { .. })));
        assert!(matches!(FileFormat::Toml.write("a = = 1", &["a"], Some(&json!(1))), Err(EditError::Malformed { .. })));
        assert!(matches!(
            FileFormat::Json.write("{\"env\": 3}", &["env", "X"], Some(&json!("1"))),
            Err(EditError::NotATable { .. })
        ));
    }

    #[test]
    fn toml_edits_keep_comments_and_tables() {
        let text = "# my codex config\nmodel = \"gpt-5\" # the best\n\n[mcp_servers.docs]\ncommand = \"docs\"\n";
        let set = FileFormat::Toml.write(text, &["model"], Some(&json!("default"))).unwrap();
        let set = FileFormat::Toml
            .write(&set, &["model_providers", "switchyard", "base_url"], Some(&json!("http://127.0.0.1:1/v1")))
            .unwrap();
        assert!(set.starts_with("# my codex config\nmodel = \"default\" # the best\n"), "{set}");
        assert!(set.contains("[mcp_servers.docs]\ncommand = \"docs\"\n"), "{set}");
        assert!(set.contains("[model_providers.switchyard]\nbase_url = \"http://127.0.0.1:1/v1\""), "{set}");
        assert_eq!(
            FileFormat::Toml.read(&set, &["model_providers", "switchyard", "base_url"]).unwrap(),
            Some(json!("http://127.0.0.1:1/v1"))
        );
    }

    #[test]
    fn dotenv_edits_replace_or_append_one_line() {
        let text = "# keys\nOTHER=1\nGEMINI_API_KEY=old\n";
        let set = FileFormat::DotEnv.write(text, &["GEMINI_API_KEY"], Some(&json!("new key"))).unwrap();
        assert_eq!(set, "# keys\nOTHER=1\nGEMINI_API_KEY=\"new key\"\n");
        let yaml = "# aider\nmodel: gpt-4o  # mine\nlint-cmd:\n  - \"python: flake8\"\n";
        let yaml_set = FileFormat::FlatYaml.write(yaml, &["model"], Some(&json!("openai/coding"))).unwrap();
        let yaml_set =
            FileFormat::FlatYaml.write(&yaml_set, &["openai-api-base"], Some(&json!("http://127.0.0.1:1/v1"))).unwrap();
        assert_eq!(yaml_set, "# aider\nmodel: \"openai/coding\"\nlint-cmd:\n  - \"python: flake8\"\nopenai-api-base: \"http://127.0.0.1:1/v1\"\n");
        assert_eq!(FileFormat::FlatYaml.read(yaml, &["model"]).unwrap(), Some(json!("gpt-4o")));
        assert_eq!(
            FileFormat::FlatYaml.read(&yaml_set, &["openai-api-base"]).unwrap(),
            Some(json!("http://127.0.0.1:1/v1"))
        );
        assert_eq!(FileFormat::DotEnv.read(&set, &["GEMINI_API_KEY"]).unwrap(), Some(json!("new key")));
        let added = FileFormat::DotEnv.write("OTHER=1", &["X"], Some(&json!("y"))).unwrap();
        assert_eq!(added, "OTHER=1\nX=y\n");
        assert_eq!(FileFormat::DotEnv.write(&added, &["X"], None).unwrap(), "OTHER=1\n");
    }
}
