//! What a file in a course's `media/` may be, judged by its bytes and size
//! (never by its name alone). The course loader asks here for every file,
//! so a package from disk, an import and a browser upload meet one rule.
//!
//! | kind | names | content | limit |
//! |---|---|---|---|
//! | drawing | `.svg` | SVG that only draws ([`super::svg`]) | 50 KB |
//! | picture | `.jpg`, `.png`, `.webp` | JPEG, PNG, WebP with no metadata block ([`super::picture::metadata`]) | 120 KB |
//! | audio | `.opus`, `.mp3`, `.m4a` | Opus in Ogg, MP3, M4A ([`super::audio`]) | 2 MB |
//! | video | `.mp4` | MP4 with an H.264 video track whose shorter side is at most 360 pixels, and a sound track | 40 MB |
//! | captions | `.vtt` | WebVTT in UTF-8 | 256 KB |
//!
//! A lesson shows a video `media/NAME.mp4` with its poster `media/NAME.jpg`,
//! its sound alone `media/NAME.opus` (offered in low-data mode) and, when
//! there are captions, `media/NAME.LANG.vtt`; the loader asks for the first
//! two beside every video a lesson shows.

use super::audio::{AUDIO_LIMIT, sniff};
use super::picture::{self, RASTER_LIMIT};

pub const DRAWING_LIMIT: usize = 50 * 1024;
pub const VIDEO_LIMIT: usize = 40 * 1024 * 1024;
pub const CAPTIONS_LIMIT: usize = 256 * 1024;
/// The shorter side of a lesson video, at most (pixels): 360p.
pub const VIDEO_SIDE: u32 = 360;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Drawing,
    Picture,
    Audio,
    Video,
    Captions,
}

impl Kind {
    /// The kind a file's name promises, or `None` for a name no kind has.
    pub fn of(name: &str) -> Option<Kind> {
        match name.rsplit_once('.').map_or("", |(_, e)| e) {
            "svg" => Some(Kind::Drawing),
            "jpg" | "png" | "webp" => Some(Kind::Picture),
            "opus" | "mp3" | "m4a" => Some(Kind::Audio),
            "mp4" => Some(Kind::Video),
            "vtt" => Some(Kind::Captions),
            _ => None,
        }
    }

    /// The largest file of this kind (bytes).
    pub fn limit(self) -> usize {
        match self {
            Kind::Drawing => DRAWING_LIMIT,
            Kind::Picture => RASTER_LIMIT,
            Kind::Audio => AUDIO_LIMIT,
            Kind::Video => VIDEO_LIMIT,
            Kind::Captions => CAPTIONS_LIMIT,
        }
    }
}

/// The largest file any kind allows (what the loader reads at most).
pub const LARGEST: usize = VIDEO_LIMIT;

/// What every kind of media is, for a problem about a name no kind has.
pub const KINDS: &str = "media must be a drawing (svg), a picture (jpg, png, webp), audio (opus, mp3, m4a), a video (mp4) or captions (vtt)";

/// Why `bytes` cannot be the file `name` (empty: it can).
pub fn judge(name: &str, bytes: &[u8]) -> Vec<String> {
    let Some(kind) = Kind::of(name) else {
        return vec![KINDS.to_string()];
    };
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    let mut problems = Vec::new();
    if bytes.len() > kind.limit() {
        let limit = kind.limit();
        let limit = if limit >= 1 << 20 {
            format!("{} MB", limit >> 20)
        } else {
            format!("{} KB", limit >> 10)
        };
        problems.push(format!(
            "{} is {} KB, over the {limit} limit ({})",
            match kind {
                Kind::Drawing | Kind::Picture => "image",
                Kind::Audio => "audio",
                Kind::Video => "video",
                Kind::Captions => "captions",
            },
            bytes.len().div_ceil(1024),
            match kind {
                Kind::Drawing => "simplify the drawing, or use a photo",
                Kind::Picture => "upload it in the lesson editor: it is made 720 px wide and small",
                Kind::Audio => "encode it with opusenc --bitrate 16 --downmix-mono",
                Kind::Video => "upload it in the lesson editor: it is made 360p",
                Kind::Captions => "captions are text; this is too long for one video",
            }
        ));
        return problems;
    }
    match kind {
        Kind::Drawing => {
            if let Err(why) = super::svg::check(bytes) {
                problems.push(format!(
                    "SVG must only draw (no scripts, event handlers, links or embedded HTML): {why}"
                ));
            }
        }
        Kind::Picture => {
            let format = picture::raster_format(bytes);
            let matches = matches!(
                (ext, format),
                ("jpg", Some(image::ImageFormat::Jpeg))
                    | ("png", Some(image::ImageFormat::Png))
                    | ("webp", Some(image::ImageFormat::WebP))
            );
            if !matches {
                problems.push(format!(
                    "the content is not a {ext} picture (judged by the bytes, not the name)"
                ));
            } else if let Some(block) = picture::metadata(bytes) {
                problems.push(format!(
                    "the picture carries a {block} metadata block (it can say where and when it was taken): upload it in the lesson editor, which removes it"
                ));
            }
        }
        Kind::Audio => {
            if sniff(bytes) != Some(ext) {
                problems.push(format!("the content is not {ext} audio (Opus in Ogg, MP3 or M4A, judged by the bytes, not the name)"));
            }
        }
        Kind::Video => match super::mp4::video_track(bytes) {
            None => problems.push(
                "the content is not an MP4 video (judged by the bytes): upload it in the lesson editor".into(),
            ),
            Some(t) => {
                if &t.codec != b"avc1" {
                    problems.push("the video is not H.264 (avc1): upload it in the lesson editor, which converts it".into());
                }
                if t.width.min(t.height) > VIDEO_SIDE {
                    problems.push(format!(
                        "the video is {}×{}; its shorter side must be at most {VIDEO_SIDE} pixels (360p, for 2G)",
                        t.width, t.height
                    ));
                }
                if !super::mp4::has_audio(bytes) {
                    problems.push("the video has no sound track".into());
                }
            }
        },
        Kind::Captions => {
            let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes));
            if !text.is_ok_and(|t| t.starts_with("WEBVTT")) {
                problems.push("captions must be WebVTT in UTF-8 (the first line WEBVTT)".into());
            }
        }
    }
    problems
}

/// The files a lesson video `media/NAME.mp4` needs beside it: its poster
/// and its sound alone.
pub fn video_companions(video: &str) -> Option<[String; 2]> {
    let stem = video.strip_suffix(".mp4")?;
    Some([format!("{stem}.jpg"), format!("{stem}.opus")])
}

/// The captions of a lesson video in a language.
pub fn captions_of(video: &str, lang: &str) -> Option<String> {
    video
        .strip_suffix(".mp4")
        .map(|stem| format!("{stem}.{lang}.vtt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIP: &[u8] = include_bytes!("../../tests/fixtures/video/clip.mp4");
    const SILENT: &[u8] = include_bytes!("../../tests/fixtures/video/silent.mp4");
    const WIDE: &[u8] = include_bytes!("../../tests/fixtures/video/wide.mp4");

    #[test]
    fn a_video_is_judged_by_its_tracks() {
        assert_eq!(judge("a.mp4", CLIP), Vec::<String>::new());
        assert_eq!(
            judge("a.mp4", SILENT),
            vec!["the video has no sound track".to_string()]
        );
        assert!(
            judge("a.mp4", WIDE)[0].contains("640×480"),
            "{:?}",
            judge("a.mp4", WIDE)
        );
        assert!(judge("a.mp4", b"RIFF....WEBP")[0].contains("not an MP4 video"));
        let mut big = CLIP.to_vec();
        big.resize(VIDEO_LIMIT + 1, 0);
        assert!(judge("a.mp4", &big)[0].starts_with("video is 40961 KB, over the 40 MB limit"));
    }

    #[test]
    fn pictures_and_captions_are_judged_by_their_bytes() {
        // A picture named for another format, and one carrying EXIF.
        let jpeg = super::super::picture::prepare(&{
            let img = image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]));
            let mut b = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut b), image::ImageFormat::Png)
                .unwrap();
            b
        })
        .unwrap();
        assert_eq!(jpeg.ext, "png");
        assert!(judge("a.png", &jpeg.bytes).is_empty());
        assert!(judge("a.jpg", &jpeg.bytes)[0].contains("not a jpg picture"));
        let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 8];
        with_exif.extend_from_slice(b"Exif\0\0");
        with_exif.extend_from_slice(&[0xFF, 0xD9]);
        assert!(judge("a.jpg", &with_exif)[0].contains("EXIF metadata block"));
        assert!(judge("a.png", &with_exif)[0].contains("not a png picture"));
        assert!(
            judge(
                "c.vtt",
                "WEBVTT\n\n00:00.000 --> 00:01.000\n好\n".as_bytes()
            )
            .is_empty()
        );
        assert!(judge("c.vtt", b"1\n00:00:01,000 --> 00:00:02,000\nhi")[0].contains("WebVTT"));
        assert_eq!(judge("x.gif", b"GIF89a"), vec![KINDS.to_string()]);
    }

    #[test]
    fn a_video_needs_its_poster_and_sound() {
        assert_eq!(
            video_companions("media/a-video-1.mp4"),
            Some([
                "media/a-video-1.jpg".to_string(),
                "media/a-video-1.opus".to_string()
            ])
        );
        assert_eq!(video_companions("media/a.png"), None);
        assert_eq!(
            captions_of("media/a.mp4", "zh-CN").as_deref(),
            Some("media/a.zh-CN.vtt")
        );
    }
}
