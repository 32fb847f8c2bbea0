//! What is heard besides the narration, in the database and in the views:
//! a lesson's dialect tracks (`lesson_text.tracks_json`) and a question's
//! audio (`question.audio_json` for the prompt, `audio` beside each choice's
//! `text` in `question.choices_json`). A page plays the audio of the
//! language whose text it shows; tracks come from the default language's
//! text, since a spoken variety has no written version.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::courses::{Choice, Track};
use crate::entities::question;
use crate::learning::content::CourseInfo;

/// The tracks as stored; `None` when there are none.
pub fn tracks_json(tracks: &[Track]) -> Option<String> {
    if tracks.is_empty() {
        return None;
    }
    let list: Vec<serde_json::Value> = tracks
        .iter()
        .map(|t| serde_json::json!({"id": t.id, "label": t.label, "audio": t.audio}))
        .collect();
    serde_json::to_string(&list).ok()
}

/// The tracks of a stored `tracks_json`.
pub fn tracks_of(json: Option<&str>) -> Vec<Track> {
    let list: Vec<serde_json::Value> = json
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    list.into_iter()
        .filter_map(|v| {
            Some(Track {
                id: v["id"].as_str()?.to_string(),
                label: serde_json::from_value(v["label"].clone()).unwrap_or_default(),
                audio: v["audio"].as_str()?.to_string(),
            })
        })
        .collect()
}

/// A choice as stored in `choices_json` (its audio only when it has some).
pub fn choice_json(c: &Choice) -> serde_json::Value {
    let mut v = serde_json::json!({"id": c.id, "text": c.text});
    if !c.audio.is_empty() {
        v["audio"] = serde_json::json!(c.audio);
    }
    v
}

/// The language `text()` shows of a localized JSON text: the wanted one,
/// else the fallback, else the first given.
fn shown_language(text: &serde_json::Value, lang: &str, def: &str) -> Option<String> {
    let map: BTreeMap<String, serde_json::Value> =
        serde_json::from_value(text.clone()).unwrap_or_default();
    [lang, def]
        .into_iter()
        .find(|l| map.contains_key(*l))
        .map(str::to_string)
        .or_else(|| map.keys().next().cloned())
}

/// The audio (`media/…`) for the language whose text is shown, if any.
pub fn audio_for(
    audio: &serde_json::Value,
    text: &serde_json::Value,
    lang: &str,
    def: &str,
) -> Option<String> {
    let shown = shown_language(text, lang, def)?;
    audio.get(&shown)?.as_str().map(str::to_string)
}

/// A question's prompt audio in the language shown.
pub fn prompt_audio(q: &question::Model, lang: &str, def: &str) -> Option<String> {
    let audio: serde_json::Value = serde_json::from_str(q.audio_json.as_deref()?).ok()?;
    let prompt: serde_json::Value = serde_json::from_str(&q.prompt_json).ok()?;
    audio_for(&audio, &prompt, lang, def)
}

/// One dialect track as a learner is offered it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrackView {
    /// The variety's id (`zhenxiong`): choose it with `?voice=`.
    pub id: String,
    /// Its name in the page's language (else Chinese).
    pub label: String,
    /// Where the recording is served.
    pub audio: String,
}

/// The dialect tracks of a lesson (from its default-language text).
pub fn track_views(info: &CourseInfo, lesson_id: i64, lang: &str) -> Vec<TrackView> {
    let def = info.default_language();
    let Some(t) = info
        .texts
        .iter()
        .find(|t| t.lesson_id == lesson_id && t.locale == def)
    else {
        return Vec::new();
    };
    tracks_of(t.tracks_json.as_deref())
        .into_iter()
        .map(|t| TrackView {
            label: t
                .label
                .get(lang)
                .or_else(|| t.label.get("zh-CN"))
                .or_else(|| t.label.values().next())
                .cloned()
                .unwrap_or_else(|| t.id.clone()),
            audio: crate::learning::content::media_url(info, &t.audio),
            id: t.id,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::courses::Text;

    #[test]
    fn tracks_and_choice_audio_keep_through_json() {
        let tracks = vec![Track {
            id: "zhenxiong".into(),
            label: Text::from([
                ("zh-CN".into(), "镇雄话".into()),
                ("en".into(), "Zhenxiong dialect".into()),
            ]),
            audio: "media/01-a.zhenxiong.opus".into(),
        }];
        assert_eq!(tracks_of(tracks_json(&tracks).as_deref()), tracks);
        assert_eq!(tracks_json(&[]), None);
        assert!(tracks_of(Some("not json")).is_empty());
        let choice = Choice {
            id: "a".into(),
            text: Text::from([("zh-CN".into(), "甲".into()), ("en".into(), "A".into())]),
            audio: Text::from([("zh-CN".into(), "media/q-pre-q1-a.zh-CN.opus".into())]),
        };
        let v = choice_json(&choice);
        // Chinese text shown: its audio; English text shown: none (never
        // another language's); English asked but only Chinese text: Chinese audio.
        assert_eq!(
            audio_for(&v["audio"], &v["text"], "zh-CN", "zh-CN").as_deref(),
            Some("media/q-pre-q1-a.zh-CN.opus")
        );
        assert_eq!(audio_for(&v["audio"], &v["text"], "en", "zh-CN"), None);
        let only_zh = serde_json::json!({"zh-CN": "甲"});
        assert!(audio_for(&v["audio"], &only_zh, "en", "zh-CN").is_some());
        let plain = choice_json(&Choice {
            audio: Text::new(),
            ..choice
        });
        assert!(plain.get("audio").is_none(), "no audio, no key: {plain}");
    }
}
