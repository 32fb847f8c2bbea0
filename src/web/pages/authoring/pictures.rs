//! A lesson's pictures, from the lesson page: a photo or screenshot taken on
//! the phone (JPEG, PNG or WebP, up to 20 MB; made upright, at most 720 px
//! wide, under 80 KB and stripped of every metadata block by
//! [`crate::courses::picture`]) or a drawing (SVG that only draws, at most
//! 50 KB). The trainer must say what the picture shows (its alt text: read
//! by screen readers, shown in low-data mode). Without JavaScript the
//! picture is added at the end of the lesson's text; the toolbar's script
//! sends `place=cursor` and puts it where the cursor is instead, from the
//! JSON answer.

use super::*;
use crate::courses::picture;
use crate::web::upload::Upload;

/// The largest drawing (SVG) the course rules allow.
const DRAWING_BYTES: usize = 50 * 1024;

/// The upload made into a lesson picture, or why it is refused (a locale key).
fn judge(file: Option<&[u8]>) -> Result<(Vec<u8>, &'static str), &'static str> {
    let bytes = file
        .filter(|b| !b.is_empty())
        .ok_or("author.picture.missing")?;
    if picture::raster_format(bytes).is_some() {
        let p = picture::prepare(bytes)?;
        return Ok((p.bytes, p.ext));
    }
    if memchr::memmem::find(bytes, b"<svg").is_some() {
        if bytes.len() > DRAWING_BYTES {
            return Err("author.picture.too_big");
        }
        if crate::courses::svg::check(bytes).is_ok() {
            return Ok((bytes.to_vec(), "svg"));
        }
    }
    Err("author.picture.bad_type")
}

pub async fn picture_upload(
    req: actix_web::HttpRequest,
    author: Author,
    path: web::Path<(String, String)>,
    upload: Upload<{ picture::UPLOAD_MB }>,
) -> crate::web::errors::WebResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let e = author.editor(&slug).await?;
    if !e.course().lessons.iter().any(|l| l.slug == lesson) {
        return Err(AppError::NotFound.into());
    }
    let wants_json = wants_json(&req);
    let (file, fields) = upload.read_with_fields().await?;
    let at_cursor = fields.iter().any(|(k, v)| k == "place" && v == "cursor");
    let made = match described(&fields, "author.picture.no_alt") {
        Ok(alt) => match web::block(move || judge(file.as_deref())).await {
            Ok(Ok((bytes, ext))) => Ok((alt, bytes, ext)),
            Ok(Err(key)) => Err(key),
            Err(_) => Err("author.picture.unreadable"),
        },
        Err(key) => Err(key),
    };
    let (alt, bytes, ext) = match made {
        Ok(m) => m,
        Err(key) if wants_json => {
            return Ok(HttpResponse::UnprocessableEntity()
                .json(json!({"field": "picture", "message": tr(e.state, e.lang, key)})));
        }
        Err(key) => return Ok(e.lesson_refused(&lesson, "picture", key).await?),
    };
    let kb = bytes.len().div_ceil(1024);
    let mut placed = None;
    e.save("picture", |c| {
        placed = edit::add_picture(c, &lesson, ext, bytes.clone(), &alt, !at_cursor);
        placed.is_some()
    })
    .await?;
    if wants_json {
        return Ok(HttpResponse::Ok().json(json!({
            "path": placed,
            "alt": alt,
            "kb": kb,
            "markdown": placed.as_ref().map(|p| format!("![{alt}]({p})")),
        })));
    }
    Ok(redirect(&format!(
        "/teach/courses/{slug}/lessons/{lesson}?saved=1#pictures"
    )))
}
