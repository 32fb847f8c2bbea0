//! Uploaded files: every page or API call that receives a file takes the
//! `Upload` extractor. It accepts a `multipart/form-data` body (the field
//! `file`, else the pasted text of the field `csv`), a urlencoded form (the
//! field `csv`), or the raw body (API clients), reads at most `MB` megabytes
//! (413 beyond) and gives `None` when nothing was sent.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;

use crate::error::AppError;
use crate::web::errors::WebError;

/// The file of a request, at most `MB` megabytes.
pub struct Upload<const MB: usize>(pub Option<Vec<u8>>);

impl<const MB: usize> FromRequest for Upload<MB> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = MB << 20;
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|e| AppError::BadRequest(format!("cannot read the body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(WebError::TooLarge(format!("the file is over {MB} MB")));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Upload(file_of(&content_type, body)))
        })
    }
}

/// The file in a body of this content type (see the module header).
fn file_of(content_type: &str, body: Vec<u8>) -> Option<Vec<u8>> {
    if content_type.starts_with("multipart/form-data") {
        multipart_file(content_type, &body)
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "csv")
            .map(|(_, v)| v.into_owned().into_bytes())
            .filter(|v| !v.trim_ascii().is_empty())
    } else {
        Some(body).filter(|b| !b.is_empty())
    }
}

/// The uploaded file of a `multipart/form-data` body (field `file`), or the
/// pasted text (field `csv`) when no file was chosen.
fn multipart_file(content_type: &str, body: &[u8]) -> Option<Vec<u8>> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delim = format!("--{boundary}");
    let mut file = None;
    let mut text = None;
    for part in split(body, delim.as_bytes()).into_iter().skip(1) {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(end) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..end]).to_ascii_lowercase();
        let content = &part[end + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        if headers.contains("name=\"file\"") && !content.is_empty() {
            file = Some(content.to_vec());
        } else if headers.contains("name=\"csv\"") && !content.trim_ascii().is_empty() {
            text = Some(content.to_vec());
        }
    }
    file.or(text)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut hay: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = find(hay, delim) {
        out.push(&hay[..i]);
        hay = &hay[i + delim.len()..];
    }
    out.push(hay);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTIPART: &str = "multipart/form-data; boundary=XyZ";

    fn body(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut b = String::new();
        for (name, content) in parts {
            b.push_str(&format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{content}\r\n"
            ));
        }
        b.push_str("--XyZ--\r\n");
        b.into_bytes()
    }

    #[test]
    fn multipart_prefers_the_file_over_pasted_text() {
        let b = body(&[("csrf", "t"), ("csv", "pasted"), ("file", "a,b\r\n1,2")]);
        assert_eq!(file_of(MULTIPART, b), Some(b"a,b\r\n1,2".to_vec()));
        let b = body(&[("csv", "pasted"), ("file", "")]);
        assert_eq!(file_of(MULTIPART, b), Some(b"pasted".to_vec()));
        let b = body(&[("csv", "  "), ("file", "")]);
        assert_eq!(file_of(MULTIPART, b), None);
    }

    #[test]
    fn forms_and_raw_bodies() {
        let form = "application/x-www-form-urlencoded";
        assert_eq!(
            file_of(form, b"csrf=t&csv=a%2Cb".to_vec()),
            Some(b"a,b".to_vec())
        );
        assert_eq!(file_of(form, b"csv=+".to_vec()), None);
        assert_eq!(file_of("text/csv", b"a,b".to_vec()), Some(b"a,b".to_vec()));
        assert_eq!(file_of("text/csv", Vec::new()), None);
    }
}
