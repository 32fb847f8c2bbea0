//! No English on a Chinese page: every text of the zh-CN locale file, and
//! every error a page can answer with. Each page route is sent what a
//! person can send by mistake (an empty form, words where numbers go, an
//! address that does not exist) by each kind of staff and by a learner, on
//! a zh-CN page, and what comes back is read for Latin words outside a
//! short list of codes, units and names.

use std::collections::BTreeMap;

use fuzhi::web::routes::ROUTES;

use crate::helpers::{COURSE, Engine, TestApp};

/// Words in Latin letters a Chinese page may hold: codes, units and names.
const ALLOWED: &[&str] = &[
    "App", "PIN", "ID", "SC", "Excel", "WPS", "XLSX", "CSV", "UTF", "GB", "KB", "MB", "X", "ICP",
    "Wi", "Fi", "QQ", "PDF", "PNG", "SVG", "JPEG", "JPG", "Opus", "MP", "M", "A", "B", "fuzhi",
    "https", "http", "www", "mailto", "Markdown", "WebP", "Ogg", "Chromium", "WLAN", "JSON", "MOV",
    "WebM", "WebVTT", "SRT", "ffmpeg", "HTML", "SIM", "XXXXX", "kbit", "opusenc", "media", "QR",
    // File names in the picture chooser, and a network's name as a shipped
    // lesson quotes it.
    "svg", "png", "webp", "opus", "Free", "WiFi",
    // The test's people are named after their roles ("learner 13900000001").
    "admin", "official", "trainer", "learner",
];

/// Runs of Latin letters outside the list, in `text`.
fn english_words(text: &str) -> Vec<String> {
    // Slugs (sell-tea-online) and a command's options (--bitrate) are codes.
    let code = |t: &str| {
        t.contains('-')
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let text: String = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|t| !code(t))
        .collect::<Vec<_>>()
        .join(" ");
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 1 && !ALLOWED.contains(w))
        .map(str::to_string)
        .collect()
}

/// The text a person reads in a page's `<main>` (tags, attributes other
/// than labels, and scripts left out).
fn readable(html: &str) -> String {
    let body = match (html.find("<main"), html.rfind("</main>")) {
        (Some(a), Some(b)) if a < b => &html[a..b],
        _ => html,
    };
    let mut out = String::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let tag = &rest[open..open + close];
        // What a screen reader says counts too.
        for attr in ["aria-label=\"", "placeholder=\"", "title=\""] {
            if let Some(i) = tag.find(attr) {
                let v = &tag[i + attr.len()..];
                out.push_str(&v[..v.find('"').unwrap_or(v.len())]);
                out.push(' ');
            }
        }
        rest = &rest[open + close + 1..];
        // Scripts, code, and what a person typed into a field (a course's
        // English text in the editor) are not the page's words.
        for (start, end) in [
            ("<script", "</script>"),
            ("<style", "</style>"),
            ("<textarea", "</textarea>"),
            ("<code", "</code>"),
            ("<pre", "</pre>"),
        ] {
            if tag.starts_with(start) {
                rest = rest.find(end).map_or("", |i| &rest[i..]);
            }
        }
    }
    out.push_str(rest);
    // Entities are not words.
    out.split('&')
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                s.to_string()
            } else {
                s.split_once(';').map_or(s, |(_, r)| r).to_string()
            }
        })
        .collect()
}

/// Every text of the Chinese locale file is Chinese (placeholders aside),
/// and the two files have the same keys.
#[test]
fn every_zh_locale_text_is_chinese() {
    let read = |lang: &str| -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(crate::helpers::repo_path(&format!(
            "templates/locales/{lang}.toml"
        )))
        .unwrap();
        toml::from_str(&text).unwrap()
    };
    let (zh, en) = (read("zh-CN"), read("en"));
    let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
    let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
    assert!(
        only_zh.is_empty() && only_en.is_empty(),
        "{only_zh:?} / {only_en:?}"
    );
    let mut bad = Vec::new();
    for (k, v) in &zh {
        let mut text = String::new();
        let mut depth = 0;
        for c in v.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                c if depth == 0 => text.push(c),
                _ => {}
            }
        }
        // An "English / 中文" pair keeps its English half on purpose.
        if k.ends_with(".bilingual") {
            continue;
        }
        let words = english_words(&readable(&text));
        if !words.is_empty() {
            bad.push(format!("{k} = {v:?}: {words:?}"));
        }
    }
    assert!(bad.is_empty(), "English in zh-CN.toml:\n{}", bad.join("\n"));
}

/// A value for each path parameter: one that names something, one that does not.
fn fill(path: &str, existing: bool, lesson: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        let name = &rest[open + 1..close];
        let v = match (name, existing) {
            ("slug", true) => COURSE.to_string(),
            ("lesson", true) => lesson.to_string(),
            ("quiz", true) => "pre".into(),
            ("lang", true) => "zh-CN".into(),
            ("id" | "mid" | "version", true) => "1".into(),
            ("code", true) => crate::helpers::VILLAGE_A.into(),
            ("qid", true) => "q1".into(),
            ("target", true) => "prompt".into(),
            (_, true) => "x".into(),
            ("id" | "mid" | "version", false) => "999999".into(),
            ("code", false) => "999999999999".into(),
            (_, false) => "nope".into(),
        };
        out.push_str(&v);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Every page route, as every role, with what a person sends by mistake:
/// whatever it answers on a zh-CN page reads in Chinese.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_a_page_shows_reads_in_chinese() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    let lesson = app.first_lesson(COURSE).await;
    let roles = [
        ("admin", p.admin),
        ("official", p.official),
        ("trainer", p.trainer),
        ("learner", p.learner),
    ];
    let mut tokens = Vec::new();
    for (name, id) in roles {
        tokens.push((name, app.token(id).await));
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bodies: [&[(&str, &str)]; 2] = [
        &[],
        &[
            ("title", "x"),
            ("year", "明年"),
            ("page", "abc"),
            ("code", "12"),
            ("area_code", "abc"),
            ("login", ""),
            ("pin", "12"),
            ("user", "abc"),
            ("name", ""),
            ("amount", "很多"),
            ("lang", "fr"),
        ],
    ];
    let mut bad = Vec::new();
    let mut pages = 0;
    for existing in [false, true] {
        for (method, path, _) in ROUTES {
            if path.starts_with("/api/")
                || path.starts_with("/c/")
                || path.starts_with("/static/")
                || [
                    "/logout",
                    "/sw.js",
                    "/favicon.ico",
                    "/manifest.webmanifest",
                    "/healthz",
                ]
                .contains(path)
            {
                continue;
            }
            let url = fill(path, existing, &lesson);
            for (role, token) in &tokens {
                for body in bodies {
                    let sep = if url.contains('?') { '&' } else { '?' };
                    let target = app.url(&format!("{url}{sep}lang=zh-CN&page=abc"));
                    let req = match *method {
                        "get" => client.get(&target),
                        _ => client.post(&target).form(body),
                    };
                    let r = req.bearer_auth(token).send().await.unwrap();
                    let status = r.status().as_u16();
                    let html = r
                        .headers()
                        .get("content-type")
                        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/html"));
                    let text = r.text().await.unwrap();
                    assert!(status < 500, "{method} {url} as {role}: {status}\n{text}");
                    if !html {
                        continue;
                    }
                    pages += 1;
                    let words = english_words(&readable(&text));
                    if !words.is_empty() {
                        let said: String = readable(&text)
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ");
                        bad.push(format!(
                            "{method} {url} as {role} ({status}): {words:?} in \"{}\"",
                            said.chars().take(400).collect::<String>()
                        ));
                    }
                    if *method == "get" {
                        break;
                    }
                }
            }
        }
    }
    bad.sort();
    bad.dedup();
    assert!(
        bad.is_empty(),
        "{} of {pages} pages hold English:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
