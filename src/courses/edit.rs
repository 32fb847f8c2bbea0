//! The edits a trainer makes in the browser, applied to the package model.
//! Each edit forgets the stored file text of what it touched, so export and
//! the content hash use the canonical form of exactly the changed files.
//! Nothing here judges the content: the same rules as for files do that.

use std::collections::BTreeMap;

use super::package::{Course, Lesson, LessonText, Media, Question, Quiz, QuizKind, Task, Text};

/// The quiz slug of a lesson check: `01-power-and-touch`.
fn check_slug(number: u8, lesson: &str) -> String {
    format!("{number:02}-{lesson}")
}

/// Numbers lessons 1, 2, 3… in their order and keeps each lesson check named
/// like its lesson (a reorder renames `02-x.toml` to `01-x.toml`).
pub fn renumber(c: &mut Course) {
    let mut numbers = BTreeMap::new();
    for (i, lesson) in c.lessons.iter_mut().enumerate() {
        lesson.number = u8::try_from(i + 1).unwrap_or(u8::MAX);
        numbers.insert(lesson.slug.clone(), lesson.number);
    }
    for quiz in &mut c.quizzes {
        if let Some(n) = quiz.lesson_slug.as_ref().and_then(|s| numbers.get(s)) {
            quiz.slug = check_slug(*n, quiz.lesson_slug.as_deref().unwrap_or_default());
        }
    }
    sort_quizzes(c);
}

/// `pre`, `post`, then lesson checks in lesson order (as the loader orders them).
fn sort_quizzes(c: &mut Course) {
    c.quizzes.sort_by_key(|q| match q.kind {
        QuizKind::Pre => (0, String::new()),
        QuizKind::Post => (1, String::new()),
        QuizKind::Lesson => (2, q.slug.clone()),
    });
}

/// A slug for a lesson or a task no one typed one for: its title spelled
/// in pinyin (`pai-cha-ye`, at most 40 characters, cut at a word's end),
/// else `{kind}-{n}` (`lesson-3`); `-2`, `-3`… added until no slug in
/// `taken` has it.
pub fn derive_slug(title: &str, kind: &str, n: usize, taken: &[&str]) -> String {
    let spelled = super::Slug::from_title(title).map(String::from);
    let base = match spelled {
        Some(s) if s.len() > 40 => s[..40]
            .rsplit_once('-')
            .map_or_else(|| s[..40].to_string(), |(head, _)| head.to_string()),
        Some(s) => s,
        None => format!("{kind}-{n}"),
    };
    (1..)
        .map(|i| {
            if i == 1 {
                base.clone()
            } else {
                format!("{base}-{i}")
            }
        })
        .find(|s| !taken.contains(&s.as_str()))
        .unwrap_or(base)
}

/// Adds a lesson at the end with its default-language text.
pub fn add_lesson(c: &mut Course, slug: &str, title: &str) {
    let lang = c.default_language().to_string();
    let competences = c.competences.iter().take(1).cloned().collect();
    let mut texts = BTreeMap::new();
    texts.insert(
        lang,
        LessonText {
            title: title.to_string(),
            minutes: 5,
            competences,
            audio: None,
            tracks: Vec::new(),
            body_md: String::new(),
            source: None,
        },
    );
    c.lessons.push(Lesson {
        number: 0,
        slug: slug.to_string(),
        texts,
    });
    renumber(c);
}

/// Moves a lesson one place up or down; false when it cannot move.
pub fn move_lesson(c: &mut Course, slug: &str, up: bool) -> bool {
    let Some(i) = c.lessons.iter().position(|l| l.slug == slug) else {
        return false;
    };
    let j = if up {
        i.checked_sub(1)
    } else {
        Some(i + 1).filter(|j| *j < c.lessons.len())
    };
    let Some(j) = j else {
        return false;
    };
    c.lessons.swap(i, j);
    renumber(c);
    true
}

/// A lesson's new content: shared settings and one text per language (a
/// language left blank is removed).
#[derive(Debug, Clone, Default)]
pub struct LessonEdit {
    pub minutes: u32,
    pub competences: Vec<String>,
    /// Language → (title, Markdown body).
    pub texts: BTreeMap<String, (String, String)>,
}

pub fn set_lesson(c: &mut Course, slug: &str, edit: &LessonEdit) -> bool {
    let Some(lesson) = c.lessons.iter_mut().find(|l| l.slug == slug) else {
        return false;
    };
    let mut texts = BTreeMap::new();
    for (lang, (title, body)) in &edit.texts {
        if title.trim().is_empty() && body.trim().is_empty() {
            continue;
        }
        let audio = lesson.texts.get(lang).and_then(|t| t.audio.clone());
        let tracks = lesson
            .texts
            .get(lang)
            .map(|t| t.tracks.clone())
            .unwrap_or_default();
        texts.insert(
            lang.clone(),
            LessonText {
                title: title.trim().to_string(),
                minutes: edit.minutes,
                competences: edit.competences.clone(),
                audio,
                tracks,
                body_md: body.replace("\r\n", "\n"),
                source: None,
            },
        );
    }
    lesson.texts = texts;
    true
}

/// Gives one language version of a lesson its narration (`Some((extension,
/// bytes))`, stored as `media/NN-slug.LANG.EXT`) or takes it away (`None`).
/// A media file no text uses any more goes with it. False when the lesson
/// has no text in that language.
pub fn set_narration(
    c: &mut Course,
    lesson: &str,
    lang: &str,
    audio: Option<(&str, Vec<u8>)>,
) -> bool {
    let Some(l) = c.lessons.iter_mut().find(|l| l.slug == lesson) else {
        return false;
    };
    let stem = l.stem();
    let Some(text) = l.texts.get_mut(lang) else {
        return false;
    };
    let old = text.audio.take();
    text.source = None;
    if let Some((ext, bytes)) = audio {
        let path = format!("media/{stem}.{lang}.{ext}");
        c.media.retain(|m| m.path != path);
        c.media.push(Media {
            path: path.clone(),
            bytes,
        });
        text.audio = Some(path);
    }
    if let Some(old) = old {
        let used = c
            .lessons
            .iter()
            .flat_map(|l| l.texts.values())
            .any(|t| t.audio.as_deref() == Some(old.as_str()));
        if !used {
            c.media.retain(|m| m.path != old);
        }
    }
    c.media.sort_by(|a, b| a.path.cmp(&b.path));
    true
}

/// Adds a picture to a lesson: stored as `media/{lesson}-{n}.{ext}` (the
/// first free `n`) and, when `append`, shown at the end of the lesson's text
/// in the course's first language, described by `alt` (else the author's
/// editor places it). Its path, or `None` when the lesson has no text in
/// that language.
pub fn add_picture(
    c: &mut Course,
    lesson: &str,
    ext: &str,
    bytes: Vec<u8>,
    alt: &str,
    append: bool,
) -> Option<String> {
    let lang = c.default_language().to_string();
    let path = (1..)
        .map(|n| format!("media/{lesson}-{n}.{ext}"))
        .find(|p| !c.media.iter().any(|m| &m.path == p))?;
    let text = c
        .lessons
        .iter_mut()
        .find(|l| l.slug == lesson)?
        .texts
        .get_mut(&lang)?;
    if append {
        let body = text.body_md.trim_end();
        let sep = if body.is_empty() { "" } else { "\n\n" };
        let alt = alt.replace(['[', ']'], "");
        text.body_md = format!("{body}{sep}![{alt}]({path})\n");
        text.source = None;
    }
    c.media.push(Media {
        path: path.clone(),
        bytes,
    });
    c.media.sort_by(|a, b| a.path.cmp(&b.path));
    Some(path)
}

/// Adds a made video to a lesson: `media/{lesson}-video-{n}.mp4` (the first
/// free `n`) with its poster (`.jpg`) and its sound alone (`.opus`), shown
/// at the end of the lesson's text in the course's first language as
/// `![alt](…mp4)`. Its path, or `None` when the lesson has no text in that
/// language.
pub fn add_video(
    c: &mut Course,
    lesson: &str,
    alt: &str,
    (video, poster, audio): (Vec<u8>, Vec<u8>, Vec<u8>),
) -> Option<String> {
    let lang = c.default_language().to_string();
    let stem = (1..)
        .map(|n| format!("media/{lesson}-video-{n}"))
        .find(|p| !c.media.iter().any(|m| m.path.starts_with(&format!("{p}."))))?;
    let text = c
        .lessons
        .iter_mut()
        .find(|l| l.slug == lesson)?
        .texts
        .get_mut(&lang)?;
    let path = format!("{stem}.mp4");
    let body = text.body_md.trim_end();
    let sep = if body.is_empty() { "" } else { "\n\n" };
    let alt = alt.replace(['[', ']'], "");
    text.body_md = format!("{body}{sep}![{alt}]({path})\n");
    text.source = None;
    for (ext, bytes) in [("mp4", video), ("jpg", poster), ("opus", audio)] {
        c.media.push(Media {
            path: format!("{stem}.{ext}"),
            bytes,
        });
    }
    c.media.sort_by(|a, b| a.path.cmp(&b.path));
    Some(path)
}

/// Sets (or, with `None`, removes) the captions of a lesson video in a
/// language: `media/NAME.LANG.vtt` beside `media/NAME.mp4`. False when the
/// course has no such video.
pub fn set_captions(c: &mut Course, video: &str, lang: &str, vtt: Option<Vec<u8>>) -> bool {
    if !c.media.iter().any(|m| m.path == video) {
        return false;
    }
    let Some(path) = super::media::captions_of(video, lang) else {
        return false;
    };
    c.media.retain(|m| m.path != path);
    if let Some(bytes) = vtt {
        c.media.push(Media { path, bytes });
        c.media.sort_by(|a, b| a.path.cmp(&b.path));
    }
    true
}

/// The quiz with this slug; a lesson check is made when its lesson exists.
pub fn quiz_mut<'a>(c: &'a mut Course, slug: &str) -> Option<&'a mut Quiz> {
    if !c.quizzes.iter().any(|q| q.slug == slug) {
        let (kind, lesson_slug) = match slug {
            "pre" => (QuizKind::Pre, None),
            "post" => (QuizKind::Post, None),
            _ => {
                let lesson = c
                    .lessons
                    .iter()
                    .find(|l| check_slug(l.number, &l.slug) == slug)?;
                (QuizKind::Lesson, Some(lesson.slug.clone()))
            }
        };
        c.quizzes.push(Quiz {
            slug: slug.to_string(),
            kind,
            lesson_slug,
            title: None,
            questions: Vec::new(),
            source: None,
        });
        sort_quizzes(c);
    }
    let quiz = c.quizzes.iter_mut().find(|q| q.slug == slug)?;
    quiz.source = None;
    Some(quiz)
}

/// The next free question id (`q1`, `q2`, …).
pub fn next_question_id(q: &Quiz) -> String {
    (1..)
        .map(|n| format!("q{n}"))
        .find(|id| q.questions.iter().all(|x| &x.id != id))
        .unwrap_or_default()
}

/// Replaces the question with the same id, or adds it at the end.
pub fn upsert_question(q: &mut Quiz, question: Question) {
    match q.questions.iter_mut().find(|x| x.id == question.id) {
        Some(old) => {
            let mut question = question;
            super::edit_audio::keep_audio(old, &mut question);
            *old = question;
        }
        None => q.questions.push(question),
    }
    q.source = None;
}

pub fn delete_question(q: &mut Quiz, id: &str) -> bool {
    let before = q.questions.len();
    q.questions.retain(|x| x.id != id);
    q.source = None;
    q.questions.len() != before
}

/// Replaces the task with the same id, or adds it at the end.
pub fn upsert_task(c: &mut Course, task: Task) {
    match c.tasks.iter_mut().find(|t| t.id == task.id) {
        Some(old) => *old = task,
        None => c.tasks.push(task),
    }
    c.tasks_source = None;
}

pub fn delete_task(c: &mut Course, id: &str) -> bool {
    let before = c.tasks.len();
    c.tasks.retain(|t| t.id != id);
    c.tasks_source = None;
    c.tasks.len() != before
}

/// Course metadata from the edit form.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub category: String,
    pub level: u8,
    pub languages: Vec<String>,
    pub competences: Vec<String>,
    pub pass_mark: u8,
    pub hours: f64,
    pub title: Text,
    pub summary: Text,
}

pub fn set_meta(c: &mut Course, m: &Meta) {
    c.category = m.category.clone();
    c.level = m.level;
    c.languages = m.languages.clone();
    c.competences = m.competences.clone();
    c.pass_mark = m.pass_mark;
    c.hours = m.hours;
    c.title = m.title.clone();
    c.summary = m.summary.clone();
    c.source = None;
}

/// A new, empty course: metadata, and empty pre- and post-tests to fill in.
pub fn new_course(slug: &str, m: &Meta) -> Course {
    let mut c = Course::empty(slug);
    set_meta(&mut c, m);
    for slug in ["pre", "post"] {
        quiz_mut(&mut c, slug);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course() -> Course {
        let meta = Meta {
            category: "it".into(),
            level: 1,
            languages: vec!["zh-CN".into()],
            competences: vec!["it.connect".into()],
            pass_mark: 80,
            hours: 1.0,
            title: Text::from([("zh-CN".into(), "课".into())]),
            summary: Text::from([("zh-CN".into(), "简介".into())]),
        };
        new_course("c", &meta)
    }

    #[test]
    fn slugs_are_made_from_titles() {
        assert_eq!(
            derive_slug("拍好茶叶照片", "lesson", 1, &[]),
            "pai-hao-cha-ye-zhao-pian"
        );
        assert_eq!(derive_slug("！！", "lesson", 3, &[]), "lesson-3");
        assert_eq!(
            derive_slug("绿茶", "task", 1, &["lv-cha", "lv-cha-2"]),
            "lv-cha-3"
        );
        let long = derive_slug(&"网店拍照".repeat(6), "lesson", 1, &[]);
        assert!(long.len() <= 40 && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn reorder_renames_lesson_checks() {
        let mut c = course();
        add_lesson(&mut c, "a", "A");
        add_lesson(&mut c, "b", "B");
        assert!(quiz_mut(&mut c, "02-b").is_some());
        assert!(quiz_mut(&mut c, "03-b").is_none());
        assert!(move_lesson(&mut c, "b", true));
        assert!(!move_lesson(&mut c, "b", true));
        let slugs: Vec<_> = c.quizzes.iter().map(|q| q.slug.as_str()).collect();
        assert_eq!(slugs, ["pre", "post", "01-b"]);
        assert_eq!(c.lessons[1].stem(), "02-a");
    }
}
