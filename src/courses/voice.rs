//! The rules for what is heard besides the narration: a lesson's dialect
//! tracks (front matter `tracks = [...]`) and the audio of a question's
//! prompt and choices (`audio = { zh-CN = "media/…" }`). Each file named
//! must be audio in the course's `media/`.

use std::collections::HashSet;

use toml::Spanned;

use super::audio::AUDIO_TYPES;
use super::package::{LANGUAGES, Text, Track};
use super::problem::Sink;
use super::raw::RawTrack;
use super::rules::{Ctx, is_slug};

/// Longest label of a track, in characters.
const LABEL_MAX: usize = 40;
/// Most tracks a lesson may carry.
const TRACKS_MAX: usize = 8;

fn pos<T>(s: &Spanned<T>) -> usize {
    s.span().start
}

/// Why `path` cannot be heard, if it cannot: not in media/ or not audio.
fn not_audio(path: &str, media: &[String]) -> Option<String> {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    if !AUDIO_TYPES.contains(&ext) {
        return Some(format!(
            "\"{path}\" is not an audio file (opus, mp3 or m4a)"
        ));
    }
    (!media.iter().any(|m| m == path)).then(|| format!("\"{path}\": no such file in media/"))
}

/// A lesson's dialect tracks.
pub fn tracks(
    raw: Option<&Spanned<Vec<Spanned<RawTrack>>>>,
    media: &[String],
    sink: &mut Sink,
) -> Vec<Track> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    if raw.get_ref().len() > TRACKS_MAX {
        sink.at(
            pos(raw),
            format!("a lesson has at most {TRACKS_MAX} tracks"),
        );
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for t in raw.get_ref() {
        let t = t.get_ref();
        let id = t.id.get_ref();
        if !is_slug(id) || id.len() > 32 {
            sink.at(
                pos(&t.id),
                format!("track id \"{id}\" must be a short slug: lowercase letters, digits and - (e.g. zhenxiong, yi, miao)"),
            );
        } else if !seen.insert(id.clone()) {
            sink.at(pos(&t.id), format!("track id \"{id}\" is used twice"));
        }
        let label = t.label.get_ref();
        if label.get("zh-CN").is_none_or(|l| l.trim().is_empty()) {
            sink.at(
                pos(&t.label),
                format!("track \"{id}\": the label needs zh-CN (e.g. label = {{ zh-CN = \"镇雄话\", en = \"Zhenxiong dialect\" }})"),
            );
        }
        for (lang, text) in label {
            if !LANGUAGES.contains(&lang.as_str()) {
                sink.at(
                    pos(&t.label),
                    format!("track \"{id}\": label language \"{lang}\" is not one of zh-CN, en"),
                );
            }
            if text.chars().count() > LABEL_MAX {
                sink.at(
                    pos(&t.label),
                    format!("track \"{id}\": a label has at most {LABEL_MAX} characters"),
                );
            }
        }
        if let Some(why) = not_audio(t.audio.get_ref(), media) {
            sink.at(pos(&t.audio), format!("track \"{id}\": {why}"));
        }
        out.push(Track {
            id: id.clone(),
            label: label.clone(),
            audio: t.audio.get_ref().clone(),
        });
    }
    out
}

/// The audio of a prompt or a choice, per language (`what` names it in problems).
pub fn audio(raw: Option<&Spanned<Text>>, what: &str, ctx: &Ctx, sink: &mut Sink) -> Text {
    let Some(raw) = raw else {
        return Text::new();
    };
    for (lang, path) in raw.get_ref() {
        if !ctx.languages.contains(lang) {
            sink.at(
                pos(raw),
                format!(
                    "{what}audio: language \"{lang}\" is not one of the course's languages {}",
                    ctx.languages.join(", ")
                ),
            );
        }
        if let Some(why) = not_audio(path, &ctx.media) {
            sink.at(pos(raw), format!("{what}audio {why}"));
        }
    }
    raw.get_ref().clone()
}
