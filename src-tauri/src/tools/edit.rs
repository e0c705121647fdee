//! Edits of other programs' configuration files that change only the keys asked for and keep
//! everything else byte for byte: JSON and JSONC through a concrete syntax tree (comments,
//! order and spacing kept; jsonc-parser), TOML through toml_edit (comments and layout kept),
//! `.env` files line by line (`lines`) and YAML through its own module (`yaml`). A key is a
//! path of names (`["env", "ANTHROPIC_BASE_URL"]`); a last name `[field=value]` picks the
//! element of a list whose `field` is `value` (Droid's and Continue's model lists). A value is
//! JSON (strings, numbers, booleans, lists, objects).

use super::lines::DOTENV;
use super::yaml;
use serde_json::Value;

/// The formats of the files Switchyard edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// JSON, or JSON with comments and trailing commas.
    Json,
    Toml,
    /// `KEY=value` lines (one level of keys).
    DotEnv,
    /// YAML: top-level `key: value` lines and elements of top-level block lists (the rest of
    /// the file, nested blocks included, is left as it is).
    Yaml,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EditError {
    #[error("it is not valid {format}: {message}")]
    Malformed { format: &'static str, message: String },
    #[error("'{key}' holds a {found}, not a table or object, so '{path}' cannot be set inside it")]
    NotATable { key: String, path: String, found: &'static str },
    #[error("'{key}' holds a {found}, not a list")]
    NotAList { key: String, found: &'static str },
    #[error("'{path}' cannot be edited: {reason}")]
    Unsupported { path: String, reason: &'static str },
}

/// `[field=value]`, the name that picks the element of a list whose `field` is `value`.
pub fn element_selector(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix('[')?.strip_suffix(']')?.split_once('=')
}

impl FileFormat {
    /// Checks that the text parses (an empty text is an empty file).
    pub fn check(self, text: &str) -> Result<(), EditError> {
        match self {
            Self::Json => json_root(text).map(|_| ()),
            Self::Toml => toml_doc(text).map(|_| ()),
            Self::DotEnv => Ok(()),
            Self::Yaml => yaml::check(text),
        }
    }

    /// The value at `path`, if the file has one.
    pub fn read(self, text: &str, path: &[&str]) -> Result<Option<Value>, EditError> {
        match self {
            Self::Json => json_read(text, path),
            Self::Toml => toml_read(text, path),
            Self::DotEnv => Ok(DOTENV.read(text, path)),
            Self::Yaml => yaml::read(text, path),
        }
    }

    /// Sets `path` to `value` (creating the objects or tables on the way), or removes it when
    /// `value` is None; the rest of the text stays as it was.
    pub fn write(self, text: &str, path: &[&str], value: Option<&Value>) -> Result<String, EditError> {
        match self {
            Self::Json => json_write(text, path, value),
            Self::Toml => toml_write(text, path, value),
            Self::DotEnv => Ok(DOTENV.write(text, path, value)),
            Self::Yaml => yaml::write(text, path, value),
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
    if let Some((name, list)) = path.split_last() {
        if let Some((field, wanted)) = element_selector(name) {
            let Some(Value::Array(items)) = json_read(text, list)? else { return Ok(None) };
            return Ok(items.into_iter().find(|item| item.get(field).and_then(Value::as_str) == Some(wanted)));
        }
    }
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

/// The object at `parents` (made on the way when `create`), or None when it is missing and
/// not to be made.
fn json_parent(
    root: &jsonc_parser::cst::CstRootNode,
    parents: &[&str],
    path: &[&str],
    create: bool,
) -> Result<Option<jsonc_parser::cst::CstObject>, EditError> {
    let mut object = root.object_value_or_set();
    for (i, name) in parents.iter().enumerate() {
        match object.get(name) {
            Some(prop) => match prop.object_value() {
                Some(inner) => object = inner,
                None if !create => return Ok(None),
                None => {
                    return Err(EditError::NotATable {
                        key: path[..=i].join("."),
                        path: path.join("."),
                        found: "value",
                    })
                }
            },
            None if !create => return Ok(None),
            None => object = object.object_value_or_set(name),
        }
    }
    Ok(Some(object))
}

fn json_write(text: &str, path: &[&str], value: Option<&Value>) -> Result<String, EditError> {
    let Some((last, parents)) = path.split_last() else { return Ok(text.to_string()) };
    if let Some((field, wanted)) = element_selector(last) {
        return json_write_element(text, parents, (field, wanted), value);
    }
    let root = json_root(text)?;
    let Some(object) = json_parent(&root, parents, path, value.is_some())? else { return Ok(root.to_string()) };
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

/// Sets, replaces in place or removes the element of the list at `list` whose `field` is
/// `wanted`; a new element goes last. A list left empty by a removal goes too.
fn json_write_element(
    text: &str,
    list: &[&str],
    (field, wanted): (&str, &str),
    value: Option<&Value>,
) -> Result<String, EditError> {
    let Some((name, parents)) = list.split_last() else { return Ok(text.to_string()) };
    let root = json_root(text)?;
    let Some(object) = json_parent(&root, parents, list, value.is_some())? else { return Ok(root.to_string()) };
    let array = match object.get(name) {
        Some(prop) => match prop.value() {
            Some(v) => v.as_array().ok_or(EditError::NotAList { key: list.join("."), found: "value" })?,
            None => return Ok(root.to_string()),
        },
        None if value.is_none() => return Ok(root.to_string()),
        None => object.array_value_or_set(name),
    };
    let elements = array.elements();
    let found = elements.iter().enumerate().find(|(_, e)| {
        e.to_serde_value().and_then(|v| v.get(field).and_then(Value::as_str).map(|s| s == wanted)).unwrap_or(false)
    });
    match (found, value) {
        (Some((index, element)), Some(value)) => {
            element.clone().remove();
            array.insert(index, to_input(value));
        }
        (None, Some(value)) => {
            array.append(to_input(value));
        }
        (Some((_, element)), None) => {
            let last_one = elements.len() == 1;
            element.clone().remove();
            if last_one {
                if let Some(prop) = object.get(name) {
                    prop.remove();
                }
                json_prune(&root, parents);
            }
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
    fn a_json_list_element_is_added_replaced_in_place_and_removed() {
        let text = "{\n  // mine\n  \"customModels\": [\n    {\"model\": \"m\", \"displayName\": \"Mine\"}\n  ],\n  \"x\": 1\n}\n";
        let path = ["customModels", "[displayName=Switchyard]"];
        let ours = |model: &str| json!({"displayName": "Switchyard", "model": model});
        let set = FileFormat::Json.write(text, &path, Some(&ours("a"))).unwrap();
        assert!(set.contains("// mine") && set.contains("\"Mine\""), "{set}");
        assert_eq!(FileFormat::Json.read(&set, &path).unwrap(), Some(ours("a")));
        let again = FileFormat::Json.write(&set, &path, Some(&ours("b"))).unwrap();
        assert_eq!(FileFormat::Json.read(&again, &path).unwrap(), Some(ours("b")));
        let list = FileFormat::Json.read(&again, &["customModels"]).unwrap().unwrap();
        assert_eq!(list.as_array().map(Vec::len), Some(2), "{again}");
        let back = FileFormat::Json.write(&again, &path, None).unwrap();
        assert_eq!(
            FileFormat::Json.read(&back, &["customModels"]).unwrap(),
            Some(json!([{"model": "m", "displayName": "Mine"}]))
        );
        // A list made for the element goes with it.
        let made = FileFormat::Json.write("{}", &path, Some(&ours("a"))).unwrap();
        let gone = FileFormat::Json.write(&made, &path, None).unwrap();
        assert_eq!(FileFormat::Json.read(&gone, &["customModels"]).unwrap(), None, "{gone}");
        assert!(matches!(
            FileFormat::Json.write("{\"customModels\": 3}", &path, Some(&ours("a"))),
            Err(EditError::NotAList { .. })
        ));
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
        let yaml_set = FileFormat::Yaml.write(yaml, &["model"], Some(&json!("openai/coding"))).unwrap();
        let yaml_set =
            FileFormat::Yaml.write(&yaml_set, &["openai-api-base"], Some(&json!("http://127.0.0.1:1/v1"))).unwrap();
        assert_eq!(yaml_set, "# aider\nmodel: \"openai/coding\"\nlint-cmd:\n  - \"python: flake8\"\nopenai-api-base: \"http://127.0.0.1:1/v1\"\n");
        assert_eq!(FileFormat::Yaml.read(yaml, &["model"]).unwrap(), Some(json!("gpt-4o")));
        assert_eq!(
            FileFormat::Yaml.read(&yaml_set, &["openai-api-base"]).unwrap(),
            Some(json!("http://127.0.0.1:1/v1"))
        );
        assert_eq!(FileFormat::DotEnv.read(&set, &["GEMINI_API_KEY"]).unwrap(), Some(json!("new key")));
        let added = FileFormat::DotEnv.write("OTHER=1", &["X"], Some(&json!("y"))).unwrap();
        assert_eq!(added, "OTHER=1\nX=y\n");
        assert_eq!(FileFormat::DotEnv.write(&added, &["X"], None).unwrap(), "OTHER=1\n");
    }
}
