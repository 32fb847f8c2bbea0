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
    // Account creation links a household member.
    ("accounts", "households"),
    // Prepared (compressed) answers are a web type.
    ("views", "web"),
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
