//! The modules of `src/` import one another in one direction only: a test that fails,
//! naming the modules, when an import closes a cycle (the layers: README, "Layout").
//!
//! A module's imports are the `crate::…` and `super::…` paths its file names outside its
//! unit tests, each resolved to the longest module path that exists. A parent declaring
//! its children (`mod x;`) is not an import.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/deals/service.rs` → `deals::service`; `src/deals/mod.rs` → `deals`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// Paths following `crate::` or `super::` in the source, braces expanded one level
/// (`use crate::{a::b, c}` gives `a::b` and `c`), each with the module it is relative to.
fn paths(code: &str, module: &str) -> Vec<String> {
    let parent: Vec<&str> = {
        let mut p: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
        p.pop();
        p
    };
    let mut out = Vec::new();
    for (anchor, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = code;
        while let Some(at) = rest.find(anchor) {
            let before = rest[..at].chars().last();
            rest = &rest[at + anchor.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut base = base.clone();
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                base.pop();
                tail = t;
            }
            rest = tail;
            let items: Vec<&str> = if let Some(inner) = tail.strip_prefix('{') {
                let end = inner.find('}').unwrap_or(inner.len());
                inner[..end].split(',').collect()
            } else {
                vec![tail]
            };
            for item in items {
                let item: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let item = item.trim_end_matches(':');
                if item.is_empty() {
                    continue;
                }
                let mut full = base.clone();
                full.extend(item.split("::"));
                out.push(full.join("::"));
            }
        }
    }
    out
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    assert!(
        modules.len() > 30 && modules.contains_key("deals::service"),
        "the source tree was not found: {modules:?}"
    );
    let resolve = |path: &str| -> Option<String> {
        let mut parts: Vec<&str> = path.split("::").collect();
        while !parts.is_empty() {
            let m = parts.join("::");
            if modules.contains_key(&m) {
                return Some(m);
            }
            parts.pop();
        }
        None
    };
    let mut edges: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &modules {
        let code = std::fs::read_to_string(file).unwrap();
        let code = code.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let targets = edges.entry(module).or_default();
        for p in paths(code, module) {
            if let Some(t) = resolve(&p).filter(|t| t != module && !t.is_empty()) {
                targets.insert(t);
            }
        }
    }
    let imports: usize = edges.values().map(BTreeSet::len).sum();
    assert!(
        imports > 100,
        "too few imports found ({imports}): the parser is broken"
    );
    // A cycle exists when some module reaches itself.
    let mut cycles = Vec::new();
    for start in edges.keys() {
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.to_string(), vec![])];
        let mut seen = BTreeSet::new();
        while let Some((m, trail)) = stack.pop() {
            for next in edges.get(m.as_str()).into_iter().flatten() {
                let mut t = trail.clone();
                t.push(next.clone());
                if next == start {
                    cycles.push(format!("{start} → {}", t.join(" → ")));
                } else if seen.insert(next.clone()) {
                    stack.push((next.clone(), t));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

/// The top-level modules from the bottom up: each may use only those before it (and its
/// own submodules). ARCHITECTURE.md explains the layers.
const LAYERS: &[&str] = &[
    // Foundations: no business rules.
    "db",
    "config",
    "telemetry",
    "metrics",
    "validate",
    "locale",
    "taxonomy",
    "password",
    // What every handler shares, then email (the outbox is written inside the
    // transactions of the areas above), then the state handlers and tasks share.
    "http",
    "notify",
    "state",
    // The areas, each using only those before it.
    "accounts",
    "organizations",
    "catalog",
    "search",
    "matching",
    "deals",
    "imports",
    "me",
    "demo",
    // Start-up: the server, the worker.
    "app",
];

#[test]
fn top_level_modules_are_layered_bottom_up() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut upward = Vec::new();
    let mut unlisted = BTreeSet::new();
    let mut seen = 0;
    for file in &files {
        let module = module_of(&src, file);
        let Some(top) = module.split("::").next().filter(|t| !t.is_empty()) else {
            continue; // lib.rs, main.rs
        };
        let Some(own) = rank(top) else {
            unlisted.insert(top.to_owned());
            continue;
        };
        let code = std::fs::read_to_string(file).unwrap();
        let code = code.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        for p in paths(code, &module) {
            let target = p.split("::").next().unwrap_or_default();
            if target == top {
                continue;
            }
            seen += 1;
            match rank(target) {
                Some(r) if r < own => {}
                Some(_) => upward.push(format!("{module} → {p}")),
                // Macros exported at the crate root (`crate::per_backend!`).
                None if target == "per_backend" => {}
                None => {
                    unlisted.insert(target.to_owned());
                }
            }
        }
    }
    assert!(
        seen > 200,
        "too few imports found ({seen}): the parser is broken"
    );
    assert!(
        unlisted.is_empty(),
        "top-level modules missing from LAYERS (place them): {unlisted:?}"
    );
    assert!(
        upward.is_empty(),
        "imports of a module in the same or a higher layer:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    // The parser on a pair that imports each other, as two modules of a tree would.
    let a = paths("use super::b::Thing;\nuse crate::{x::y, z};", "m::a");
    assert_eq!(a, vec!["x::y", "z", "m::b::Thing"]);
    let nested = paths("use super::super::q;", "m::n::a");
    assert_eq!(nested, vec!["m::q"]);
}
