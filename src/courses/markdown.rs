//! Lesson Markdown: rendering to sanitised HTML, and the lint the checker runs
//! (raw HTML, images outside `media/`, links that are not http(s) or relative).

use std::collections::HashSet;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

fn options() -> Options {
    Options::ENABLE_TABLES
}

fn is_web(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// A relative link: no scheme, not protocol-relative (`//host`).
fn is_relative(url: &str) -> bool {
    let url = url.trim();
    let before_path = url.split(['/', '?', '#']).next().unwrap_or("");
    !url.starts_with("//") && !url.starts_with('\\') && !before_path.contains(':')
}

/// `media/<file>`: one plain file name, no folders, no `..`.
pub fn is_media_path(url: &str) -> bool {
    url.strip_prefix("media/").is_some_and(|name| {
        !name.is_empty()
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    })
}

/// Renders lesson Markdown (CommonMark + tables) to HTML that is safe to embed:
/// raw HTML is shown as text, links go only to http(s) or relative addresses,
/// images only to the course's `media/` (served under `media_prefix`, so
/// `media/a.svg` with prefix `/media/smartphone-basics/3` becomes
/// `/media/smartphone-basics/3/media/a.svg`) or https, and load lazily.
///
/// A picture of a video (`![what it shows](media/NAME.mp4)`) becomes a
/// player that works without JavaScript and loads nothing until played
/// (`preload="none"`, the poster `NAME.jpg`), with the captions
/// `NAME.LANG.vtt` of every language in `media` (the course's files).
pub fn render_markdown(md: &str, media_prefix: &str, media: &[String]) -> String {
    let prefix = media_prefix.trim_end_matches('/');
    // Links and images we refuse are dropped with their wrapper; their text stays.
    let mut dropped: Vec<bool> = Vec::new();
    // A video being read: its address and its alt text so far.
    let mut video: Option<(String, String)> = None;
    let events = Parser::new_ext(md, options()).filter_map(|event| match event {
        Event::Text(t) | Event::Code(t) if video.is_some() => {
            if let Some((_, alt)) = video.as_mut() {
                alt.push_str(&t);
            }
            None
        }
        Event::End(TagEnd::Image) if video.is_some() => {
            let (path, alt) = video.take().unwrap_or_default();
            Some(Event::Html(CowStr::from(video_html(
                prefix, &path, &alt, media,
            ))))
        }
        Event::Start(Tag::Image { dest_url, .. })
            if is_media_path(&dest_url) && dest_url.ends_with(".mp4") =>
        {
            video = Some((dest_url.to_string(), String::new()));
            None
        }
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let ok = is_web(&dest_url) || is_relative(&dest_url);
            dropped.push(!ok);
            ok.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let url = if is_media_path(&dest_url) {
                Some(CowStr::from(format!("{prefix}/{dest_url}")))
            } else if dest_url.trim().to_ascii_lowercase().starts_with("https://") {
                Some(dest_url)
            } else {
                None
            };
            dropped.push(url.is_none());
            url.map(|dest_url| {
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            })
        }
        Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
            if dropped.pop().unwrap_or(false) {
                None
            } else {
                Some(event)
            }
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, events);
    // A video on its own line is a block: the paragraph it stood in is left empty.
    clean(&out).replace("<p></p>", "")
}

/// The player of a lesson video (see [`render_markdown`]).
fn video_html(prefix: &str, path: &str, alt: &str, media: &[String]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let stem = path.trim_end_matches(".mp4");
    let mut tracks = String::new();
    for m in media {
        if let Some(lang) = m
            .strip_prefix(stem)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|r| r.strip_suffix(".vtt"))
            .filter(|l| !l.contains('.'))
        {
            let default = if tracks.is_empty() { " default" } else { "" };
            let label = match lang {
                "zh-CN" => "中文",
                "en" => "English",
                other => other,
            };
            tracks.push_str(&format!(
                "<track kind=\"captions\" srclang=\"{l}\" label=\"{label}\" src=\"{prefix}/{m}\"{default}>",
                l = esc(lang),
                label = esc(label),
                m = esc(m)
            ));
        }
    }
    format!(
        "<figure class=\"video\"><video controls preload=\"none\" playsinline poster=\"{prefix}/{stem}.jpg\" src=\"{prefix}/{path}\" aria-label=\"{alt}\">{tracks}</video><figcaption>{alt}</figcaption></figure>",
        stem = esc(stem),
        path = esc(path),
        alt = esc(alt),
    )
}

/// The second wall: whatever got through, ammonia keeps only harmless tags.
fn clean(html: &str) -> String {
    ammonia::Builder::default()
        .add_tags(["video", "track", "figure", "figcaption"])
        .add_tag_attributes(
            "video",
            [
                "controls",
                "preload",
                "playsinline",
                "poster",
                "src",
                "aria-label",
            ],
        )
        .add_tag_attributes("track", ["kind", "srclang", "label", "src", "default"])
        .add_tag_attributes("figure", ["class"])
        .url_schemes(HashSet::from(["http", "https"]))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("img", "loading", "lazy")
        .clean(html)
        .to_string()
}

/// What the checker must know about a lesson body.
pub struct Lint {
    /// (byte offset in the body, message)
    pub problems: Vec<(usize, String)>,
    /// (byte offset, `media/…` path) of every image.
    pub images: Vec<(usize, String)>,
}

pub fn lint(md: &str) -> Lint {
    let mut lint = Lint {
        problems: Vec::new(),
        images: Vec::new(),
    };
    for (event, range) in Parser::new_ext(md, options()).into_offset_iter() {
        let at = range.start;
        match event {
            Event::Html(_) | Event::InlineHtml(_) => lint.problems.push((
                at,
                "raw HTML is not allowed in lessons (write Markdown)".to_string(),
            )),
            Event::Start(Tag::Image { dest_url, .. }) => {
                if is_media_path(&dest_url) {
                    lint.images.push((at, dest_url.to_string()));
                } else {
                    lint.problems.push((
                        at,
                        format!(
                            "image \"{dest_url}\" must be a file in media/ (e.g. media/01-wifi-icon.svg)"
                        ),
                    ));
                }
            }
            Event::Start(Tag::Link { dest_url, .. })
                if !(is_web(&dest_url) || is_relative(&dest_url)) =>
            {
                lint.problems.push((
                    at,
                    format!("link \"{dest_url}\" must start with https:// or http://"),
                ));
            }
            _ => {}
        }
    }
    lint
}
