//! The shape of the code, checked by scanning `src/`: dependencies point one
//! way (`main → cli → startup → http → graphql → services → db → domain`, see
//! `docs/architecture.md`), rules live in typed code rather than in string
//! comparisons, nothing talks through thread-local side channels, and
//! resolvers stay short.

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

/// Long parameter lists are grouped into values; the one place that cannot
/// (a resolver's parameters mirror its GraphQL arguments) is covered by the
/// threshold in `clippy.toml`, so no code carries an allowance.
#[test]
fn nothing_talks_through_thread_locals_or_takes_too_many_arguments() {
    let mut found = Vec::new();
    for (file, text) in sources() {
        if text.contains("thread_local!") {
            found.push(format!("{file}: thread_local!"));
        }
        for (n, line) in text.lines().enumerate() {
            if line.contains("too_many_arguments") {
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

/// `text` with its comments, string and character literals blanked
/// (newlines kept), so that braces in them do not count as code.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut code = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        let end = literal_end(&chars, i).min(chars.len());
        if end == i {
            i += 1;
            continue;
        }
        for c in &mut code[i..end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        i = end;
    }
    code.into_iter().collect()
}

/// Where the comment or literal starting at `i` ends; `i` when none does.
fn literal_end(c: &[char], i: usize) -> usize {
    let at = |j: usize| c.get(j).copied().unwrap_or('\0');
    let find = |from: usize, hit: &dyn Fn(usize) -> bool| (from..c.len()).find(|&j| hit(j));
    let after_name = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
    match (at(i), at(i + 1)) {
        ('/', '/') => find(i, &|j| c[j] == '\n').unwrap_or(c.len()),
        ('/', '*') => find(i + 3, &|j| c[j - 1] == '*' && c[j] == '/').map_or(c.len(), |j| j + 1),
        ('r', '"' | '#') if !after_name => {
            let hashes = c[i + 1..].iter().take_while(|&&h| h == '#').count();
            if at(i + 1 + hashes) != '"' {
                return i; // a raw identifier, r#type
            }
            let closes = |j: usize| c[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#');
            find(i + 2 + hashes, &closes).map_or(c.len(), |j| j + 1 + hashes)
        }
        ('"', _) => {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            j + 1
        }
        ('\'', '\\') => find(i + 2, &|j| c[j] == '\'').map_or(c.len(), |j| j + 1),
        // A character literal, not a lifetime ('a).
        ('\'', _) if at(i + 2) == '\'' => i + 3,
        _ => i,
    }
}

/// The position of the `}` that closes the `{` at `open`.
fn closing_brace(code: &[u8], open: usize) -> usize {
    let mut depth = 0;
    for (i, c) in code.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' if depth == 1 => return i,
            b'}' => depth -= 1,
            _ => {}
        }
    }
    code.len()
}

/// Every resolver of the schema (an `async fn` in an `#[Object]`,
/// `#[ComplexObject]` or `#[Subscription]` impl of `src/graphql/`), with the
/// number of lines between its opening and its closing brace line.
fn resolver_lengths() -> Vec<(String, String, usize)> {
    let schema_impl = Regex::new(
        r"#\[(?:async_graphql::)?(?:Object|ComplexObject|Subscription)\b[^\]]*\]\s*impl\b",
    )
    .expect("regex");
    let resolver = Regex::new(r"\basync\s+fn\s+([A-Za-z0-9_]+)").expect("regex");
    let mut found = Vec::new();
    for (file, text) in sources() {
        if !file.starts_with("src/graphql/") {
            continue;
        }
        let code = code_only(&text);
        let bytes = code.as_bytes();
        let next_brace = |from: usize| (from..bytes.len()).find(|&i| bytes[i] == b'{');
        let line_of = |at: usize| bytes[..at].iter().filter(|&&c| c == b'\n').count();
        for block in schema_impl.find_iter(&code) {
            let Some(open) = next_brace(block.end()) else {
                continue;
            };
            let close = closing_brace(bytes, open);
            let mut from = open;
            for f in resolver.captures_iter(&code[..close]) {
                let start = f.get(0).expect("match").start();
                if start < from {
                    // An async fn inside the body before is part of it.
                    continue;
                }
                let Some(body) = next_brace(start) else {
                    continue;
                };
                let end = closing_brace(bytes, body);
                found.push((
                    file.clone(),
                    f[1].to_string(),
                    line_of(end) - line_of(body) - 1,
                ));
                from = end;
            }
        }
    }
    found
}

/// Resolvers check the right, parse the input, call one service or read
/// function and map its result (`docs/architecture.md`); the work itself
/// lives below them.
#[test]
fn resolvers_are_short() {
    const MAX_LINES: usize = 30;
    let resolvers = resolver_lengths();
    assert!(
        resolvers.len() > 100,
        "the scan found too few resolvers: wrong folder?"
    );
    let long: Vec<String> = resolvers
        .iter()
        .filter(|(_, _, length)| *length > MAX_LINES)
        .map(|(file, name, length)| format!("{file}: {name} has {length} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "resolver bodies longer than {MAX_LINES} lines: {long:#?}"
    );
}
