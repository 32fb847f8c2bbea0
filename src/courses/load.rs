//! Reading a package folder: walks the files, parses each strictly, applies
//! the per-file rules, then the rules across files (languages, media, quizzes).
//! Returns the best-effort model and every problem; never panics on content.
//!
//! A package is plain files and folders and nothing else: a symbolic link, a
//! hard link to a file elsewhere, a device, pipe or socket is a problem and is
//! never read (a link named like an image once carried the server's signing
//! key into a course). Files are opened without following links and checked
//! to be the regular file that was listed, so nothing outside the package can
//! be read whatever the names inside it say.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::markdown::lint;
use super::package::{Course, Lesson, LessonText, Media, Quiz, QuizKind, Skills};
use super::problem::{Problem, Sink, line_of};
use super::raw::{RawCourse, RawFront, RawQuiz, RawSkills, RawTasks};
use super::rules::{self, Ctx, is_slug};

/// A course read from a folder.
#[derive(Debug, Clone)]
pub struct LoadedCourse {
    /// The folder as shown in problems, e.g. `courses/smartphone-basics`.
    pub dir: String,
    pub course: Course,
}

/// The files besides the course folders allowed at the top of a package:
/// the framework, the script that makes the shipped narration, the one that
/// listens to it, the one that makes the shipped demonstration video, and
/// the authors' guide.
const TOP_FILES: [&str; 5] = [
    "skills.toml",
    "narrate",
    "listen",
    "make-video",
    "README.md",
];
const COURSE_ENTRIES: [&str; 5] = ["course.toml", "tasks.toml", "lessons", "quizzes", "media"];

/// Every problem in the package at `root` (empty: the package is fine).
pub fn check(root: &Path) -> Vec<Problem> {
    load_dir(root).2
}

/// Loads `skills.toml` and every course folder under `root`.
pub fn load_dir(root: &Path) -> (Option<Skills>, Vec<LoadedCourse>, Vec<Problem>) {
    let mut problems = Vec::new();
    let skills_path = root.join("skills.toml");
    let skills_file = show(&skills_path);
    let skills = load_skills(&skills_path, &mut problems);
    let mut courses = Vec::new();
    for entry in list(root, &mut problems) {
        let name = file_name(&entry);
        if is_real_dir(&entry) {
            let (course, mut found) =
                load_course(&entry, skills.as_ref().map(|s| (s, skills_file.as_str())));
            problems.append(&mut found);
            if let Some(course) = course {
                courses.push(LoadedCourse {
                    dir: show(&entry),
                    course,
                });
            }
        } else if !TOP_FILES.contains(&name.as_ref()) {
            problems.push(Problem::new(
                &show(&entry),
                None,
                "unexpected file (a package holds skills.toml, the narrate, listen and make-video scripts, a README.md and one folder per course)",
            ));
        }
    }
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    (skills, courses, problems)
}

/// Reads and checks `skills.toml`.
pub fn load_skills(path: &Path, problems: &mut Vec<Problem>) -> Option<Skills> {
    let file = show(path);
    let text = read_text(path, &file, problems)?;
    let raw: RawSkills = parse(&file, &text, 0, problems)?;
    let mut sink = sink(&file, &text, 0, problems);
    Some(rules::skills(&raw, &text, &mut sink))
}

/// Reads one course folder; `skills` is the framework with its file as shown.
pub fn load_course(dir: &Path, skills: Option<(&Skills, &str)>) -> (Option<Course>, Vec<Problem>) {
    let mut problems = Vec::new();
    let folder = file_name(dir);
    for entry in entries(dir, &mut problems) {
        let name = file_name(&entry);
        if !COURSE_ENTRIES.contains(&name.as_str()) {
            problems.push(Problem::new(
                &show(&entry),
                None,
                "unexpected file (a course holds course.toml, tasks.toml, lessons/, quizzes/, media/)",
            ));
        }
    }
    let course_path = dir.join("course.toml");
    let course_file = show(&course_path);
    let mut course = read_text(&course_path, &course_file, &mut problems).and_then(|text| {
        let raw: RawCourse = parse(&course_file, &text, 0, &mut problems)?;
        let mut sink = sink(&course_file, &text, 0, &mut problems);
        let mut course = rules::course(&raw, &folder, skills, &mut sink);
        course.source = Some(text);
        Some(course)
    });
    let media = load_media(&dir.join("media"), &mut problems);
    let media_paths: Vec<String> = media.iter().map(|m| m.path.clone()).collect();
    let ctx = Ctx {
        languages: course
            .as_ref()
            .map_or_else(rules::all_languages, |c| c.languages.clone()),
        competences: course.as_ref().map(|c| c.competences.clone()),
        to_cover: course.as_ref().map_or_else(Vec::new, |c| {
            let known = |code: &String| skills.is_none_or(|(s, _)| s.get(code).is_some());
            c.competences.iter().filter(|c| known(c)).cloned().collect()
        }),
        media: media_paths.clone(),
    };
    let (lessons, mut used) = load_lessons(&dir.join("lessons"), &ctx, &media_paths, &mut problems);
    let quizzes = load_quizzes(&dir.join("quizzes"), &lessons, &ctx, &mut problems);
    used.extend(super::package::quiz_audio(&quizzes).map(str::to_string));
    for m in &media_paths {
        if !used.contains(m) {
            problems.push(Problem::new(
                &show(&dir.join(m)),
                None,
                "not used by any lesson or question (delete it or show it in a lesson)",
            ));
        }
    }
    let tasks_path = dir.join("tasks.toml");
    let mut tasks = (Vec::new(), None);
    if tasks_path.exists() {
        let file = show(&tasks_path);
        if let Some(text) = read_text(&tasks_path, &file, &mut problems)
            && let Some(raw) = parse::<RawTasks>(&file, &text, 0, &mut problems)
        {
            let mut sink = sink(&file, &text, 0, &mut problems);
            tasks = (rules::tasks(&raw, &ctx, &mut sink), Some(text));
        }
    }
    if let Some(c) = course.as_mut() {
        c.lessons = lessons;
        c.quizzes = quizzes;
        (c.tasks, c.tasks_source) = tasks;
        c.media = media;
    }
    (course, problems)
}

fn load_media(dir: &Path, problems: &mut Vec<Problem>) -> Vec<Media> {
    let mut media = Vec::new();
    if !dir.exists() {
        return media;
    }
    for entry in entries(dir, problems) {
        let file = show(&entry);
        let name = file_name(&entry);
        if is_real_dir(&entry) {
            problems.push(Problem::new(
                &file,
                None,
                "folders are not allowed in media/",
            ));
            continue;
        }
        if super::media::Kind::of(&name).is_none() {
            problems.push(Problem::new(&file, None, super::media::KINDS));
            continue;
        }
        let bytes = match read_plain(&entry, super::media::LARGEST as u64 + 1) {
            Ok(b) => b,
            Err(e) => {
                problems.push(Problem::new(&file, None, format!("cannot read: {e}")));
                continue;
            }
        };
        for why in super::media::judge(&name, &bytes) {
            problems.push(Problem::new(&file, None, why));
        }
        media.push(Media {
            path: format!("media/{name}"),
            bytes,
        });
    }
    media
}

/// `01-power-and-touch.zh-CN.md` → (1, "power-and-touch", "zh-CN").
fn lesson_name(name: &str) -> Option<(u8, String, String)> {
    let stem = name.strip_suffix(".md")?;
    let (stem, lang) = stem.rsplit_once('.')?;
    let (number, slug) = lesson_stem(stem)?;
    Some((number, slug, lang.to_string()))
}

/// `01-power-and-touch` → (1, "power-and-touch").
fn lesson_stem(stem: &str) -> Option<(u8, String)> {
    let (number, slug) = stem.split_once('-')?;
    if number.len() != 2 || !number.bytes().all(|b| b.is_ascii_digit()) || !is_slug(slug) {
        return None;
    }
    Some((number.parse().ok()?, slug.to_string()))
}

/// Returns the lessons and the media paths they use.
fn load_lessons(
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
        if let Some(companions) = super::media::video_companions(&path) {
            for c in companions {
                if !media.contains(&c) {
                    sink.at(at, format!("video \"{path}\" needs \"{c}\" beside it (its poster and its sound alone; the lesson editor makes both)"));
                }
                used.push(c);
            }
            for lang in &ctx.languages {
                if let Some(vtt) = super::media::captions_of(&path, lang) {
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

fn load_quizzes(
    dir: &Path,
    lessons: &[Lesson],
    ctx: &Ctx,
    problems: &mut Vec<Problem>,
) -> Vec<Quiz> {
    let mut quizzes: Vec<Quiz> = Vec::new();
    let mut pre_post: BTreeMap<&str, bool> = BTreeMap::from([("pre", false), ("post", false)]);
    for entry in entries(dir, problems) {
        let file = show(&entry);
        let name = file_name(&entry);
        let stem = name.strip_suffix(".toml").unwrap_or("");
        let (kind, lesson_slug) = match stem {
            "pre" => (QuizKind::Pre, None),
            "post" => (QuizKind::Post, None),
            _ => match lesson_stem(stem) {
                Some((n, slug)) if lessons.iter().any(|l| l.number == n && l.slug == slug) => {
                    (QuizKind::Lesson, Some(slug))
                }
                _ => {
                    problems.push(Problem::new(
                        &file,
                        None,
                        "a quiz is pre.toml, post.toml or named like its lesson (e.g. 01-power-and-touch.toml)",
                    ));
                    continue;
                }
            },
        };
        if let Some(seen) = pre_post.get_mut(stem) {
            *seen = true;
        }
        let Some(text) = read_text(&entry, &file, problems) else {
            continue;
        };
        let Some(raw) = parse::<RawQuiz>(&file, &text, 0, problems) else {
            continue;
        };
        let mut sink = sink(&file, &text, 0, problems);
        let mut quiz = rules::quiz(&raw, stem, kind, lesson_slug, ctx, &mut sink);
        quiz.source = Some(text);
        quizzes.push(quiz);
    }
    for (stem, seen) in pre_post {
        if !seen {
            let what = if stem == "pre" {
                "pre-test"
            } else {
                "post-test"
            };
            problems.push(Problem::new(
                &show(&dir.join(format!("{stem}.toml"))),
                None,
                format!("missing: every course needs a {what}"),
            ));
        }
    }
    // pre, post, then lesson checks in lesson order
    quizzes.sort_by_key(|q| match q.kind {
        QuizKind::Pre => (0, String::new()),
        QuizKind::Post => (1, String::new()),
        QuizKind::Lesson => (2, q.slug.clone()),
    });
    quizzes
}

fn sink<'a>(
    file: &'a str,
    text: &'a str,
    offset: usize,
    problems: &'a mut Vec<Problem>,
) -> Sink<'a> {
    Sink {
        file,
        text,
        line_offset: offset,
        problems,
    }
}

/// Parses strict TOML; a syntax or shape error becomes one problem at its line.
fn parse<T: DeserializeOwned>(
    file: &str,
    text: &str,
    line_offset: usize,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    match toml::from_str::<T>(body) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map(|s| line_of(body, s.start) + line_offset);
            let message = e.message().trim().replace('\n', " ");
            problems.push(Problem::new(file, line, message));
            None
        }
    }
}

/// Reads a UTF-8 text file; anything else is a problem.
fn read_text(path: &Path, file: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let bytes = match read_plain(path, TEXT_LIMIT) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problems.push(Problem::new(file, None, "missing"));
            return None;
        }
        Err(e) => {
            problems.push(Problem::new(file, None, format!("cannot read: {e}")));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let line = e
                .as_bytes()
                .get(..good)
                .map_or(1, |b| b.iter().filter(|&&c| c == b'\n').count() + 1);
            problems.push(Problem::new(
                file,
                Some(line),
                "not UTF-8 text (save the file as UTF-8)",
            ));
            None
        }
    }
}

/// The most bytes a text file of a package (TOML, Markdown) may have.
const TEXT_LIMIT: u64 = 4 << 20;

/// Whether `path` is a folder itself, not a link to one.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Why an entry of a package is not a plain file or folder, if it is not.
fn not_plain(meta: &fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Some(
            "a symbolic link: a package holds only plain files and folders (copy the file in instead)",
        );
    }
    if kind.is_dir() {
        return None;
    }
    if !kind.is_file() {
        return Some("not a plain file (a device, pipe or socket): it is never read");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Some(
                "a hard link to a file elsewhere: a package holds only its own files (copy the file in instead)",
            );
        }
    }
    None
}

/// The bytes of the plain file at `path`, at most `limit`: opened without
/// following a symbolic link (and without waiting on a pipe), and refused
/// unless what was opened is a regular file with no other name.
fn read_plain(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let refuse = |why: &str| std::io::Error::other(why.to_string());
    let before = fs::symlink_metadata(path)?;
    if let Some(why) = not_plain(&before) {
        return Err(refuse(why));
    }
    if before.is_dir() {
        return Err(refuse("a folder, where a file was expected"));
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let opened = file.metadata()?;
    if let Some(why) = not_plain(&opened) {
        return Err(refuse(why));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
            return Err(refuse("the file changed while it was read"));
        }
    }
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The folder's entries, sorted, without hidden files. A folder that is a
/// link has no entries; an entry that is not a plain file or folder is a
/// problem and left out.
fn entries(dir: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    if let Ok(meta) = fs::symlink_metadata(dir)
        && let Some(why) = not_plain(&meta)
    {
        problems.push(Problem::new(&show(dir), None, why));
        return Vec::new();
    }
    list(dir, problems)
}

/// [`entries`] of the package's own folder, which may be reached through a
/// link (it is the one path given by whoever imports).
fn list(dir: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    match fs::read_dir(dir) {
        Ok(read) => {
            let mut out: Vec<PathBuf> = Vec::new();
            for path in read.filter_map(Result::ok).map(|e| e.path()) {
                if file_name(&path).starts_with('.') {
                    continue;
                }
                match fs::symlink_metadata(&path) {
                    Ok(meta) => match not_plain(&meta) {
                        Some(why) => problems.push(Problem::new(&show(&path), None, why)),
                        None => out.push(path),
                    },
                    Err(e) => problems.push(Problem::new(
                        &show(&path),
                        None,
                        format!("cannot read: {e}"),
                    )),
                }
            }
            out.sort();
            out
        }
        Err(e) => {
            let message = if e.kind() == std::io::ErrorKind::NotFound {
                "missing folder".to_string()
            } else {
                format!("cannot read folder: {e}")
            };
            problems.push(Problem::new(&show(dir), None, message));
            Vec::new()
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A path as shown in problems: as given, with `/` separators.
fn show(path: &Path) -> String {
    path.display().to_string().replace('\\', "/")
}
