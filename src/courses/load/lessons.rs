//! The lessons/ folder of a course: one file a lesson and language, named by
//! number and slug, each with front matter, a linted body and the media it
//! shows.

use std::collections::BTreeMap;
use std::path::Path;

use super::files::{entries, file_name, parse, read_text, show, sink};
use crate::courses::markdown::lint;
use crate::courses::package::{Lesson, LessonText};
use crate::courses::problem::{Problem, Sink};
use crate::courses::raw::RawFront;
use crate::courses::rules::{self, Ctx, is_slug};

/// `01-power-and-touch.zh-CN.md` → (1, "power-and-touch", "zh-CN").
fn lesson_name(name: &str) -> Option<(u8, String, String)> {
    let stem = name.strip_suffix(".md")?;
    let (stem, lang) = stem.rsplit_once('.')?;
    let (number, slug) = lesson_stem(stem)?;
    Some((number, slug, lang.to_string()))
}

/// `01-power-and-touch` → (1, "power-and-touch").
pub(super) fn lesson_stem(stem: &str) -> Option<(u8, String)> {
    let (number, slug) = stem.split_once('-')?;
    if number.len() != 2 || !number.bytes().all(|b| b.is_ascii_digit()) || !is_slug(slug) {
        return None;
    }
    Some((number.parse().ok()?, slug.to_string()))
}

/// Returns the lessons and the media paths they use.
pub(super) fn load_lessons(
    dir: &Path,
    ctx: &Ctx,
    media: &[String],
    problems: &mut Vec<Problem>,
) -> (Vec<Lesson>, Vec<String>) {
    let mut lessons: BTreeMap<(u8, String), Lesson> = BTreeMap::new();
    let mut files: BTreeMap<(u8, String), Vec<(String, String)>> = BTreeMap::new();
    let mut used = Vec::new();
    if !dir.exists() {
        problems.push(Problem::new(&show(dir), None, "no lessons/ folder"));
        return (Vec::new(), used);
    }
    for entry in entries(dir, problems) {
        let file = show(&entry);
        let Some((number, slug, lang)) = lesson_name(&file_name(&entry)) else {
            problems.push(Problem::new(
                &file,
                None,
                "file name must look like NN-lesson-slug.LANG.md (e.g. 01-power-and-touch.zh-CN.md)",
            ));
            continue;
        };
        if !ctx.languages.contains(&lang) {
            problems.push(Problem::new(
                &file,
                None,
                format!(
                    "language \"{lang}\" is not one of the course's languages {}",
                    ctx.languages.join(", ")
                ),
            ));
            continue;
        }
        files
            .entry((number, slug.clone()))
            .or_default()
            .push((lang.clone(), file.clone()));
        let Some(text) = read_text(&entry, &file, problems) else {
            continue;
        };
        let Some(mut lesson_text) = lesson_file(&file, &text, ctx, media, &mut used, problems)
        else {
            continue;
        };
        if !lesson_text.tracks.is_empty() && ctx.languages.first() != Some(&lang) {
            problems.push(Problem::new(
                &file,
                None,
                "tracks belong in the default language's file (a spoken variety has no written version)",
            ));
        }
        lesson_text.source = Some(text);
        lessons
            .entry((number, slug.clone()))
            .or_insert_with(|| Lesson {
                number,
                slug,
                texts: BTreeMap::new(),
            })
            .texts
            .insert(lang, lesson_text);
    }
    lesson_keys(&files, ctx, problems);
    if files.is_empty() {
        problems.push(Problem::new(&show(dir), None, "no lessons"));
    }
    (lessons.into_values().collect(), used)
}

/// Numbers and slugs are each used by one lesson; every lesson has the default language.
fn lesson_keys(
    files: &BTreeMap<(u8, String), Vec<(String, String)>>,
    ctx: &Ctx,
    problems: &mut Vec<Problem>,
) {
    let mut by_number: BTreeMap<u8, &str> = BTreeMap::new();
    let mut by_slug: BTreeMap<&str, u8> = BTreeMap::new();
    let default = ctx.languages.first().map_or("zh-CN", String::as_str);
    for ((number, slug), versions) in files {
        let first_file = versions.first().map_or("", |(_, f)| f.as_str());
        if let Some(other) = by_number.insert(*number, slug) {
            problems.push(Problem::new(
                first_file,
                None,
                format!("lesson number {number:02} is also used by \"{other}\""),
            ));
        }
        if let Some(other) = by_slug.insert(slug, *number) {
            problems.push(Problem::new(
                first_file,
                None,
                format!("lesson slug \"{slug}\" is also used by lesson {other:02}"),
            ));
        }
        if !versions.iter().any(|(lang, _)| lang == default) {
            for (_, file) in versions {
                problems.push(Problem::new(
                    file,
                    None,
                    format!("no {default} version, and {default} is the course's default language"),
                ));
            }
        }
    }
}

/// One lesson file: front matter, body lint, media references.
fn lesson_file(
    file: &str,
    text: &str,
    ctx: &Ctx,
    media: &[String],
    used: &mut Vec<String>,
    problems: &mut Vec<Problem>,
) -> Option<LessonText> {
    let (front, body, body_line) = match split_front_matter(text) {
        Ok(parts) => parts,
        Err(message) => {
            problems.push(Problem::new(file, Some(1), message));
            return None;
        }
    };
    let raw: RawFront = parse(file, front, 1, problems)?;
    let mut sink = sink(file, front, 1, problems);
    let mut lesson = rules::lesson_front(&raw, ctx, media, &mut sink);
    if let Some(audio) = &lesson.audio {
        used.push(audio.clone());
    }
    used.extend(lesson.tracks.iter().map(|t| t.audio.clone()));
    let found = lint(body);
    let mut sink = Sink {
        file,
        text: body,
        line_offset: body_line - 1,
        problems,
    };
    for (at, message) in found.problems {
        sink.at(at, message);
    }
    for (at, path) in found.images {
        if !media.contains(&path) {
            sink.at(at, format!("image \"{path}\": no such file in media/"));
        }
        if let Some(companions) = crate::courses::media::video_companions(&path) {
            for c in companions {
                if !media.contains(&c) {
                    sink.at(at, format!("video \"{path}\" needs \"{c}\" beside it (its poster and its sound alone; the lesson editor makes both)"));
                }
                used.push(c);
            }
            for lang in &ctx.languages {
                if let Some(vtt) = crate::courses::media::captions_of(&path, lang) {
                    used.push(vtt);
                }
            }
        }
        used.push(path);
    }
    lesson.body_md = body.to_string();
    Some(lesson)
}

/// Splits `+++` front matter from the body: (front matter, body, body's first line).
fn split_front_matter(text: &str) -> Result<(&str, &str, usize), &'static str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "+++" {
        return Err(
            "no front matter: start the file with a +++ line, then title, minutes and competences, then +++",
        );
    }
    let mut offset = first.len();
    for (n, line) in lines.enumerate() {
        if line.trim_end() == "+++" {
            let front = text.get(first.len()..offset).unwrap_or("");
            let body = text.get(offset + line.len()..).unwrap_or("");
            return Ok((front, body, n + 3));
        }
        offset += line.len();
    }
    Err("front matter is not closed: add a +++ line after it")
}
