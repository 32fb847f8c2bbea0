//! The browser's edits of what is heard besides the narration: a lesson's
//! dialect tracks and the audio of a question's prompt and choices. Like
//! `edit`, each forgets the stored text of the file it touched; `prune`
//! drops audio no file names any more (a deleted question's, a replaced
//! recording's), so the draft never holds a file the loader would call unused.

use super::audio::AUDIO_TYPES;
use super::package::{Course, Media, Question, Text, Track, quiz_audio};

/// Puts `bytes` in media/ under `path` (replacing a file of that name).
fn put(c: &mut Course, path: &str, bytes: Vec<u8>) {
    c.media.retain(|m| m.path != path);
    c.media.push(Media {
        path: path.to_string(),
        bytes,
    });
    c.media.sort_by(|a, b| a.path.cmp(&b.path));
}

/// Adds the track `id` to a lesson (its default-language text), or replaces
/// its label and recording: stored as `media/NN-slug.ID.EXT`. False when the
/// lesson or its default-language text does not exist.
pub fn set_track(
    c: &mut Course,
    lesson: &str,
    id: &str,
    label: Text,
    audio: (&str, Vec<u8>),
) -> bool {
    let lang = c.default_language().to_string();
    let Some(l) = c.lessons.iter_mut().find(|l| l.slug == lesson) else {
        return false;
    };
    let path = format!("media/{}.{id}.{}", l.stem(), audio.0);
    let Some(text) = l.texts.get_mut(&lang) else {
        return false;
    };
    text.source = None;
    let track = Track {
        id: id.to_string(),
        label,
        audio: path.clone(),
    };
    match text.tracks.iter_mut().find(|t| t.id == id) {
        Some(t) => *t = track,
        None => text.tracks.push(track),
    }
    put(c, &path, audio.1);
    prune(c);
    true
}

/// Takes a track away (nothing to do when the lesson has no such track);
/// false when there is no such lesson.
pub fn remove_track(c: &mut Course, lesson: &str, id: &str) -> bool {
    let Some(l) = c.lessons.iter_mut().find(|l| l.slug == lesson) else {
        return false;
    };
    for text in l.texts.values_mut() {
        if text.tracks.iter().any(|t| t.id == id) {
            text.tracks.retain(|t| t.id != id);
            text.source = None;
        }
    }
    prune(c);
    true
}

/// Gives a question's prompt (`choice` None) or one choice its audio in
/// `lang`, stored as `media/q-QUIZ-QID[-CHOICE].LANG.EXT`, or takes it away
/// (`audio` None). False when there is no such quiz, question or choice.
pub fn set_question_audio(
    c: &mut Course,
    quiz: &str,
    qid: &str,
    choice: Option<&str>,
    lang: &str,
    audio: Option<(&str, Vec<u8>)>,
) -> bool {
    let Some(q) = c.quizzes.iter_mut().find(|q| q.slug == quiz) else {
        return false;
    };
    let Some(question) = q.questions.iter_mut().find(|x| x.id == qid) else {
        return false;
    };
    let map: &mut Text = match choice {
        None => &mut question.audio,
        Some(id) => match question.choices.iter_mut().find(|x| x.id == id) {
            Some(ch) => &mut ch.audio,
            None => return false,
        },
    };
    q.source = None;
    let stem = match choice {
        None => format!("media/q-{quiz}-{qid}"),
        Some(id) => format!("media/q-{quiz}-{qid}-{id}"),
    };
    let file = audio.map(|(ext, bytes)| (format!("{stem}.{lang}.{ext}"), bytes));
    match &file {
        Some((path, _)) => map.insert(lang.to_string(), path.clone()),
        None => map.remove(lang),
    };
    if let Some((path, bytes)) = file {
        put(c, &path, bytes);
    }
    prune(c);
    true
}

/// Keeps the audio of the question it replaces where the new one (from the
/// question form, which carries no audio) has none: the prompt's, and each
/// choice's with the same id.
pub fn keep_audio(old: &Question, new: &mut Question) {
    if new.audio.is_empty() {
        new.audio = old.audio.clone();
    }
    for c in &mut new.choices {
        if c.audio.is_empty()
            && let Some(o) = old.choices.iter().find(|o| o.id == c.id)
        {
            c.audio = o.audio.clone();
        }
    }
}

/// Drops every audio file of media/ that no lesson, track or question names
/// (a video's sound alone is named by its video).
pub fn prune(c: &mut Course) {
    let mut used: Vec<String> = quiz_audio(&c.quizzes).map(str::to_string).collect();
    for t in c.lessons.iter().flat_map(|l| l.texts.values()) {
        used.extend(t.audio.clone());
        used.extend(t.tracks.iter().map(|t| t.audio.clone()));
    }
    // A video's sound alone stays while its video does.
    for m in &c.media {
        if let Some([_, sound]) = super::media::video_companions(&m.path) {
            used.push(sound);
        }
    }
    c.media.retain(|m| {
        let ext = m.path.rsplit_once('.').map_or("", |(_, e)| e);
        !AUDIO_TYPES.contains(&ext) || used.contains(&m.path)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::courses::edit::{self, Meta};
    use crate::courses::{Choice, QuestionKind};

    fn course() -> Course {
        let meta = Meta {
            category: "it".into(),
            level: 1,
            languages: vec!["zh-CN".into(), "en".into()],
            competences: vec!["it.connect".into()],
            pass_mark: 80,
            hours: 1.0,
            title: Text::from([("zh-CN".into(), "课".into())]),
            summary: Text::from([("zh-CN".into(), "简介".into())]),
        };
        let mut c = edit::new_course("c", &meta);
        edit::add_lesson(&mut c, "wifi", "Wi-Fi");
        let q = edit::quiz_mut(&mut c, "pre").expect("pre");
        edit::upsert_question(
            q,
            Question {
                id: "q1".into(),
                kind: QuestionKind::Single,
                competence: "it.connect".into(),
                points: 1,
                prompt: Text::from([("zh-CN".into(), "问".into())]),
                audio: Text::new(),
                choices: ["a", "b"]
                    .map(|id| Choice {
                        id: id.into(),
                        text: Text::from([("zh-CN".into(), id.into())]),
                        audio: Text::new(),
                    })
                    .to_vec(),
                answer: vec!["a".into()],
                tolerance: None,
                explain: Text::new(),
            },
        );
        c
    }

    #[test]
    fn tracks_and_question_audio_are_named_and_pruned() {
        let mut c = course();
        let label = Text::from([("zh-CN".into(), "镇雄话".into())]);
        assert!(set_track(
            &mut c,
            "wifi",
            "zhenxiong",
            label.clone(),
            ("opus", vec![1])
        ));
        assert!(!set_track(
            &mut c,
            "nope",
            "zhenxiong",
            label,
            ("opus", vec![1])
        ));
        let t = &c.lessons[0].texts["zh-CN"].tracks;
        assert_eq!(t[0].audio, "media/01-wifi.zhenxiong.opus");
        assert!(set_question_audio(
            &mut c,
            "pre",
            "q1",
            None,
            "zh-CN",
            Some(("opus", vec![2]))
        ));
        assert!(set_question_audio(
            &mut c,
            "pre",
            "q1",
            Some("b"),
            "zh-CN",
            Some(("m4a", vec![3]))
        ));
        assert!(!set_question_audio(
            &mut c,
            "pre",
            "q1",
            Some("z"),
            "zh-CN",
            None
        ));
        let paths: Vec<&str> = c.media.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "media/01-wifi.zhenxiong.opus",
                "media/q-pre-q1-b.zh-CN.m4a",
                "media/q-pre-q1.zh-CN.opus"
            ]
        );
        // Saving the question from its form keeps its audio.
        let old = c.quizzes[0].questions[0].clone();
        let mut new = old.clone();
        new.audio.clear();
        new.choices.iter_mut().for_each(|ch| ch.audio.clear());
        keep_audio(&old, &mut new);
        assert_eq!(new, old);
        // Deleting the question and the track leaves no audio behind.
        let q = edit::quiz_mut(&mut c, "pre").expect("pre");
        assert!(edit::delete_question(q, "q1"));
        assert!(remove_track(&mut c, "wifi", "zhenxiong"));
        prune(&mut c);
        assert!(c.media.is_empty(), "{:?}", c.media);
    }
}
