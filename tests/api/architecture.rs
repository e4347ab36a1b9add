//! The shape of the code, checked by scanning `src/`: dependencies point one
//! way (`main → cli → startup → http → graphql → services → db → domain`, see
//! `docs/architecture.md`), rules live in typed code rather than in string
//! comparisons, and nothing talks through thread-local side channels.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

use crate::source_rules::sources;

/// A file's module path: `src/graphql/articles.rs` → `graphql::articles`.
fn module_of(file: &str) -> Vec<String> {
    let path = file.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = path.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a file without its unit tests and comment lines.
fn production_code(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules each module names, as `crate::a::b` paths cut to two parts
/// (and `super::b` resolved), including grouped imports `crate::{a, b::c}`.
fn imports() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let path = Regex::new(r"\bcrate::([a-z_]+)(?:::([a-z_]+))?").expect("regex");
    let group = Regex::new(r"\bcrate::\{([^}]*)\}").expect("regex");
    let sibling = Regex::new(r"\bsuper::([a-z_]+)").expect("regex");
    let mut found = BTreeMap::new();
    for (file, text) in sources() {
        let module = module_of(&file);
        if matches!(module[0].as_str(), "lib" | "main") {
            continue;
        }
        let code = production_code(&text);
        let mut names: BTreeSet<Vec<String>> = BTreeSet::new();
        for c in path.captures_iter(&code) {
            let mut target = vec![c[1].to_string()];
            if let Some(second) = c.get(2) {
                target.push(second.as_str().to_string());
            }
            names.insert(target);
        }
        for c in group.captures_iter(&code) {
            for item in c[1].split(',') {
                let parts: Vec<String> = item
                    .trim()
                    .split("::")
                    .take(2)
                    .map(str::to_string)
                    .collect();
                if !parts[0].is_empty() {
                    names.insert(parts);
                }
            }
        }
        if module.len() >= 2 {
            for c in sibling.captures_iter(&code) {
                let parent = &module[..module.len() - 1];
                let mut target = parent.to_vec();
                target.push(c[1].to_string());
                names.insert(target);
            }
        }
        found.insert(module, names);
    }
    found
}

/// True when `target` names a module that exists as a file (not an item).
fn is_module(target: &[String], modules: &BTreeSet<Vec<String>>) -> bool {
    modules.contains(target)
}

#[test]
fn no_two_modules_import_each_other() {
    let imports = imports();
    let modules: BTreeSet<Vec<String>> = imports.keys().cloned().collect();
    assert!(
        modules.len() > 50,
        "the scan found too few modules: wrong folder?"
    );
    // Top level: graphql ↔ http, db ↔ cache …
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Inside a folder: db::pool ↔ db::replicas …
    let mut files: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, names) in &imports {
        for name in names {
            if name[0] != module[0] {
                top.entry(module[0].clone())
                    .or_default()
                    .insert(name[0].clone());
            } else if name != module && is_module(name, &modules) && module.len() > 1 {
                files
                    .entry(module.clone())
                    .or_default()
                    .insert(name.clone());
            }
        }
    }
    let mut both_ways = Vec::new();
    for (a, names) in &top {
        for b in names {
            if a < b && top.get(b).is_some_and(|n| n.contains(a)) {
                both_ways.push(format!("{a} ↔ {b}"));
            }
        }
    }
    for (a, names) in &files {
        for b in names {
            if a < b && files.get(b).is_some_and(|n| n.contains(a)) {
                both_ways.push(format!("{} ↔ {}", a.join("::"), b.join("::")));
            }
        }
    }
    assert!(
        both_ways.is_empty(),
        "modules importing each other: {both_ways:?}"
    );
}

#[test]
fn the_layers_point_down_only() {
    // Each layer and the modules above it, which it must never name.
    let above: &[(&str, &[&str])] = &[
        (
            "domain",
            &[
                "db", "services", "graphql", "http", "cache", "search", "startup", "cli",
            ],
        ),
        (
            "db",
            &[
                "cache", "search", "services", "graphql", "http", "startup", "cli",
            ],
        ),
        ("services", &["graphql", "http", "startup", "cli"]),
        ("graphql", &["http", "startup", "cli"]),
        ("http", &["startup", "cli"]),
    ];
    let mut upward = Vec::new();
    for (module, names) in imports() {
        for (layer, forbidden) in above {
            if module[0] == *layer {
                for name in &names {
                    if forbidden.contains(&name[0].as_str()) {
                        upward.push(format!(
                            "{} → crate::{}",
                            module.join("::"),
                            name.join("::")
                        ));
                    }
                }
            }
        }
    }
    assert!(upward.is_empty(), "imports pointing up: {upward:?}");
}

/// One exception: a GraphQL resolver takes one parameter per argument of
/// the schema (async-graphql cannot group them, async-graphql#1496), so the
/// root `articles` list (six arguments, as Relay and the filter want) says so
/// with an `expect` and its reason; everywhere else long parameter lists are
/// grouped into values.
#[test]
fn nothing_talks_through_thread_locals_or_takes_too_many_arguments() {
    let mut found = Vec::new();
    for (file, text) in sources() {
        if text.contains("thread_local!") {
            found.push(format!("{file}: thread_local!"));
        }
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if !line.contains("too_many_arguments") || line.trim_start().starts_with("//") {
                continue;
            }
            let resolver_expectation = file.starts_with("src/graphql/")
                && n > 0
                && lines[n - 1].trim() == "#[expect("
                && lines
                    .get(n + 1)
                    .is_some_and(|next| next.contains("reason = "));
            if !resolver_expectation {
                found.push(format!("{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn graphql_compares_no_status_or_state_as_a_string() {
    let compared = Regex::new(r#"\b(status|state)(\.as_str\(\))?\s*[!=]=\s*""#).expect("regex");
    let matched = Regex::new(r#"matches!\(\s*[a-z_.]*(status|state)\.as_str\(\)"#).expect("regex");
    let mut found = Vec::new();
    for (file, text) in sources() {
        if !file.starts_with("src/graphql") {
            continue;
        }
        let tests_start = text.find("#[cfg(test)]").unwrap_or(text.len());
        for (n, line) in text[..tests_start].lines().enumerate() {
            let comment = line.trim_start().starts_with("//");
            if !comment && (compared.is_match(line) || matched.is_match(line)) {
                found.push(format!("{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "status strings compared: {found:?}");
}
