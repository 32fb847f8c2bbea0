//! A lesson's pictures: upload from the lesson page (PNG, WebP or SVG,
//! judged by content, at most 50 KB as the course rules allow). The picture
//! is kept in the draft and shown at the end of the lesson's text, where the
//! toolbar's picture button can place it again.

use super::*;
use crate::web::upload::Upload;

/// The largest picture the course rules allow.
const PICTURE_BYTES: usize = 50 * 1024;

/// The picture's type by its bytes, or why it is refused (a locale key).
fn judge(file: Option<&[u8]>) -> Result<&'static str, &'static str> {
    let bytes = file
        .filter(|b| !b.is_empty())
        .ok_or("author.picture.missing")?;
    if bytes.len() > PICTURE_BYTES {
        return Err("author.picture.too_big");
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("png")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok("webp")
    } else if memchr::memmem::find(bytes, b"<svg").is_some()
        && crate::courses::svg::check(bytes).is_ok()
    {
        Ok("svg")
    } else {
        Err("author.picture.bad_type")
    }
}

pub async fn picture_upload(
    author: Author,
    path: web::Path<(String, String)>,
    upload: Upload<1>,
) -> crate::web::errors::WebResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let e = author.editor(&slug).await?;
    if !e.course().lessons.iter().any(|l| l.slug == lesson) {
        return Err(AppError::NotFound.into());
    }
    let file = upload.read().await?;
    let ext = match judge(file.as_deref()) {
        Ok(ext) => ext,
        Err(key) => return Ok(e.lesson_refused(&lesson, "picture", key).await?),
    };
    let bytes = file.unwrap_or_default();
    e.save("picture", |c| {
        edit::add_picture(c, &lesson, ext, bytes).is_some()
    })
    .await?;
    Ok(redirect(&format!(
        "/teach/courses/{slug}/lessons/{lesson}?saved=1#pictures"
    )))
}
