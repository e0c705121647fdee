//! The layers hold: every `crate::X` path in the gateway's sources points to a top-level module
//! in a lower layer than its own (the order is the one written in src-tauri/src/lib.rs, in the
//! line that starts `//! Layers, bottom first:`), and no crate of the workspace (the gateway,
//! the dashboard) has a dependency cycle between its top-level modules. As the no-op tests
//! guard pass-through, this guards the way down: an import that goes up a layer fails here,
//! naming the file and the line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// One use of another top-level module: (from, to, file:line).
type Edge = (String, String, String);

/// Every `crate::X` in the crate at `src` (comments left out), as edges between top-level
/// modules.
fn edges(src: &Path) -> Vec<Edge> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let mut first = relative.components().next().unwrap().as_os_str().to_string_lossy().to_string();
        if let Some(stem) = first.strip_suffix(".rs") {
            first = stem.to_string();
        }
        if matches!(first.as_str(), "lib" | "main") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let target: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !target.is_empty() && target != first {
                    found.push((first.clone(), target, format!("{}:{}", file.display(), n + 1)));
                }
            }
        }
    }
    found
}

/// The cycles among the modules, as the sets of modules that reach each other.
fn cycles(edges: &[Edge]) -> Vec<BTreeSet<String>> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to, _) in edges {
        graph.entry(from).or_default().insert(to);
    }
    let reach = |start: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(m) = todo.pop() {
            for next in graph.get(m).into_iter().flatten() {
                if seen.insert(*next) {
                    todo.push(next);
                }
            }
        }
        seen
    };
    let mut found: Vec<BTreeSet<String>> = Vec::new();
    for module in graph.keys() {
        let from_here = reach(module);
        if !from_here.contains(module) {
            continue;
        }
        let component: BTreeSet<String> =
            from_here.iter().filter(|other| reach(other).contains(module)).map(|s| s.to_string()).collect();
        if !found.contains(&component) {
            found.push(component);
        }
    }
    found
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = Path::new(ROOT).join("src-tauri/src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let order_line = lib
        .lines()
        .find_map(|l| l.strip_prefix("//! Layers, bottom first:"))
        .expect("lib.rs states the layer order in a line starting '//! Layers, bottom first:'");
    let order: Vec<&str> = order_line.split(['→', ',']).map(str::trim).filter(|m| !m.is_empty()).collect();
    let rank = |m: &str| order.iter().position(|o| *o == m);
    let mut wrong = Vec::new();
    for (from, to, at) in edges(&src) {
        match (rank(&from), rank(&to)) {
            (Some(f), Some(t)) if t < f => {}
            (None, _) => wrong.push(format!("{at}: module '{from}' is not in the layer order")),
            (_, None) => wrong.push(format!("{at}: '{from}' uses 'crate::{to}', which is not in the layer order")),
            _ => wrong
                .push(format!("{at}: '{from}' uses 'crate::{to}', a layer above it (order: {})", order.join(" → "))),
        }
    }
    assert!(wrong.is_empty(), "{} imports go up a layer:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn no_crate_has_a_cycle_between_its_top_level_modules() {
    for src in ["src-tauri/src", "src-tauri/api/src", "ui/src"] {
        let found = cycles(&edges(&Path::new(ROOT).join(src)));
        assert!(found.is_empty(), "{src}: modules that import each other: {found:?}");
    }
}

#[test]
fn the_checker_sees_a_cycle() {
    let edge = |a: &str, b: &str| (a.to_string(), b.to_string(), String::new());
    let found = cycles(&[
        edge("store", "routing"),
        edge("routing", "snapshot"),
        edge("snapshot", "store"),
        edge("cli", "store"),
    ]);
    assert_eq!(found, vec![["routing", "snapshot", "store"].iter().map(|s| s.to_string()).collect::<BTreeSet<_>>()]);
    assert!(cycles(&[edge("cli", "store"), edge("store", "base")]).is_empty());
}
