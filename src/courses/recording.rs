//! Audio a trainer gives in the browser, made ready to keep: a recording
//! from the phone's microphone (WebM/Opus from Chromium, Ogg/Opus from
//! Firefox, MP4/AAC from Safari) or an uploaded file. A WebM recording is
//! turned into mono Opus in Ogg without decoding (its packets are moved into
//! Ogg pages and the head says one channel); every Opus file is judged by
//! its packets: long enough, not too long, a voice heard, and a recording
//! near the narration's bitrate. The file then carries `FUZHI_RECORDED=1`
//! and no `FUZHI_NARRATION` tag, so `courses/narrate` never speaks over it.

use super::audio::{AUDIO_LIMIT, sniff};
use super::opus::{Heard, Stream, head_info, mono_head};
use super::webm;

/// The narration's bitrate (kbit/s); the recorder asks the browser for it.
pub const NARRATION_KBPS: u32 = 16;
/// A recording above this average bitrate (kbit/s) is refused: it cannot be
/// made smaller here (nothing is re-encoded).
const RECORDING_MAX_KBPS: f64 = 40.0;
/// The tag a recorded file carries (and `courses/narrate` respects).
pub const RECORDED_TAG: &str = "FUZHI_RECORDED=1";

/// How long a piece of audio may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub min_seconds: f64,
    pub max_seconds: f64,
}

/// A lesson's narration or dialect track.
pub const LESSON: Bounds = Bounds {
    min_seconds: 2.0,
    max_seconds: 20.0 * 60.0,
};

/// A question's prompt or a choice.
pub const QUESTION: Bounds = Bounds {
    min_seconds: 0.5,
    max_seconds: 3.0 * 60.0,
};

/// Why audio is refused. `key` names its message in the locale files
/// (`author.audio.<key>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    TooBig,
    BadType,
    TooShort,
    TooLong,
    Silent,
    TooRich,
}

impl Refusal {
    pub fn key(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::TooBig => "too_big",
            Refusal::BadType => "bad_type",
            Refusal::TooShort => "too_short",
            Refusal::TooLong => "too_long",
            Refusal::Silent => "silent",
            Refusal::TooRich => "too_rich",
        }
    }
}

/// Audio ready to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    /// `opus`, `mp3` or `m4a`.
    pub ext: &'static str,
    pub bytes: Vec<u8>,
    /// Playing time, when the file says it.
    pub seconds: Option<f64>,
}

/// Judges `file` and makes it ready: `recorded` when it comes from the
/// recorder (a recording's Ogg is re-paged and tagged as recorded, and it
/// must be long enough and hold a voice; an uploaded file is kept byte for
/// byte and only held to the longest length). A WebM file is always a
/// recording.
pub fn prepare(file: Option<&[u8]>, bounds: Bounds, recorded: bool) -> Result<Ready, Refusal> {
    let bytes = file.filter(|b| !b.is_empty()).ok_or(Refusal::Missing)?;
    if bytes.len() > AUDIO_LIMIT {
        return Err(Refusal::TooBig);
    }
    if webm::is_webm(bytes) {
        let stream = webm::opus_stream(bytes).map_err(|_| Refusal::BadType)?;
        return recording(stream, bounds);
    }
    match sniff(bytes) {
        Some("opus") => {
            let stream = Stream::read_ogg(bytes).ok_or(Refusal::BadType)?;
            if recorded {
                return recording(stream, bounds);
            }
            // A prepared file (the shipped narration, a trainer's own
            // encoding) is only held to the longest length.
            let heard = stream.heard().ok_or(Refusal::BadType)?;
            if heard.seconds > bounds.max_seconds {
                return Err(Refusal::TooLong);
            }
            Ok(Ready {
                ext: "opus",
                bytes: bytes.to_vec(),
                seconds: Some(heard.seconds),
            })
        }
        Some("m4a") => {
            let seconds = super::mp4::seconds(bytes);
            if let Some(s) = seconds {
                if recorded {
                    within(s, bounds)?;
                } else if s > bounds.max_seconds {
                    return Err(Refusal::TooLong);
                }
            }
            Ok(Ready {
                ext: "m4a",
                bytes: bytes.to_vec(),
                seconds,
            })
        }
        Some(ext) => Ok(Ready {
            ext,
            bytes: bytes.to_vec(),
            seconds: None,
        }),
        None => Err(Refusal::BadType),
    }
}

/// A recording's packets as mono Ogg Opus, tagged as recorded.
fn recording(stream: Stream, bounds: Bounds) -> Result<Ready, Refusal> {
    let heard = judge(&stream, bounds)?;
    if heard.kbps > RECORDING_MAX_KBPS {
        return Err(Refusal::TooRich);
    }
    let mono = Stream {
        head: mono_head(&stream.head),
        packets: stream.packets,
    };
    let serial = super::opus::crc32(&mono.head) ^ mono.packets.len() as u32;
    let bytes = mono.write_ogg("fuzhi recorder", &[RECORDED_TAG], serial);
    if bytes.len() > AUDIO_LIMIT {
        return Err(Refusal::TooBig);
    }
    Ok(Ready {
        ext: "opus",
        bytes,
        seconds: Some(heard.seconds),
    })
}

fn within(seconds: f64, bounds: Bounds) -> Result<(), Refusal> {
    if seconds < bounds.min_seconds {
        return Err(Refusal::TooShort);
    }
    if seconds > bounds.max_seconds {
        return Err(Refusal::TooLong);
    }
    Ok(())
}

/// Length and voice of an Opus stream.
fn judge(stream: &Stream, bounds: Bounds) -> Result<Heard, Refusal> {
    head_info(&stream.head).ok_or(Refusal::BadType)?;
    let heard = stream.heard().ok_or(Refusal::BadType)?;
    within(heard.seconds, bounds)?;
    let silent = match heard.voiced {
        // Less than half a second, or a tenth of the whole, with a voice.
        Some(v) => v < 0.5_f64.max(heard.seconds / 10.0).min(bounds.min_seconds),
        None => heard.flat,
    };
    if silent {
        return Err(Refusal::Silent);
    }
    Ok(heard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::courses::opus::test_head as head;

    /// `n` SILK packets of 20 ms at about 16 kbit/s, voiced or not.
    fn packets(n: usize, voiced: bool) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                let mut p = vec![9 << 3, if voiced { 0x80 } else { 0x10 }];
                p.resize(if voiced { 30 + i % 25 } else { 18 }, 1);
                p
            })
            .collect()
    }

    fn ogg(channels: u8, packets: Vec<Vec<u8>>) -> Vec<u8> {
        Stream {
            head: head(channels),
            packets,
        }
        .write_ogg("test", &[], 1)
    }

    #[test]
    fn a_webm_recording_becomes_mono_ogg_opus() {
        // Made by ffmpeg's libopus at 16 kbit/s: speech (espeak-ng, 3.7 s),
        // 3 s of silence, and the speech cut to 1 s.
        let speech = include_bytes!("../../tests/fixtures/voice/speech.webm");
        let ready = prepare(Some(speech), LESSON, true).expect("kept");
        assert_eq!(ready.ext, "opus");
        let seconds = ready.seconds.unwrap_or(0.0);
        assert!((seconds - 3.709).abs() < 0.05, "{seconds}");
        let back = Stream::read_ogg(&ready.bytes).expect("Ogg Opus");
        assert_eq!(head_info(&back.head).map(|h| h.0), Some(1));
        let webm = webm::opus_stream(speech).expect("Opus in WebM");
        assert_eq!(back.packets, webm.packets, "every packet, unchanged");
        assert!(String::from_utf8_lossy(&ready.bytes).contains(RECORDED_TAG));
        let silence = include_bytes!("../../tests/fixtures/voice/silence.webm");
        assert_eq!(prepare(Some(silence), LESSON, true), Err(Refusal::Silent));
        let short = include_bytes!("../../tests/fixtures/voice/short.webm");
        assert_eq!(prepare(Some(short), LESSON, true), Err(Refusal::TooShort));
        assert!(prepare(Some(short), QUESTION, true).is_ok());
    }

    #[test]
    fn a_chromium_recording_is_remuxed() {
        // Recorded by Chromium's MediaRecorder (audio/webm;codecs=opus, a
        // live file: unknown-size Segment and Clusters) from a fake
        // microphone playing a voice-like sound, at 16 kbit/s.
        let raw = include_bytes!("../../tests/fixtures/voice/chromium.webm");
        let stream = webm::opus_stream(raw).expect("Opus in WebM");
        let heard = stream.heard().expect("plays");
        assert!((2.5..4.0).contains(&heard.seconds), "{heard:?}");
        assert!(heard.kbps < 20.0, "{heard:?}");
        assert!(heard.voiced.is_some_and(|v| v > 0.5), "{heard:?}");
        let ready = prepare(Some(raw), LESSON, true).expect("kept");
        let back = Stream::read_ogg(&ready.bytes).expect("Ogg Opus");
        assert_eq!(back.packets, stream.packets);
        assert_eq!(ready.seconds, Some(heard.seconds));
    }

    #[test]
    fn recordings_are_judged_by_length_voice_and_bitrate() {
        // 5 s of voice in stereo: kept as mono, tagged as recorded.
        let file = ogg(2, packets(250, true));
        let ready = prepare(Some(&file), LESSON, true).expect("kept");
        assert_eq!(ready.ext, "opus");
        assert!((ready.seconds.unwrap_or(0.0) - 4.9935).abs() < 0.001);
        let back = Stream::read_ogg(&ready.bytes).expect("Ogg Opus");
        assert_eq!(head_info(&back.head), Some((1, 312)));
        let text = String::from_utf8_lossy(&ready.bytes);
        assert!(text.contains(RECORDED_TAG) && !text.contains("FUZHI_NARRATION"));
        // An uploaded file is kept as it is, even short or quiet.
        let kept = prepare(Some(&file), LESSON, false).expect("kept");
        assert_eq!(kept.bytes, file);
        let quiet_short = ogg(1, packets(20, false));
        assert!(prepare(Some(&quiet_short), LESSON, false).is_ok());
        // Too short, too long, silent.
        let short = ogg(1, packets(50, true));
        assert_eq!(prepare(Some(&short), LESSON, true), Err(Refusal::TooShort));
        assert!(prepare(Some(&short), QUESTION, true).is_ok());
        let long = ogg(1, packets(9_100, true));
        assert_eq!(prepare(Some(&long), QUESTION, true), Err(Refusal::TooLong));
        let quiet = ogg(1, packets(250, false));
        assert_eq!(prepare(Some(&quiet), LESSON, true), Err(Refusal::Silent));
        let mut mostly = packets(240, false);
        mostly.extend(packets(10, true));
        assert_eq!(
            prepare(Some(&ogg(1, mostly)), LESSON, true),
            Err(Refusal::Silent)
        );
        // 64 kbit/s: too rich for a recording.
        let rich: Vec<Vec<u8>> = (0..250)
            .map(|_| {
                let mut p = vec![1u8; 160];
                (p[0], p[1]) = (9 << 3, 0x80);
                p
            })
            .collect();
        assert_eq!(
            prepare(Some(&ogg(1, rich)), LESSON, true),
            Err(Refusal::TooRich)
        );
        // Nothing, a picture, too big.
        assert_eq!(prepare(None, LESSON, true), Err(Refusal::Missing));
        assert_eq!(prepare(Some(b""), LESSON, false), Err(Refusal::Missing));
        assert_eq!(
            prepare(Some(b"\x89PNG\r\n\x1a\n"), LESSON, false),
            Err(Refusal::BadType)
        );
        let big = vec![0u8; AUDIO_LIMIT + 1];
        assert_eq!(prepare(Some(&big), LESSON, false), Err(Refusal::TooBig));
        // A WebM file that is not well-formed.
        assert_eq!(
            prepare(Some(&[0x1A, 0x45, 0xDF, 0xA3, 0x00]), LESSON, true),
            Err(Refusal::BadType)
        );
    }
}
