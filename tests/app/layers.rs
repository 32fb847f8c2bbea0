//! The modules of `src/` stand in layers, lowest first ([`LAYERS`]): a
//! module may use those below it, never one above (an arrow running back
//! up), so there is no circle between modules either. The arrows that run
//! back up today are listed in [`KNOWN`], each to be removed as the code
//! under it moves down; a new one fails here, and so does a listed one that
//! no longer exists (the list only shrinks).

use std::collections::BTreeSet;
use std::path::Path;

/// Top-level modules of `src/`, lowest first.
const LAYERS: &[&str] = &[
    "paging",
    "spreadsheet",
    "leader",
    "localize",
    "views",
    "vocab",
    "courses",
    "db",
    "error",
    "entities",
    "areas",
    "policy",
    "audit",
    "site",
    "config",
    "mail",
    "accounts",
    "learning",
    "app",
    "backup",
    "households",
    "catalog",
    "reports",
    "jobs",
    "demo",
    "web",
];

/// Arrows that run back up today: (from, to).
const KNOWN: &[(&str, &str)] = &[
    // Services take the whole `AppContext` where a narrow handle would do.
    ("accounts", "app"),
];

/// The top-level module a file of `src/` belongs to (`None`: lib.rs, main.rs).
fn module_of(rel: &str) -> Option<&str> {
    let first = rel.split('/').next()?;
    let m = first.strip_suffix(".rs").unwrap_or(first);
    (m != "lib" && m != "main").then_some(m)
}

/// Every arrow `crate::x` from one top-level module to another, with the
/// file it is in. Comments and a trailing `#[cfg(test)] mod tests` are not
/// read: tests may reach anywhere.
fn arrows(files: &[(String, String)]) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (rel, text) in files {
        let Some(from) = module_of(rel) else { continue };
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        for line in code.lines() {
            let line = line.trim_start();
            if line.starts_with("//") {
                continue;
            }
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                let after = &rest[i + "crate::".len()..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                    .collect();
                let word_start = i == 0 || {
                    let b = rest.as_bytes()[i - 1];
                    !(b.is_ascii_alphanumeric() || b == b'_')
                };
                if word_start && !name.is_empty() && name != from {
                    out.insert((from.to_string(), name, rel.clone()));
                }
                rest = after;
            }
        }
    }
    out
}

/// Arrows that run back up and are not known, and known ones that are gone.
fn judge(files: &[(String, String)]) -> (Vec<String>, Vec<String>) {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut new = Vec::new();
    let mut seen = BTreeSet::new();
    for (from, to, rel) in arrows(files) {
        let (Some(a), Some(b)) = (rank(&from), rank(&to)) else {
            if rank(&from).is_none() {
                new.push(format!("src/{rel}: module `{from}` has no place in LAYERS"));
            }
            continue;
        };
        if b > a {
            seen.insert((from.clone(), to.clone()));
            if !KNOWN.contains(&(from.as_str(), to.as_str())) {
                new.push(format!(
                    "src/{rel}: `{from}` uses `crate::{to}`, a module above it"
                ));
            }
        }
    }
    let gone = KNOWN
        .iter()
        .filter(|(a, b)| !seen.contains(&(a.to_string(), b.to_string())))
        .map(|(a, b)| format!("{a} -> {b} no longer runs back up: take it off KNOWN"))
        .collect();
    (new, gone)
}

fn sources(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, base, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

#[test]
fn lower_layers_know_nothing_of_upper_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    assert!(files.len() > 100, "{} files read", files.len());
    let (new, gone) = judge(&files);
    assert!(
        new.is_empty(),
        "arrows running back up:\n{}",
        new.join("\n")
    );
    assert!(gone.is_empty(), "{}", gone.join("\n"));
}

/// The check sees a new arrow back up, wherever it is written, and not one
/// in a comment or a test module.
#[test]
fn a_new_arrow_back_up_is_caught() {
    let file = |rel: &str, text: &str| (rel.to_string(), text.to_string());
    let (_, gone) = judge(&[]);
    let base = gone.len();
    let (new, _) = judge(&[
        file(
            "db/pool.rs",
            "fn f() { let _ = crate::web::pages::redirect(\"/\"); }\n",
        ),
        file("courses/x.rs", "// crate::learning is only named here\n"),
        file(
            "paging.rs",
            "fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::web::x;\n}\n",
        ),
        file(
            "learning/y.rs",
            "use crate::courses::Course; use crate::db::x;\n",
        ),
    ]);
    assert_eq!(
        new,
        vec!["src/db/pool.rs: `db` uses `crate::web`, a module above it".to_string()]
    );
    assert_eq!(base, KNOWN.len());
}

/// A file's module path: `households/store/records.rs` is
/// `households::store::records`, `households/store/mod.rs` is
/// `households::store`, `lib.rs` is the crate.
fn module_path(rel: &str) -> Vec<String> {
    let stem = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// `a::{b, c::{d, self}}` written out: `a::b`, `a::c::d`, `a::c`.
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.trim_end_matches("::self").to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| match p {
            "self" => vec![prefix.trim_end_matches("::").to_string()],
            p => expand(&format!("{prefix}{p}")),
        })
        .collect()
}

/// A `use` tree with its whitespace and `as name` aliases taken out.
fn without_aliases(tree: &str) -> String {
    let mut out = String::new();
    let mut words = tree.split_whitespace();
    while let Some(w) = words.next() {
        if w == "as" {
            let alias = words.next().unwrap_or("");
            out.extend(
                alias
                    .chars()
                    .skip_while(|c| c.is_alphanumeric() || *c == '_'),
            );
        } else {
            out.push_str(w);
        }
    }
    out
}

/// The paths a file names from its own crate (`crate::`, `super::`,
/// `self::`), `use` groups written out; tests and comments not read.
fn named_paths(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    // `use` statements, groups included.
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let after = &rest[i + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if before.is_none_or(|c| c.is_whitespace() || c == ';' || c == '{' || c == '}') {
            let tree = without_aliases(&after[..end]);
            let is_tree = ["crate::", "super::", "self::"]
                .iter()
                .any(|r| tree.starts_with(r))
                && tree
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_:{},*".contains(c));
            if is_tree {
                out.extend(expand(&tree));
            }
        }
        rest = &after[end.min(after.len())..];
    }
    // Paths written in place.
    let bytes = code.as_bytes();
    for root in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(root).map(|i| i + from) {
            from = i + root.len();
            if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
                continue;
            }
            let path: String = code[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push(path.trim_end_matches(':').to_string());
        }
    }
    out
}

/// Arrows between files of `src/`: a file to the deepest module a path it
/// names resolves to. A module's `mod.rs` (or `lib.rs`) handing on names of
/// its own sub-modules is its face, not an arrow.
fn file_arrows(files: &[(String, String)]) -> BTreeSet<(String, String)> {
    let modules: std::collections::BTreeMap<Vec<String>, String> = files
        .iter()
        .filter(|(rel, _)| rel != "main.rs")
        .map(|(rel, _)| (module_path(rel), rel.clone()))
        .collect();
    let mut out = BTreeSet::new();
    for (rel, text) in files {
        if rel == "main.rs" {
            continue;
        }
        let here = module_path(rel);
        let is_face = rel.ends_with("mod.rs") || rel == "lib.rs";
        for path in named_paths(text) {
            let mut segs = path.split("::").filter(|s| !s.is_empty());
            let mut at: Vec<String> = match segs.next() {
                Some("crate") => vec![],
                Some("self") => here.clone(),
                Some("super") => here[..here.len().saturating_sub(1)].to_vec(),
                _ => continue,
            };
            for s in segs {
                if s == "super" {
                    at.pop();
                } else {
                    at.push(s.to_string());
                }
            }
            let target = (0..=at.len())
                .rev()
                .find_map(|n| modules.get(&at[..n]))
                .cloned();
            let Some(target) = target else { continue };
            let below_face = is_face && module_path(&target).starts_with(&here);
            if target != *rel && !below_face {
                out.insert((rel.clone(), target));
            }
        }
    }
    out
}

/// Files that import each other round a loop (Tarjan's strongly connected
/// components of more than one file).
fn circles(files: &[(String, String)]) -> Vec<Vec<String>> {
    let arrows = file_arrows(files);
    let names: BTreeSet<&String> = arrows.iter().flat_map(|(a, b)| [a, b]).collect();
    let names: Vec<&String> = names.into_iter().collect();
    let ix = |n: &String| names.iter().position(|m| *m == n).unwrap();
    let mut next: Vec<Vec<usize>> = vec![vec![]; names.len()];
    for (a, b) in &arrows {
        next[ix(a)].push(ix(b));
    }
    struct Tarjan {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        count: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(t: &mut Tarjan, next: &[Vec<usize>], v: usize) {
        t.index[v] = Some(t.count);
        t.low[v] = t.count;
        t.count += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in &next[v] {
            match t.index[w] {
                None => {
                    visit(t, next, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(i) if t.on[w] => t.low[v] = t.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut group = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on[w] = false;
                group.push(w);
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                t.found.push(group);
            }
        }
    }
    let n = names.len();
    let mut t = Tarjan {
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: vec![],
        count: 0,
        found: vec![],
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, &next, v);
        }
    }
    let mut out: Vec<Vec<String>> = t
        .found
        .into_iter()
        .map(|g| {
            let mut g: Vec<String> = g.into_iter().map(|i| names[i].clone()).collect();
            g.sort();
            g
        })
        .collect();
    out.sort();
    out
}

#[test]
fn no_files_import_each_other_round_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    let found = circles(&files);
    let arrows = file_arrows(&files);
    let shown: Vec<String> = found
        .iter()
        .map(|c| {
            let ties: Vec<String> = arrows
                .iter()
                .filter(|(a, b)| c.contains(a) && c.contains(b))
                .map(|(a, b)| format!("  src/{a} -> src/{b}"))
                .collect();
            format!("circle of {} files:\n{}", c.len(), ties.join("\n"))
        })
        .collect();
    assert!(found.is_empty(), "{}", shown.join("\n"));
}

/// The circle check follows `use` groups, `super::` and paths written in
/// place, and does not count a module's face handing on its own names.
#[test]
fn a_new_circle_is_caught() {
    let file = |rel: &str, text: &str| (rel.to_string(), text.to_string());
    let base = [
        file("lib.rs", "pub mod a;\npub use a::b::Thing;\n"),
        file(
            "a/mod.rs",
            "mod b;\nmod c;\npub use b::Thing;\npub const K: u8 = 1;\n",
        ),
        file("a/b.rs", "use super::K;\npub struct Thing;\n"),
        file("a/c.rs", "use super::{K, b::Thing};\n"),
    ];
    assert!(circles(&base).is_empty(), "{:?}", circles(&base));
    let mut looped = base.to_vec();
    looped[2] = file("a/b.rs", "use super::K;\nfn f() { crate::a::c::g() }\n");
    assert_eq!(
        circles(&looped),
        vec![vec!["a/b.rs".to_string(), "a/c.rs".to_string()]]
    );
    let mut grouped = base.to_vec();
    grouped[2] = file("a/b.rs", "use super::{K, c::{self as other, g}};\n");
    assert_eq!(circles(&grouped).len(), 1);
    let mut in_a_test = base.to_vec();
    in_a_test[2] = file(
        "a/b.rs",
        "use super::K;\n#[cfg(test)]\nmod tests {\n    use super::super::c::g;\n}\n",
    );
    assert!(circles(&in_a_test).is_empty());
}
