//! Recordings besides the narration, added in the browser: a lesson's
//! dialect tracks (镇雄话, 彝语, 苗语 or another named variety) and the audio
//! of a question's prompt and choices. Each takes an uploaded file or a
//! recording from the phone (`?recorded=1`, sent by `record.js`), judged
//! like the narration; each goes into the draft.

use super::narration::{BODY_MB, is_recorded, judge};
use super::*;
use crate::courses::edit_audio;
use crate::courses::recording;
use crate::web::upload::Upload;

/// The varieties offered by name: (id, Chinese, English).
pub(super) const VARIETIES: [(&str, &str, &str); 3] = [
    ("zhenxiong", "镇雄话", "Zhenxiong dialect"),
    ("yi", "彝语", "Yi (Nuosu)"),
    ("miao", "苗语", "Miao (Hmong)"),
];

/// The track's id and label from the form: a named variety, or `other`
/// with its Chinese (and English) name; the id of another is made from
/// its name in pinyin.
fn variety(fields: &[(String, String)]) -> Result<(String, Text), &'static str> {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.trim())
    };
    let chosen = get("variety");
    if let Some((id, zh, en)) = VARIETIES.iter().find(|(id, _, _)| *id == chosen) {
        let label = Text::from([
            ("zh-CN".into(), zh.to_string()),
            ("en".into(), en.to_string()),
        ]);
        return Ok((id.to_string(), label));
    }
    if chosen != "other" {
        return Err("author.track.variety");
    }
    let (zh, en) = (get("label.zh-CN"), get("label.en"));
    if zh.is_empty() || zh.chars().count() > 40 || en.chars().count() > 40 {
        return Err("author.track.label");
    }
    let slug = |t: &str| {
        crate::courses::Slug::from_title(t).map(|s| {
            let s: String = s.as_str().chars().take(32).collect();
            s.trim_end_matches('-').to_string()
        })
    };
    let id = slug(zh).or_else(|| slug(en)).ok_or("author.track.label")?;
    let mut label = Text::from([("zh-CN".into(), zh.to_string())]);
    if !en.is_empty() {
        label.insert("en".into(), en.to_string());
    }
    Ok((id, label))
}

pub async fn track_add(
    req: HttpRequest,
    author: Author,
    path: web::Path<(String, String)>,
    upload: Upload<BODY_MB>,
) -> crate::web::errors::WebResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let e = author.editor(&slug).await?;
    let c = e.course();
    let has_text = c
        .lessons
        .iter()
        .any(|l| l.slug == lesson && l.texts.contains_key(c.default_language()));
    if !c.lessons.iter().any(|l| l.slug == lesson) {
        return Err(AppError::NotFound.into());
    }
    if !has_text {
        return Ok(e
            .lesson_refused(&lesson, "track", "author.narration.no_text")
            .await?);
    }
    let (file, fields) = upload.read_with_fields().await?;
    let (id, label) = match variety(&fields) {
        Ok(v) => v,
        Err(key) => return Ok(e.lesson_refused(&lesson, "track", key).await?),
    };
    let ready = match judge(file.as_deref(), recording::LESSON, is_recorded(&req)) {
        Ok(r) => r,
        Err(key) => return Ok(e.lesson_refused(&lesson, "track", &key).await?),
    };
    e.save("dialect track", |c| {
        edit_audio::set_track(
            c,
            &lesson,
            &id,
            label.clone(),
            (ready.ext, ready.bytes.clone()),
        )
    })
    .await?;
    Ok(redirect(&format!(
        "/teach/courses/{slug}/lessons/{lesson}?saved=1#tracks"
    )))
}

pub async fn track_remove(
    author: Author,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, lesson, id) = path.into_inner();
    let e = author.editor(&slug).await?;
    if Fields::parse(&body).get("confirm") != "yes" {
        return e
            .lesson_refused(&lesson, "track", "author.track.confirm")
            .await;
    }
    e.save("dialect track removed", |c| {
        edit_audio::remove_track(c, &lesson, &id)
    })
    .await?;
    Ok(redirect(&format!(
        "/teach/courses/{slug}/lessons/{lesson}?saved=1#tracks"
    )))
}

/// The question and, unless `target` is `prompt`, the choice it names.
fn question_target<'a>(
    c: &Course,
    quiz: &str,
    qid: &str,
    target: &'a str,
    lang: &str,
) -> AppResult<Option<&'a str>> {
    let q = c
        .quizzes
        .iter()
        .find(|q| q.slug == quiz)
        .and_then(|q| q.questions.iter().find(|x| x.id == qid))
        .ok_or(AppError::NotFound)?;
    if !c.languages.iter().any(|l| l == lang) {
        return Err(AppError::NotFound);
    }
    if target == "prompt" {
        return Ok(None);
    }
    if !q.choices.iter().any(|ch| ch.id == target) {
        return Err(AppError::NotFound);
    }
    Ok(Some(target))
}

pub async fn question_audio_upload(
    req: HttpRequest,
    author: Author,
    path: web::Path<(String, String, String, String, String)>,
    upload: Upload<BODY_MB>,
) -> crate::web::errors::WebResult<HttpResponse> {
    let (slug, quiz, qid, target, lang) = path.into_inner();
    let e = author.editor(&slug).await?;
    let choice = question_target(e.course(), &quiz, &qid, &target, &lang)?;
    let file = upload.read().await?;
    let ready = match judge(file.as_deref(), recording::QUESTION, is_recorded(&req)) {
        Ok(r) => r,
        Err(key) => {
            // The narration's words name the file kind; say which audio it was.
            let message = format!(
                "{qid} · {} · {}",
                if target == "prompt" {
                    e.tr("author.qaudio.prompt")
                } else {
                    target.clone()
                },
                e.tr(&key)
            );
            return Ok(e.quiz_refused(&quiz, message).await?);
        }
    };
    e.save("question audio", |c| {
        edit_audio::set_question_audio(
            c,
            &quiz,
            &qid,
            choice,
            &lang,
            Some((ready.ext, ready.bytes.clone())),
        )
    })
    .await?;
    Ok(redirect(&format!(
        "/teach/courses/{slug}/quizzes/{quiz}?saved=1#audio-{qid}"
    )))
}

pub async fn question_audio_remove(
    author: Author,
    path: web::Path<(String, String, String, String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, quiz, qid, target, lang) = path.into_inner();
    let e = author.editor(&slug).await?;
    let choice = question_target(e.course(), &quiz, &qid, &target, &lang)?;
    e.save("question audio removed", |c| {
        edit_audio::set_question_audio(c, &quiz, &qid, choice, &lang, None)
    })
    .await?;
    Ok(redirect(&format!(
        "/teach/courses/{slug}/quizzes/{quiz}?saved=1#audio-{qid}"
    )))
}

/// The audio block under a question on the quiz page: the prompt and each
/// choice, per language, with what is there and the forms to change it.
pub(super) fn question_audio_view(
    state: &AppContext,
    lang: &str,
    c: &Course,
    version: i32,
    q: &crate::courses::Question,
) -> Value {
    let url = |p: Option<&String>| p.map(|a| format!("/c/{}/{version}/{a}", c.slug));
    let langs = |audio: &Text| -> Vec<Value> {
        c.languages
            .iter()
            .map(|code| {
                json!({"code": code, "name": tr(state, lang, &format!("lang.{code}")),
                       "audio": url(audio.get(code))})
            })
            .collect()
    };
    let mut items = vec![
        json!({"target": "prompt", "name": tr(state, lang, "author.qaudio.prompt"),
        "langs": langs(&q.audio)}),
    ];
    for ch in &q.choices {
        items.push(json!({"target": ch.id, "name": format!("{} {}", tr(state, lang, "author.qaudio.choice"), ch.id),
            "langs": langs(&ch.audio)}));
    }
    json!({"id": q.id, "items": items})
}

#[cfg(test)]
mod tests {
    use super::variety;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_variety_is_named_or_given_a_name() {
        let (id, label) = variety(&f(&[("variety", "zhenxiong")])).expect("known");
        assert_eq!(
            (id.as_str(), label["zh-CN"].as_str()),
            ("zhenxiong", "镇雄话")
        );
        let (id, label) = variety(&f(&[
            ("variety", "other"),
            ("label.zh-CN", "彝良话"),
            ("label.en", ""),
        ]))
        .expect("named");
        assert_eq!(id, "yi-liang-hua");
        assert!(!label.contains_key("en"));
        assert_eq!(
            variety(&f(&[("variety", "other"), ("label.zh-CN", " ")])),
            Err("author.track.label")
        );
        assert_eq!(
            variety(&f(&[("variety", "x")])),
            Err("author.track.variety")
        );
        assert_eq!(variety(&f(&[])), Err("author.track.variety"));
    }
}
