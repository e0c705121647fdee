//! YAML configs of coding tools (Aider's `.aider.conf.yml`, Continue's `config.yaml`): parsed
//! with yaml-rust2 to check and read them, edited line by line so comments, order and layout
//! stay. Two kinds of owned keys: a top-level `key: value` line, and one element of a top-level
//! block list (`models:` … `- name: Switchyard`), picked by a `[field=value]` path name.

use super::edit::{element_selector, EditError};
use super::lines::YAML_KEYS;
use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

fn malformed(message: impl Into<String>) -> EditError {
    EditError::Malformed { format: "YAML", message: message.into() }
}

/// The file's top-level mapping (Null for an empty file).
fn root(text: &str) -> Result<Yaml, EditError> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| malformed(e.to_string()))?;
    match docs.into_iter().next() {
        None | Some(Yaml::Null) => Ok(Yaml::Null),
        Some(hash @ Yaml::Hash(_)) => Ok(hash),
        Some(_) => Err(malformed("the top level is not a mapping")),
    }
}

fn unsupported(path: &[&str]) -> EditError {
    EditError::Unsupported { path: path.join("."), reason: "Switchyard edits top-level keys and list elements in YAML" }
}

pub fn check(text: &str) -> Result<(), EditError> {
    root(text).map(|_| ())
}

fn to_json(yaml: &Yaml) -> Option<Value> {
    Some(match yaml {
        Yaml::Real(r) => r.parse::<f64>().ok().map(Value::from)?,
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(items.iter().filter_map(to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .filter_map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        other => to_json(other)?.to_string(),
                    };
                    Some((key, to_json(v)?))
                })
                .collect(),
        ),
        Yaml::Null => Value::Null,
        Yaml::Alias(_) | Yaml::BadValue => return None,
    })
}

/// The element of `list` whose `field` is `wanted`.
fn element<'a>(list: &'a Yaml, field: &str, wanted: &str) -> Option<&'a Yaml> {
    list.as_vec()?.iter().find(|item| item[field].as_str() == Some(wanted))
}

pub fn read(text: &str, path: &[&str]) -> Result<Option<Value>, EditError> {
    let doc = root(text)?;
    Ok(match path {
        [key] => to_json(&doc[*key]),
        [list, name] => match element_selector(name) {
            Some((field, wanted)) => element(&doc[*list], field, wanted).and_then(to_json),
            None => to_json(&doc[*list][*name]),
        },
        _ => None,
    })
}

pub fn write(text: &str, path: &[&str], value: Option<&Value>) -> Result<String, EditError> {
    let doc = root(text)?;
    match path {
        [_] => Ok(YAML_KEYS.write(text, path, value)),
        [list, name] => {
            let Some((field, wanted)) = element_selector(name) else { return Err(unsupported(path)) };
            match &doc[*list] {
                Yaml::Array(_) | Yaml::Null | Yaml::BadValue => {}
                other => {
                    return Err(EditError::NotAList {
                        key: list.to_string(),
                        found: if other.as_hash().is_some() { "mapping" } else { "value" },
                    })
                }
            }
            write_element(text, list, field, wanted, value)
        }
        _ => Err(unsupported(path)),
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with('#')
}

fn is_item_start(line: &str, indent: usize) -> bool {
    indent_of(line) == indent && {
        let rest = line[indent..].trim_end();
        rest == "-" || rest.starts_with("- ")
    }
}

/// A YAML scalar or flow value for `value`: strings double-quoted (a URL or a key never turns
/// into another type), lists and objects as JSON, which is YAML's flow style.
fn scalar(value: &Value) -> String {
    value.to_string()
}

/// The lines of a list element holding `value` (an object), `field` first.
fn render(value: &Value, field: &str, indent: usize, newline: &str) -> String {
    let pad = " ".repeat(indent);
    let mut pairs: Vec<(&String, &Value)> = value.as_object().map(|m| m.iter().collect()).unwrap_or_default();
    pairs.sort_by_key(|(k, _)| k.as_str() != field);
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        let lead = if i == 0 { "- " } else { "  " };
        out.push_str(&format!("{pad}{lead}{key}: {}{newline}", scalar(value)));
    }
    out
}

/// Sets, replaces or removes the element of the top-level block list `list` whose `field` is
/// `wanted`. A new element goes first in the list (tools that take the first entry as their
/// default then use Switchyard's); every other line stays as it was.
fn write_element(
    text: &str,
    list: &str,
    field: &str,
    wanted: &str,
    value: Option<&Value>,
) -> Result<String, EditError> {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let Some(key_at) = lines.iter().position(|l| YAML_KEYS.key_of(l) == Some(list)) else {
        let Some(value) = value else { return Ok(text.to_string()) };
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(newline);
        }
        out.push_str(&format!("{list}:{newline}"));
        out.push_str(&render(value, field, 2, newline));
        return Ok(out);
    };
    let inline = lines[key_at].split_once(':').map_or("", |(_, rest)| rest).trim();
    let inline = inline.split(" #").next().unwrap_or(inline).trim();
    if !inline.is_empty() && !inline.starts_with('#') {
        if inline != "[]" {
            return Err(EditError::Unsupported {
                path: list.to_string(),
                reason: "the list is written inline (flow style); Switchyard edits block lists only",
            });
        }
        if value.is_none() {
            return Ok(text.to_string());
        }
        lines[key_at] = format!("{list}:{newline}");
    }
    // The block: the lines after the key up to the next top-level key.
    let mut end = key_at + 1;
    for (i, line) in lines.iter().enumerate().skip(key_at + 1) {
        if is_blank_or_comment(line) {
            continue;
        }
        if line.starts_with([' ', '\t', '-']) {
            end = i + 1;
        } else {
            break;
        }
    }
    let first_item = (key_at + 1..end).find(|&i| !is_blank_or_comment(&lines[i]));
    let item_indent = first_item.map_or(2, |i| indent_of(&lines[i]));
    let starts: Vec<usize> = (key_at + 1..end).filter(|&i| is_item_start(&lines[i], item_indent)).collect();
    let mut owned = None;
    for (n, &start) in starts.iter().enumerate() {
        let next = starts.get(n + 1).copied().unwrap_or(end);
        // The element ends at its last line of content; comments after it stay.
        let stop = (start..next).rev().find(|&i| !is_blank_or_comment(&lines[i])).map_or(start + 1, |i| i + 1);
        let body: String = lines[start..stop].iter().map(|l| l.get(item_indent..).unwrap_or(l.trim_start())).collect();
        let parsed = YamlLoader::load_from_str(&body).ok().and_then(|d| d.into_iter().next());
        if parsed.as_ref().and_then(|p| element(p, field, wanted)).is_some() {
            owned = Some((start, stop));
            break;
        }
    }
    match (owned, value) {
        (Some((start, stop)), Some(value)) => {
            lines.splice(start..stop, [render(value, field, item_indent, newline)]);
        }
        (None, Some(value)) => {
            let at = starts.first().copied().unwrap_or(key_at + 1);
            lines.insert(at, render(value, field, item_indent, newline));
        }
        (Some((start, stop)), None) => {
            lines.drain(start..stop);
            // A list Switchyard's element was the last of goes too.
            if starts.len() == 1 {
                lines.remove(key_at);
            }
        }
        (None, None) => {}
    }
    Ok(lines.concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CONTINUE: &str = "# my continue config\nname: Local\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: Mine\n    provider: ollama # local\n    model: qwen\n  # a comment of mine\ncontext:\n  - provider: code\n";

    fn ours(model: &str) -> Value {
        json!({"name": "Switchyard", "provider": "openai", "model": model, "roles": ["chat", "edit"]})
    }

    #[test]
    fn a_list_element_is_added_first_replaced_in_place_and_removed_exactly() {
        let path = ["models", "[name=Switchyard]"];
        let set = write(CONTINUE, &path, Some(&ours("a"))).unwrap();
        assert_eq!(
            set,
            CONTINUE.replace(
                "models:\n",
                "models:\n  - name: \"Switchyard\"\n    model: \"a\"\n    provider: \"openai\"\n    roles: [\"chat\",\"edit\"]\n"
            )
        );
        assert_eq!(read(&set, &path).unwrap(), Some(ours("a")));
        assert_eq!(read(&set, &["models"]).unwrap().unwrap().as_array().unwrap().len(), 2);
        let again = write(&set, &path, Some(&ours("b"))).unwrap();
        assert_eq!(again, set.replace("model: \"a\"", "model: \"b\""));
        assert_eq!(write(&again, &path, None).unwrap(), CONTINUE);
    }

    #[test]
    fn a_missing_or_empty_list_is_made_and_goes_again() {
        let path = ["models", "[name=Switchyard]"];
        let text = "name: Local\nversion: 1.0.0\nschema: v1\n";
        let set = write(text, &path, Some(&ours("a"))).unwrap();
        assert!(set.starts_with(text) && set.contains("models:\n  - name: \"Switchyard\"\n"), "{set}");
        check(&set).unwrap();
        assert_eq!(write(&set, &path, None).unwrap(), text);
        let flow = write("models: []\n", &path, Some(&ours("a"))).unwrap();
        assert_eq!(read(&flow, &path).unwrap(), Some(ours("a")));
        // Items written at column 0 under their key keep that indentation.
        let flush = "models:\n- name: Mine\n  model: x\n";
        let set = write(flush, &path, Some(&ours("a"))).unwrap();
        assert!(set.starts_with("models:\n- name: \"Switchyard\"\n  model: \"a\"\n"), "{set}");
        assert_eq!(write(&set, &path, None).unwrap(), flush);
    }

    #[test]
    fn malformed_or_unexpected_shapes_are_refused() {
        let path = ["models", "[name=Switchyard]"];
        assert!(matches!(write("models: [a\n", &path, Some(&ours("a"))), Err(EditError::Malformed { .. })));
        assert!(matches!(write("- a\n- b\n", &path, Some(&ours("a"))), Err(EditError::Malformed { .. })));
        assert!(matches!(write("models: 3\n", &path, Some(&ours("a"))), Err(EditError::NotAList { .. })));
        assert!(matches!(write("models: [{name: x}]\n", &path, Some(&ours("a"))), Err(EditError::Unsupported { .. })));
    }
}
