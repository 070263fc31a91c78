//! Tests of the source tree's shape (issue #37): no `use` cycle between the modules of the
//! core, state, FFI and CLI crates, and no Rust file in `core/`, `state/`, `ffi/` or `cli/` over
//! [`MAX_LINES`] lines but the known ones, which may not grow.
//!
//! The module graph is read from the source text, without a Rust parser (no dependency): a
//! module's edges are the paths it names that start with `crate::`, `super::`, `self::` or one
//! of its child modules, resolved to the deepest module they reach — or, when a path goes on
//! through a name a module's `use` brings in (the core names most things as `crate::Name`, the
//! root's re-exports), to the module that name comes from. `mod` declarations are not edges (a
//! parent owning a child is not a dependency); comments and literals are skipped.

// A test: the crate forbids panics at the C boundary; here failing loudly is the job.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lines a source file may have.
const MAX_LINES: usize = 700;

/// Files over [`MAX_LINES`] left for later, with the line count none of them may pass (a file
/// that shrinks within the limit must leave the list).
const KNOWN_LONG: &[(&str, usize)] = &[
    ("state/tests/cosmos_server.rs", 794),
    ("cli/tests/cli.rs", 1096),
];

/// The crates whose module graph must have no cycle: (directory, crate root).
const ACYCLIC: &[(&str, &str)] = &[
    ("core", "src/lib.rs"),
    ("state", "src/lib.rs"),
    ("ffi", "src/lib.rs"),
    ("cli", "src/main.rs"),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the ffi crate is in the workspace")
        .to_path_buf()
}

#[test]
fn no_module_cycle_in_core_state_ffi_or_cli() {
    let root = workspace();
    let mut report = String::new();
    for (dir, lib) in ACYCLIC {
        let graph = ModuleGraph::read(&root.join(dir).join(lib));
        assert!(
            graph.modules.len() > 3,
            "{dir}: found only {:?}",
            graph.modules.keys()
        );
        for cycle in graph.cycles() {
            report += &format!("{dir}: modules {} use each other:\n", cycle.join(", "));
            for (from, to, line) in graph.edges_within(&cycle) {
                report += &format!("  {from} -> {to} ({line})\n");
            }
        }
    }
    assert!(report.is_empty(), "module cycles:\n{report}");
}

#[test]
fn the_reader_finds_edges_and_cycles() {
    let mut graph = ModuleGraph::default();
    for m in ["crate", "crate::a", "crate::a::b", "crate::c"] {
        graph.modules.insert(m.into(), PathBuf::new());
    }
    let source = r#"
        use self::b::{Thing, other};   // a comment: crate::c::nothing
        fn f() { let _ = "crate::c"; crate::c::g(); let _ = '"'; let _: &'static str = ""; }
        /* block: use crate::a; */
        mod tests { use super::*; }
    "#;
    graph.read_edges("crate::a", source);
    let edges: BTreeSet<(String, String)> = graph
        .edges
        .iter()
        .map(|(from, to, _)| (from.clone(), to.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("crate::a", "crate::a::b"),
        ("crate::a", "crate::c"),
        ("crate::a::tests", "crate::a"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(edges, expected);
    assert!(graph.cycles().is_empty());
    graph.read_edges("crate::c", "use crate::a::b::Thing;");
    graph.read_edges("crate::a::b", "pub(super) fn g() { super::super::c::h() }");
    assert_eq!(graph.cycles(), [vec!["crate::a::b", "crate::c"]]);
}

#[test]
fn the_reader_follows_imports_to_the_module_they_come_from() {
    let mut graph = ModuleGraph::default();
    for m in ["crate", "crate::parse", "crate::options", "crate::scan"] {
        graph.modules.insert(m.into(), PathBuf::new());
    }
    // The core's way: modules name what the crate root re-exports.
    graph.read_edges(
        "crate",
        "mod parse; pub use parse::{Parsed, Warning as W}; pub use options::Limits;",
    );
    graph.read_edges(
        "crate::scan",
        "use crate::Limits; fn f() -> crate::W { crate::options::g() }",
    );
    let from_scan: BTreeSet<&str> = graph
        .edges
        .iter()
        .filter(|(from, _, _)| from == "crate::scan")
        .map(|(_, to, _)| to.as_str())
        .collect();
    assert_eq!(
        from_scan,
        BTreeSet::from(["crate::options", "crate::parse"])
    );
    assert!(graph.cycles().is_empty());
    graph.read_edges("crate::parse", "fn g() { crate::scan::scan() }");
    assert_eq!(graph.cycles(), [vec!["crate::parse", "crate::scan"]]);
}

#[test]
fn no_rust_file_over_the_line_limit() {
    let root = workspace();
    let known: BTreeMap<&str, usize> = KNOWN_LONG.iter().copied().collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for dir in ["core", "state", "ffi", "cli"] {
        for file in rust_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let lines = text.lines().count();
            let name = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            match known.get(name.as_str()) {
                Some(&cap) => {
                    seen.insert(name.clone());
                    if lines > cap {
                        problems.push(format!("{name}: {lines} lines, was {cap}: split it"));
                    } else if lines <= MAX_LINES {
                        problems.push(format!(
                            "{name}: {lines} lines, within the limit: remove it from KNOWN_LONG"
                        ));
                    }
                }
                None if lines > MAX_LINES => {
                    problems.push(format!("{name}: {lines} lines, over {MAX_LINES}: split it"));
                }
                None => {}
            }
        }
    }
    for name in known.keys() {
        if !seen.contains(*name) {
            problems.push(format!("{name} is gone: remove it from KNOWN_LONG"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The `.rs` files below `dir`, build output and dot-directories left out.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    todo.push(path);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A crate's modules (path → file), the names their `use` items bring in, and the edges between
/// them (from, to, where).
#[derive(Default)]
struct ModuleGraph {
    modules: BTreeMap<String, PathBuf>,
    /// (module, name) → the path, as written in that module, of what its `use` names `name`
    /// (`pub use parse::{Limits, Mode as M}` in the root: `Limits` → `parse::Limits`, `M` →
    /// `parse::Mode`). A path through such a name leads to the module it comes from.
    imports: BTreeMap<(String, String), Vec<String>>,
    edges: Vec<(String, String, String)>,
}

impl ModuleGraph {
    /// The modules declared from `root` (`mod name;` and inline `mod name { … }`) and their edges.
    fn read(root: &Path) -> ModuleGraph {
        let mut graph = ModuleGraph::default();
        let mut sources = Vec::new();
        let mut todo = vec![("crate".to_owned(), root.to_path_buf(), true)];
        while let Some((module, file, owns_dir)) = todo.pop() {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let dir = if owns_dir {
                file.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                file.with_extension("")
            };
            graph.modules.insert(module.clone(), file.clone());
            let tokens = tokens(&strip(&text));
            for (inner, name) in declared_files(&module, &tokens) {
                let base = match inner.strip_prefix(&module) {
                    Some(rest) => rest
                        .split("::")
                        .filter(|s| !s.is_empty())
                        .fold(dir.clone(), |d, s| d.join(s)),
                    None => dir.clone(),
                };
                let flat = base.join(format!("{name}.rs"));
                let (child, owns) = if flat.exists() {
                    (flat, false)
                } else {
                    (base.join(&name).join("mod.rs"), true)
                };
                todo.push((format!("{inner}::{name}"), child, owns));
            }
            sources.push((module, text));
        }
        // Every file's inline modules and imports first: a path may go through a name another
        // file (the crate root's re-exports, mostly) brings in.
        for (module, text) in &sources {
            graph.read_imports(module, &tokens(&strip(text)));
        }
        for (module, text) in &sources {
            graph.read_edges(module, text);
        }
        graph
    }

    /// Records the inline modules of `module`'s tokens and the names their `use` items bring in.
    fn read_imports(&mut self, module: &str, tokens: &[(String, usize)]) {
        let scopes = scopes(module, tokens);
        for m in &scopes {
            self.modules.entry(m.clone()).or_default();
        }
        let mut i = 0;
        while i < tokens.len() {
            if tokens[i].0 != "use" {
                i += 1;
                continue;
            }
            let (paths, next) = use_tree(tokens, i + 1);
            for (path, alias) in paths {
                // `a::b::{self}` brings in `b`; a glob or `as _` no name this reader can use.
                let named = path.iter().rev().find(|s| *s != "self").cloned();
                if let Some(name) = alias.or(named).filter(|n| n != "*" && n != "_") {
                    self.imports.insert((scopes[i].clone(), name), path);
                }
            }
            i = next;
        }
    }

    /// Adds the edges of `module`'s source text (inline modules are modules of their own).
    fn read_edges(&mut self, module: &str, text: &str) {
        let stripped = strip(text);
        let tokens = tokens(&stripped);
        self.read_imports(module, &tokens);
        let scopes = scopes(module, &tokens);
        let mut i = 0;
        while i < tokens.len() {
            let (t, line) = (&tokens[i].0, tokens[i].1);
            let current = scopes[i].clone();
            match t.as_str() {
                "use" => {
                    let (paths, next) = use_tree(&tokens, i + 1);
                    for (path, _) in paths {
                        self.add_edge(&current, &path, line);
                    }
                    i = next;
                    continue;
                }
                _ => {
                    let after_path_sep = i > 0 && tokens[i - 1].0 == "::";
                    let dollar = i > 0 && tokens[i - 1].0 == "$";
                    if !after_path_sep
                        && !dollar
                        && is_ident(t)
                        && tokens.get(i + 1).is_some_and(|n| n.0 == "::")
                    {
                        let mut path = vec![t.clone()];
                        let mut j = i + 1;
                        while tokens.get(j).is_some_and(|n| n.0 == "::")
                            && tokens.get(j + 1).is_some_and(|n| is_ident(&n.0))
                        {
                            path.push(tokens[j + 1].0.clone());
                            j += 2;
                        }
                        self.add_edge(&current, &path, line);
                        i = j;
                        continue;
                    }
                }
            }
            i += 1;
        }
    }

    /// An edge from `from` to the module `path` (as written in `from`) leads to, if any.
    fn add_edge(&mut self, from: &str, path: &[String], line: usize) {
        let Some(to) = self.resolve(from, path, 0) else {
            return;
        };
        if to != from {
            let file = self
                .modules
                .get(from)
                .map(|f| f.display().to_string())
                .unwrap_or_default();
            self.edges
                .push((from.to_owned(), to, format!("{file}:{line}")));
        }
    }

    /// The module `path` (as written in `from`) leads to: the deepest module it names, or, when
    /// it goes on through a name that module imports (`crate::Limits` with `pub use
    /// parse::Limits` in the root), the module that name comes from. `depth` bounds the chain of
    /// imports followed (a glob or a cycle of re-exports ends it).
    fn resolve(&self, from: &str, path: &[String], depth: usize) -> Option<String> {
        let mut at: Vec<String> = from.split("::").map(str::to_owned).collect();
        let mut rest = path;
        match path.first().map(String::as_str) {
            Some("crate") => {
                at = vec!["crate".into()];
                rest = &path[1..];
            }
            Some("self") => rest = &path[1..],
            Some("super") => {
                while rest.first().is_some_and(|s| s == "super") {
                    at.pop();
                    rest = &rest[1..];
                }
            }
            Some(first) => {
                // A child module's name is in scope in its parent (2018 paths); anything else is
                // an external crate, a type or a local name.
                let child = format!("{from}::{first}");
                if !self.modules.contains_key(&child) {
                    return None;
                }
            }
            None => return None,
        }
        for segment in rest {
            let here = at.join("::");
            let deeper = format!("{here}::{segment}");
            if self.modules.contains_key(&deeper) {
                at.push(segment.clone());
                continue;
            }
            // Not a module: a name `here` imports leads on to where it comes from.
            let key = (here.clone(), segment.clone());
            if let Some(source) = self.imports.get(&key).filter(|_| depth < 8) {
                if let Some(to) = self.resolve(&here, source, depth + 1) {
                    return Some(to);
                }
            }
            break;
        }
        let to = at.join("::");
        (!to.is_empty() && self.modules.contains_key(&to)).then_some(to)
    }

    /// The strongly connected components of more than one module, each sorted.
    fn cycles(&self) -> Vec<Vec<String>> {
        let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (from, to, _) in &self.edges {
            next.entry(from).or_default().insert(to);
        }
        let reach = |start: &str| {
            let mut seen = BTreeSet::new();
            let mut todo = vec![start];
            while let Some(m) = todo.pop() {
                for &n in next.get(m).into_iter().flatten() {
                    if seen.insert(n) {
                        todo.push(n);
                    }
                }
            }
            seen
        };
        let reaches: BTreeMap<&str, BTreeSet<&str>> = self
            .modules
            .keys()
            .map(|m| (m.as_str(), reach(m)))
            .collect();
        let mut out: Vec<Vec<String>> = Vec::new();
        for (m, r) in &reaches {
            if !r.contains(m) || out.iter().any(|c| c.iter().any(|x| x == m)) {
                continue;
            }
            let component: Vec<String> = r
                .iter()
                .filter(|n| reaches.get(**n).is_some_and(|back| back.contains(m)))
                .map(|n| (*n).to_owned())
                .collect();
            out.push(component);
        }
        out
    }

    /// The edges between modules of `cycle`.
    fn edges_within(&self, cycle: &[String]) -> Vec<(String, String, String)> {
        let mut out: Vec<_> = self
            .edges
            .iter()
            .filter(|(from, to, _)| cycle.contains(from) && cycle.contains(to))
            .cloned()
            .collect();
        out.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        out
    }
}

/// For each token, the module it is in (an inline `mod name { … }` is a module of its own).
fn scopes(module: &str, tokens: &[(String, usize)]) -> Vec<String> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut stack: Vec<(String, usize)> = vec![(module.to_owned(), 0)];
    let mut depth = 0usize;
    let mut opening: Option<String> = None;
    for (i, (t, _)) in tokens.iter().enumerate() {
        let current = stack.last().map(|s| s.0.clone()).unwrap_or_default();
        match t.as_str() {
            "{" => {
                if let Some(inline) = opening.take() {
                    stack.push((inline, depth));
                }
                depth += 1;
            }
            "}" => {
                depth = depth.saturating_sub(1);
                if stack.len() > 1 && stack.last().is_some_and(|s| s.1 == depth) {
                    stack.pop();
                }
            }
            "mod" if tokens.get(i + 2).is_some_and(|n| n.0 == "{") => {
                opening = Some(format!("{current}::{}", tokens[i + 1].0));
            }
            _ => {}
        }
        out.push(current);
    }
    out
}

/// The file modules `mod name;` declares, with the module (inline ones included) they are in.
fn declared_files(module: &str, tokens: &[(String, usize)]) -> Vec<(String, String)> {
    let scopes = scopes(module, tokens);
    (0..tokens.len())
        .filter(|&i| tokens[i].0 == "mod" && tokens.get(i + 2).is_some_and(|n| n.0 == ";"))
        .map(|i| (scopes[i].clone(), tokens[i + 1].0.clone()))
        .collect()
}

/// A path a use tree names, with the name it is brought in as when renamed (`a::b as c`).
type UsePath = (Vec<String>, Option<String>);

/// The paths of a use tree starting at `tokens[i]` (`a::b::{c, d::*, e as f}` → `a::b::c`,
/// `a::b::d`, `a::b::e` as `f`), and the index after its `;`.
fn use_tree(tokens: &[(String, usize)], mut i: usize) -> (Vec<UsePath>, usize) {
    fn tree(
        tokens: &[(String, usize)],
        i: &mut usize,
        prefix: Vec<String>,
        out: &mut Vec<UsePath>,
    ) {
        let mut path = prefix;
        while let Some((t, _)) = tokens.get(*i) {
            match t.as_str() {
                "::" => *i += 1,
                "{" => {
                    *i += 1;
                    loop {
                        tree(tokens, i, path.clone(), out);
                        match tokens.get(*i).map(|t| t.0.as_str()) {
                            Some(",") => *i += 1,
                            Some("}") => {
                                *i += 1;
                                break;
                            }
                            _ => break,
                        }
                        if tokens.get(*i).is_some_and(|t| t.0 == "}") {
                            *i += 1;
                            break;
                        }
                    }
                    return;
                }
                "*" => {
                    *i += 1;
                    // A glob brings in names this reader cannot list: the path alone.
                    out.push((path, Some("*".into())));
                    return;
                }
                "as" => {
                    let alias = tokens.get(*i + 1).map(|t| t.0.clone());
                    *i += 2;
                    out.push((path, alias));
                    return;
                }
                _ if is_ident(t) => {
                    path.push(t.clone());
                    *i += 1;
                }
                _ => break,
            }
        }
        out.push((path, None));
    }
    let mut out = Vec::new();
    tree(tokens, &mut i, Vec::new(), &mut out);
    while tokens.get(i).is_some_and(|t| t.0 != ";") {
        i += 1;
    }
    (out, i + 1)
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Identifiers, `::` and single punctuation characters, with their line numbers.
fn tokens(text: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((chars[start..i].iter().collect(), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(("::".into(), line));
            i += 2;
        } else {
            out.push((c.to_string(), line));
            i += 1;
        }
    }
    out
}

/// The text with comments and string and character literals blanked (newlines kept, so line
/// numbers stay true).
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, s: &[char]| {
        out.extend(s.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }));
    };
    let mut i = 0;
    while i < c.len() {
        let rest = &c[i..];
        if rest.starts_with(&['/', '/']) {
            let end = rest.iter().position(|&ch| ch == '\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(&['/', '*']) {
            let (mut j, mut nesting) = (2, 1);
            while j < rest.len() && nesting > 0 {
                if rest[j..].starts_with(&['/', '*']) {
                    nesting += 1;
                    j += 2;
                } else if rest[j..].starts_with(&['*', '/']) {
                    nesting -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if let Some(len) = raw_string(rest) {
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest[0] == '"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != '"' {
                j += if rest[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), or a lifetime ('a), left as is.
            let len = if rest.get(1) == Some(&'\\') {
                // The escaped character is at 2 (it may be a quote); the literal ends after it.
                rest.iter()
                    .skip(3)
                    .position(|&ch| ch == '\'')
                    .map(|p| p + 4)
            } else if rest.get(2) == Some(&'\'') {
                Some(3)
            } else {
                None
            };
            match len {
                Some(len) => {
                    blank(&mut out, &rest[..len]);
                    i += len;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    out
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the start of `s`.
fn raw_string(s: &[char]) -> Option<usize> {
    let start = match s {
        ['r', '"' | '#', ..] => 1,
        ['b', 'r', '"' | '#', ..] => 2,
        _ => return None,
    };
    let hashes = s[start..].iter().take_while(|&&ch| ch == '#').count();
    if s.get(start + hashes) != Some(&'"') {
        return None;
    }
    let close: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let body = start + hashes + 1;
    let end = (body..s.len()).find(|&j| s[j..].starts_with(&close))?;
    Some(end + close.len())
}
