//! The backend's imports run one way (docs/architecture.md, "The modules and what each
//! owns"): every `crate::…` path in a backend source file, outside its unit tests, names a
//! module of the same layer or of a layer above it in the table there, never one below.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers of docs/architecture.md, top first: a module may import its own layer and
/// the layers before it in this list.
const LAYERS: [(&str, &[&str]); 9] = [
    (
        "support",
        &[
            "config",
            "text",
            "reference",
            "metrics",
            "telemetry",
            "headers",
            "serve",
            "tls",
        ],
    ),
    ("feeds", &["feeds"]),
    ("store", &["store"]),
    ("accounts", &["accounts", "audit"]),
    ("state", &["state"]),
    ("escalation", &["escalation"]),
    ("live", &["live", "history", "sim"]),
    ("routes", &["routes"]),
    ("app", &["app"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the backend's sources can be listed") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its unit tests and comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::`, with the text that
/// names each: `crate::store::Store`, and each name in `use crate::{a, b::c}`.
fn named_modules(code: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // `use crate::{a, b::{c, d}, e}`: the first name of each top-level item.
            let mut depth = 1;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && ch == ',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push((name.clone(), format!("crate::{{{}}}", item.trim())));
                    }
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    item.push(ch);
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((name.clone(), format!("crate::{name}")));
            }
        }
        rest = after;
    }
    out
}

#[test]
fn imports_run_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../backend/src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    assert!(files.len() > 50, "found only {} backend files", files.len());
    let mut wrong = Vec::new();
    let mut per_layer: BTreeMap<&str, usize> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under backend/src");
        let top = relative
            .iter()
            .next()
            .and_then(|c| c.to_str())
            .map(|c| c.trim_end_matches(".rs"))
            .unwrap_or_default();
        if top == "lib" || top == "main" {
            // The crate root declares the modules; the binary is the edge above `app`.
            continue;
        }
        let Some(own) = layer_of(top) else {
            wrong.push(format!(
                "{}: the module {top} has no layer (give it one in docs/architecture.md and here)",
                relative.display()
            ));
            continue;
        };
        *per_layer.entry(LAYERS[own].0).or_default() += 1;
        let text = std::fs::read_to_string(file).expect("a backend source file can be read");
        for (module, path) in named_modules(&code(&text)) {
            match layer_of(&module) {
                Some(theirs) if theirs > own => wrong.push(format!(
                    "{}: {path} imports the {} layer from the {} layer below it",
                    relative.display(),
                    LAYERS[theirs].0,
                    LAYERS[own].0
                )),
                Some(_) => {}
                None => wrong.push(format!(
                    "{}: {path} names a module with no layer",
                    relative.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the flow:\n{}",
        wrong.join("\n")
    );
    // Every layer has code in it, so the check is not vacuous.
    for (layer, _) in LAYERS {
        assert!(
            per_layer.get(layer).is_some_and(|n| *n > 0),
            "no file in layer {layer}"
        );
    }
}

#[test]
fn the_import_reader_finds_upward_imports() {
    // The reader itself: a path, a group, a comment and a unit test.
    let text = "use crate::routes::AppState;\nuse crate::{store, live::hub::Hub};\n\
                // crate::app is only named in a comment\nfn f() { crate::app::run(); }\n\
                #[cfg(test)]\nmod tests { use crate::sim; }\n";
    let named: Vec<String> = named_modules(&code(text))
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    assert_eq!(named, ["routes", "store", "live", "app"]);
}
