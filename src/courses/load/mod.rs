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
//!
//! Here the package, its courses and their media; `lessons` and `quizzes`
//! read those folders, `files` reads plain files and nothing else.

mod files;
mod lessons;
mod quizzes;

use std::path::Path;

use super::package::{Course, Media, Skills};
use super::problem::Problem;
use super::raw::{RawCourse, RawSkills, RawTasks};
use super::rules::{self, Ctx};
use files::{entries, file_name, is_real_dir, list, parse, read_plain, read_text, show, sink};
use lessons::load_lessons;
use quizzes::load_quizzes;

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
