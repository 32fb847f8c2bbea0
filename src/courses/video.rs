//! A phone recording made into a lesson video for 2G, with Debian's ffmpeg
//! (package `ffmpeg`; the server runs `ffprobe` and `ffmpeg`, found on the
//! PATH or named by `FUZHI_FFMPEG_DIR`).
//!
//! From one recording (MP4, MOV or WebM, at most [`MAX_SECONDS`]) come:
//! - the video: H.264 Constrained Baseline, level 3.0, the shorter side at
//!   most 360 pixels, at most 30 frames a second, CRF 30 with the bitrate
//!   capped at 200 kbit/s (`-maxrate 200k -bufsize 400k`), a key frame
//!   every 6 seconds, AAC mono 32 kbit/s, the index at the front
//!   (`+faststart`, so playing starts before the whole file is there);
//! - its sound alone, Opus mono 20 kbit/s (low-data mode plays it);
//! - a poster, one frame a second in (or halfway through a shorter video),
//!   made a lesson picture by [`super::picture::prepare`].
//!
//! Nothing of the recording's metadata is kept (`-map_metadata -1`: a
//! phone writes where it was filmed). Each made file is judged by
//! [`super::media::judge`] before it is given back.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The largest recording taken from the phone (megabytes).
pub const UPLOAD_MB: usize = 200;
/// The longest recording (seconds).
pub const MAX_SECONDS: f64 = 600.0;
/// A key frame every this many seconds (where a player can start).
pub const KEYFRAME_SECONDS: u32 = 6;
/// The video's bitrate cap (kbit/s).
pub const MAX_KBPS: u32 = 200;

/// Why a recording is refused, as a locale key.
pub type Refusal = &'static str;

/// The three files made of a recording.
#[derive(Debug)]
pub struct Made {
    pub video: Vec<u8>,
    pub audio: Vec<u8>,
    pub poster: Vec<u8>,
    pub seconds: f64,
}

/// What ffprobe says of a recording.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub seconds: f64,
    pub video: bool,
    pub audio: bool,
}

fn tool(name: &str) -> PathBuf {
    match std::env::var_os("FUZHI_FFMPEG_DIR") {
        Some(dir) => Path::new(&dir).join(name),
        None => PathBuf::from(name),
    }
}

/// Whether ffmpeg and ffprobe can be run here.
pub fn available() -> bool {
    ["ffmpeg", "ffprobe"].iter().all(|t| {
        std::process::Command::new(tool(t))
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// What the recording holds, or why it is not a video.
pub async fn probe(src: &Path) -> Result<Probe, Refusal> {
    let out = Command::new(tool("ffprobe"))
        .args(["-v", "error", "-print_format", "json"])
        .args(["-show_entries", "format=duration:stream=codec_type"])
        .arg(src)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|_| "author.video.no_tools")?;
    if !out.status.success() {
        return Err("author.video.not_video");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|_| "author.video.not_video")?;
    let kinds: Vec<&str> = v["streams"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["codec_type"].as_str()).collect())
        .unwrap_or_default();
    let seconds = v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse::<f64>().ok())
        .unwrap_or(0.0);
    Ok(Probe {
        seconds,
        video: kinds.contains(&"video"),
        audio: kinds.contains(&"audio"),
    })
}

/// Judges the recording: a video with sound, not too long.
pub fn accept(p: &Probe) -> Result<(), Refusal> {
    if !p.video || p.seconds <= 0.0 {
        return Err("author.video.not_video");
    }
    if p.seconds > MAX_SECONDS {
        return Err("author.video.too_long");
    }
    if !p.audio {
        return Err("author.video.no_audio");
    }
    Ok(())
}

/// Runs ffmpeg with `-progress` on stdout, telling `progress` how many
/// seconds of the output are made.
async fn ffmpeg(args: &[String], mut progress: impl FnMut(f64)) -> Result<(), Refusal> {
    let mut child = Command::new(tool("ffmpeg"))
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .args(["-progress", "pipe:1", "-nostats"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|_| "author.video.no_tools")?;
    if let Some(out) = child.stdout.take() {
        let mut lines = BufReader::new(out).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(us) = line
                .strip_prefix("out_time_us=")
                .and_then(|v| v.trim().parse::<f64>().ok())
            {
                progress(us / 1e6);
            }
        }
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|_| "author.video.failed")?;
    if !out.status.success() {
        tracing::warn!(
            "ffmpeg failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return Err("author.video.failed");
    }
    Ok(())
}

fn s(v: &str) -> String {
    v.to_string()
}

/// Makes the video, its sound and its poster in `work` (a folder of the
/// caller's), telling `progress` how far it is (per mille).
pub async fn make(src: &Path, work: &Path, mut progress: impl FnMut(u32)) -> Result<Made, Refusal> {
    let probe = probe(src).await?;
    accept(&probe)?;
    let total = probe.seconds.max(0.1);
    let input = src.to_string_lossy().to_string();
    let video = work.join("video.mp4");
    let audio = work.join("audio.opus");
    let frame = work.join("poster.jpg");
    // The shorter side at most 360, both sides even, whatever the rotation.
    let scale = "scale=w=if(gt(iw\\,ih)\\,-2\\,trunc(min(360\\,iw)/2)*2)\
                 :h=if(gt(iw\\,ih)\\,trunc(min(360\\,ih)/2)*2\\,-2)";
    let mut args: Vec<String> = vec![s("-i"), input.clone()];
    args.extend(
        [
            "-map",
            "0:v:0",
            "-map",
            "0:a:0",
            "-map_metadata",
            "-1",
            "-map_chapters",
            "-1",
            "-vf",
            scale,
            "-fpsmax",
            "30",
            "-c:v",
            "libx264",
            "-profile:v",
            "baseline",
            "-level:v",
            "3.0",
            "-pix_fmt",
            "yuv420p",
            "-preset",
            "veryfast",
            "-crf",
            "30",
        ]
        .map(s),
    );
    args.extend([
        s("-maxrate"),
        format!("{MAX_KBPS}k"),
        s("-bufsize"),
        format!("{}k", MAX_KBPS * 2),
        s("-force_key_frames"),
        format!("expr:gte(t,n_forced*{KEYFRAME_SECONDS})"),
    ]);
    args.extend(
        [
            "-sc_threshold",
            "0",
            "-c:a",
            "aac",
            "-ac",
            "1",
            "-b:a",
            "32k",
            "-ar",
            "44100",
            "-movflags",
            "+faststart",
        ]
        .map(s),
    );
    args.push(video.to_string_lossy().to_string());
    ffmpeg(&args, |t| {
        progress((t / total * 850.0).clamp(0.0, 850.0) as u32)
    })
    .await?;
    let mut args: Vec<String> = vec![s("-i"), input.clone()];
    args.extend(
        [
            "-map",
            "0:a:0",
            "-vn",
            "-map_metadata",
            "-1",
            "-c:a",
            "libopus",
            "-b:a",
            "20k",
            "-ac",
            "1",
            "-application",
            "voip",
        ]
        .map(s),
    );
    args.push(audio.to_string_lossy().to_string());
    ffmpeg(&args, |t| {
        progress(850 + (t / total * 120.0).clamp(0.0, 120.0) as u32)
    })
    .await?;
    let at = (probe.seconds / 2.0).min(1.0);
    let mut args: Vec<String> = vec![s("-ss"), format!("{at:.2}"), s("-i"), input];
    args.extend(["-frames:v", "1", "-map_metadata", "-1", "-q:v", "3"].map(s));
    args.push(frame.to_string_lossy().to_string());
    ffmpeg(&args, |_| {}).await?;
    let read = |p: &Path| std::fs::read(p).map_err(|_| "author.video.failed");
    let (video, audio, frame) = (read(&video)?, read(&audio)?, read(&frame)?);
    let poster = super::picture::prepare(&frame).map_err(|_| "author.video.failed")?;
    if poster.ext != "jpg" {
        return Err("author.video.failed");
    }
    for (name, bytes) in [
        ("v.mp4", &video),
        ("v.opus", &audio),
        ("v.jpg", &poster.bytes),
    ] {
        let problems = super::media::judge(name, bytes);
        if !problems.is_empty() {
            tracing::warn!("a made video file was refused: {problems:?}");
            return Err(
                if name == "v.mp4" && bytes.len() > super::media::VIDEO_LIMIT {
                    "author.video.too_big"
                } else {
                    "author.video.failed"
                },
            );
        }
    }
    progress(1000);
    Ok(Made {
        video,
        audio,
        poster: poster.bytes,
        seconds: probe.seconds,
    })
}
