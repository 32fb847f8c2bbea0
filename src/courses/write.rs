//! Writing a course back as files: a file's stored source verbatim, otherwise
//! its canonical form (for courses authored in the browser). The canonical
//! form is stable: emit → load → emit gives the same bytes.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use super::package::{Course, LessonText, Question, Quiz, Skills, Task, Text};

/// Writes `course` into `dir` (created if needed). Existing files with the
/// same names are replaced; other files are left alone.
pub fn write_course(course: &Course, dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir.join("lessons"))?;
    fs::create_dir_all(dir.join("quizzes"))?;
    let course_toml = course
        .source
        .clone()
        .unwrap_or_else(|| emit_course_toml(course));
    fs::write(dir.join("course.toml"), course_toml)?;
    for lesson in &course.lessons {
        for (lang, text) in &lesson.texts {
            let name = format!("{}.{lang}.md", lesson.stem());
            let body = text.source.clone().unwrap_or_else(|| emit_lesson(text));
            fs::write(dir.join("lessons").join(name), body)?;
        }
    }
    for quiz in &course.quizzes {
        let body = quiz.source.clone().unwrap_or_else(|| emit_quiz(quiz));
        fs::write(
            dir.join("quizzes").join(format!("{}.toml", quiz.slug)),
            body,
        )?;
    }
    if let Some(source) = &course.tasks_source {
        fs::write(dir.join("tasks.toml"), source)?;
    } else if !course.tasks.is_empty() {
        fs::write(dir.join("tasks.toml"), emit_tasks(&course.tasks))?;
    }
    if !course.media.is_empty() {
        fs::create_dir_all(dir.join("media"))?;
    }
    for media in &course.media {
        // Only plain `media/<file>` names: a stored path never escapes `dir`.
        if super::markdown::is_media_path(&media.path) {
            fs::write(dir.join(&media.path), &media.bytes)?;
        }
    }
    Ok(())
}

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare { k.to_string() } else { string(k) }
}

/// Languages in package order (`zh-CN` first), then any others by name.
fn ordered(t: &Text) -> Vec<(&String, &String)> {
    let mut items: Vec<_> = t.iter().collect();
    items.sort_by_key(|(k, _)| {
        let rank = super::package::LANGUAGES
            .iter()
            .position(|l| l == k)
            .unwrap_or(usize::MAX);
        (rank, k.to_string())
    });
    items
}

/// `{ zh-CN = "…", en = "…" }` on one line.
fn inline(t: &Text) -> String {
    let parts: Vec<String> = ordered(t)
        .into_iter()
        .map(|(k, v)| format!("{} = {}", key(k), string(v)))
        .collect();
    if parts.is_empty() {
        "{}".to_string()
    } else {
        format!("{{ {} }}", parts.join(", "))
    }
}

fn array(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// Shortest text that reads back as the same number (`3`, `1.5`).
fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:?}")
    }
}

fn table(out: &mut String, name: &str, t: &Text) {
    let _ = writeln!(out, "\n[{name}]");
    for (k, v) in ordered(t) {
        let _ = writeln!(out, "{} = {}", key(k), string(v));
    }
}

pub fn emit_course_toml(c: &Course) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "slug = {}", string(&c.slug));
    let _ = writeln!(out, "category = {}", string(&c.category));
    let _ = writeln!(out, "level = {}", c.level);
    let _ = writeln!(out, "languages = {}", array(&c.languages));
    let _ = writeln!(out, "competences = {}", array(&c.competences));
    let _ = writeln!(out, "pass_mark = {}", c.pass_mark);
    let _ = writeln!(out, "hours = {}", number(c.hours));
    if c.post_test != Default::default() {
        let _ = writeln!(out, "post_test = {}", string(c.post_test.name()));
    }
    table(&mut out, "title", &c.title);
    table(&mut out, "summary", &c.summary);
    out
}

pub fn emit_lesson(l: &LessonText) -> String {
    let mut out = String::from("+++\n");
    let _ = writeln!(out, "title = {}", string(&l.title));
    let _ = writeln!(out, "minutes = {}", l.minutes);
    let _ = writeln!(out, "competences = {}", array(&l.competences));
    if let Some(audio) = &l.audio {
        let _ = writeln!(out, "audio = {}", string(audio));
    }
    if !l.tracks.is_empty() {
        let _ = writeln!(out, "tracks = [");
        for t in &l.tracks {
            let _ = writeln!(
                out,
                "  {{ id = {}, label = {}, audio = {} }},",
                string(&t.id),
                inline(&t.label),
                string(&t.audio)
            );
        }
        let _ = writeln!(out, "]");
    }
    out.push_str("+++\n");
    out.push_str(&l.body_md);
    out
}

pub fn emit_quiz(q: &Quiz) -> String {
    let mut out = String::new();
    if let Some(title) = &q.title {
        let _ = writeln!(out, "title = {}", inline(title));
    }
    for question in &q.questions {
        if !out.is_empty() {
            out.push('\n');
        }
        emit_question(&mut out, question);
    }
    out
}

fn emit_question(out: &mut String, q: &Question) {
    let _ = writeln!(out, "[[question]]");
    let _ = writeln!(out, "id = {}", string(&q.id));
    let _ = writeln!(out, "kind = {}", string(&q.kind.name()));
    let _ = writeln!(out, "competence = {}", string(&q.competence));
    if q.points != 1 {
        let _ = writeln!(out, "points = {}", q.points);
    }
    let _ = writeln!(out, "prompt = {}", inline(&q.prompt));
    if !q.audio.is_empty() {
        let _ = writeln!(out, "audio = {}", inline(&q.audio));
    }
    if q.kind.has_choices() || !q.choices.is_empty() {
        let _ = writeln!(out, "choices = [");
        for c in &q.choices {
            let audio = if c.audio.is_empty() {
                String::new()
            } else {
                format!(", audio = {}", inline(&c.audio))
            };
            let _ = writeln!(
                out,
                "  {{ id = {}, text = {}{audio} }},",
                string(&c.id),
                inline(&c.text)
            );
        }
        let _ = writeln!(out, "]");
    }
    let _ = writeln!(out, "answer = {}", array(&q.answer));
    if let Some(t) = q.tolerance {
        let _ = writeln!(out, "tolerance = {}", number(t));
    }
    let _ = writeln!(out, "explain = {}", inline(&q.explain));
}

pub fn emit_tasks(tasks: &[Task]) -> String {
    let mut out = String::new();
    for t in tasks {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "[[task]]");
        let _ = writeln!(out, "id = {}", string(&t.id));
        let _ = writeln!(out, "competence = {}", string(&t.competence));
        let _ = writeln!(out, "required = {}", t.required);
        let _ = writeln!(out, "title = {}", inline(&t.title));
        let _ = writeln!(out, "evidence = {}", inline(&t.evidence));
    }
    out
}

pub fn emit_skills(s: &Skills) -> String {
    let mut out = String::new();
    for c in &s.competences {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "[[competence]]");
        let _ = writeln!(out, "code = {}", string(&c.code));
        let _ = writeln!(out, "area = {}", string(&c.area));
        let _ = writeln!(out, "digcomp = {}", array(&c.digcomp));
        let _ = writeln!(out, "itu = {}", array(&c.itu));
        let _ = writeln!(out, "title = {}", inline(&c.title));
        let _ = writeln!(out, "level1 = {}", inline(&c.level1));
        let _ = writeln!(out, "level2 = {}", inline(&c.level2));
    }
    out
}
