//! Uploaded files: every page or API call that receives a file takes the
//! `Upload` extractor. It accepts a `multipart/form-data` body (the field
//! `file`, else the pasted text of the field `csv`), a urlencoded form (the
//! field `csv`), or the raw body (API clients), reads at most `MB` megabytes
//! (413 beyond) and gives `None` when nothing was sent. The extractor only
//! holds the body: the handler authorizes, then calls [`Upload::read`].

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::{Ready, ready};
use memchr::memmem;

use crate::error::{AppError, AppResult};
use crate::web::errors::{WebError, WebResult};

/// The longest multipart boundary (RFC 2046, section 5.1.1).
pub const MAX_BOUNDARY: usize = 70;

/// The file of a request, at most `MB` megabytes. Nothing of the body is read
/// when the handler is called: it authorizes first, then calls
/// [`Upload::read`], so a caller who may not upload is refused before a byte
/// of the body is taken (and a big body costs nothing but its refusal).
pub struct Upload<const MB: usize> {
    content_type: String,
    payload: Payload,
}

impl<const MB: usize> FromRequest for Upload<MB> {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        ready(Ok(Upload {
            content_type,
            payload: payload.take(),
        }))
    }
}

impl<const MB: usize> Upload<MB> {
    /// Reads the body (413 beyond `MB` megabytes; 400 for a multipart body
    /// whose boundary is missing, longer than 70 characters or not made of
    /// the characters RFC 2046 allows) and finds the file in it, off the
    /// async workers. Call it only after the caller was authorized.
    pub async fn read(mut self) -> WebResult<Option<Vec<u8>>> {
        let boundary = if is_multipart(&self.content_type) {
            Some(boundary_of(&self.content_type)?)
        } else {
            None
        };
        let limit = MB << 20;
        let mut body = Vec::new();
        while let Some(chunk) = self.payload.next().await {
            let chunk =
                chunk.map_err(|e| AppError::BadRequest(format!("cannot read the body: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(WebError::TooLarge(format!("the file is over {MB} MB")));
            }
            body.extend_from_slice(&chunk);
        }
        let content_type = self.content_type;
        web::block(move || match boundary {
            Some(b) => multipart_file(&b, &body),
            None => file_of(&content_type, body),
        })
        .await
        .map_err(|e| {
            AppError::Internal(anyhow::anyhow!("the upload could not be parsed: {e}")).into()
        })
    }
}

impl<const MB: usize> Upload<MB> {
    /// Like [`Upload::read`], with the short text fields sent beside the
    /// file (a multipart form's parts without a file name, at most 1 KB
    /// each; a urlencoded form's fields).
    pub async fn read_with_fields(mut self) -> WebResult<(Option<Vec<u8>>, Vec<(String, String)>)> {
        let multipart = is_multipart(&self.content_type);
        let boundary = multipart
            .then(|| boundary_of(&self.content_type))
            .transpose()?;
        let limit = MB << 20;
        let mut body = Vec::new();
        while let Some(chunk) = self.payload.next().await {
            let chunk =
                chunk.map_err(|e| AppError::BadRequest(format!("cannot read the body: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(WebError::TooLarge(format!("the file is over {MB} MB")));
            }
            body.extend_from_slice(&chunk);
        }
        let content_type = self.content_type;
        web::block(move || match boundary {
            Some(b) => (multipart_file(&b, &body), multipart_fields(&b, &body)),
            None => {
                let fields = if content_type.starts_with("application/x-www-form-urlencoded") {
                    url::form_urlencoded::parse(&body).into_owned().collect()
                } else {
                    Vec::new()
                };
                (file_of(&content_type, body), fields)
            }
        })
        .await
        .map_err(|e| {
            AppError::Internal(anyhow::anyhow!("the upload could not be parsed: {e}")).into()
        })
    }
}

impl<const MB: usize> Upload<MB> {
    /// Like [`Upload::read_with_fields`] for a large file (a video): the
    /// body goes to disk as it arrives (never held whole in memory, 413
    /// beyond `MB` megabytes), then the file is taken out of it into
    /// `dest`. Whether a file was sent, and the short text fields.
    pub async fn save_with_fields(
        mut self,
        dest: &std::path::Path,
    ) -> WebResult<(bool, Vec<(String, String)>)> {
        use tokio::io::AsyncWriteExt;
        let multipart = is_multipart(&self.content_type);
        let boundary = multipart
            .then(|| boundary_of(&self.content_type))
            .transpose()?;
        let internal = |e: std::io::Error| -> WebError {
            AppError::Internal(anyhow::anyhow!("the upload could not be kept: {e}")).into()
        };
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(internal)?;
        }
        let body_path = dest.with_extension("body");
        let mut body = tokio::fs::File::create(&body_path)
            .await
            .map_err(internal)?;
        let limit = MB << 20;
        let mut written = 0usize;
        while let Some(chunk) = self.payload.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = tokio::fs::remove_file(&body_path).await;
                    return Err(AppError::BadRequest(format!("cannot read the body: {e}")).into());
                }
            };
            written += chunk.len();
            if written > limit {
                let _ = tokio::fs::remove_file(&body_path).await;
                return Err(WebError::TooLarge(format!("the file is over {MB} MB")));
            }
            body.write_all(&chunk).await.map_err(internal)?;
        }
        body.flush().await.map_err(internal)?;
        drop(body);
        let Some(boundary) = boundary else {
            tokio::fs::rename(&body_path, dest)
                .await
                .map_err(internal)?;
            return Ok((written > 0, Vec::new()));
        };
        let (from, to) = (body_path.clone(), dest.to_path_buf());
        let out = web::block(move || split_multipart_file(&boundary, &from, &to))
            .await
            .map_err(|e| {
                AppError::Internal(anyhow::anyhow!("the upload could not be parsed: {e}"))
            })?;
        let _ = tokio::fs::remove_file(&body_path).await;
        out.map_err(internal)
    }
}

/// Takes the `file` part of the multipart body in `from` into `to`, reading
/// it a megabyte at a time; the short text fields are returned.
fn split_multipart_file(
    boundary: &str,
    from: &std::path::Path,
    to: &std::path::Path,
) -> std::io::Result<(bool, Vec<(String, String)>)> {
    use std::io::{Read, Write};
    let delim = format!("\r\n--{boundary}");
    let finder = memmem::Finder::new(delim.as_bytes());
    let blank = memmem::Finder::new(b"\r\n\r\n");
    let mut input = std::fs::File::open(from)?;
    // The body starts with the first delimiter, without its line break.
    let mut buf: Vec<u8> = b"\r\n".to_vec();
    let mut chunk = vec![0u8; 1 << 20];
    let mut eof = false;
    let mut fill = |buf: &mut Vec<u8>, eof: &mut bool| -> std::io::Result<()> {
        let n = input.read(&mut chunk)?;
        if n == 0 {
            *eof = true;
        }
        buf.extend_from_slice(&chunk[..n]);
        Ok(())
    };
    let mut fields = Vec::new();
    let mut found = false;
    // Skip to the first delimiter.
    loop {
        if let Some(i) = finder.find(&buf) {
            buf.drain(..i + delim.len());
            break;
        }
        if eof {
            return Ok((false, fields));
        }
        let keep = buf.len().saturating_sub(delim.len());
        buf.drain(..keep);
        fill(&mut buf, &mut eof)?;
    }
    loop {
        // After a delimiter: "--" ends the body, else a line break and headers.
        while buf.len() < 2 && !eof {
            fill(&mut buf, &mut eof)?;
        }
        if buf.starts_with(b"--") || buf.len() < 2 {
            break;
        }
        let headers_end = loop {
            if let Some(i) = blank.find(&buf) {
                break Some(i);
            }
            if eof || buf.len() > 16 * 1024 {
                break None;
            }
            fill(&mut buf, &mut eof)?;
        };
        let Some(end) = headers_end else {
            break;
        };
        let headers = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        buf.drain(..end + 4);
        let is_file = headers.contains("name=\"file\"") && headers.contains("filename=");
        let name = headers
            .find("name=\"")
            .and_then(|i| headers.get(i + 6..))
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("")
            .to_string();
        let mut out = if is_file {
            Some(std::fs::File::create(to)?)
        } else {
            None
        };
        let mut small = Vec::new();
        let mut size = 0usize;
        loop {
            if let Some(i) = finder.find(&buf) {
                match out.as_mut() {
                    Some(f) => f.write_all(&buf[..i])?,
                    None if small.len() + i <= 1024 => small.extend_from_slice(&buf[..i]),
                    None => small.clear(),
                }
                size += i;
                buf.drain(..i + delim.len());
                break;
            }
            if eof {
                return Ok((found, fields));
            }
            let keep = buf.len().saturating_sub(delim.len());
            match out.as_mut() {
                Some(f) => f.write_all(&buf[..keep])?,
                None if small.len() + keep <= 1024 => small.extend_from_slice(&buf[..keep]),
                None => small.clear(),
            }
            size += keep;
            buf.drain(..keep);
            fill(&mut buf, &mut eof)?;
        }
        if let Some(mut f) = out {
            f.flush()?;
            found = size > 0;
        } else if !headers.contains("filename=")
            && let Ok(text) = String::from_utf8(small)
        {
            fields.push((name, text));
        }
    }
    Ok((found, fields))
}

/// The short text fields of a multipart body: parts with a name and no
/// file name, at most 1 KB of UTF-8 each.
fn multipart_fields(boundary: &str, body: &[u8]) -> Vec<(String, String)> {
    let delim = format!("--{boundary}");
    let blank = memmem::Finder::new(b"\r\n\r\n");
    let mut out = Vec::new();
    for part in memmem::find_iter(body, delim.as_bytes())
        .map(|i| i + delim.len())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| &body[w[0]..w[1] - delim.len()])
    {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(end) = blank.find(part) else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..end]);
        let lower = headers.to_ascii_lowercase();
        if lower.contains("filename=") {
            continue;
        }
        let Some(name) = lower
            .find("name=\"")
            .and_then(|i| headers.get(i + 6..))
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let content = &part[end + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        if content.len() <= 1024
            && let Ok(text) = std::str::from_utf8(content)
        {
            out.push((name.to_string(), text.to_string()));
        }
    }
    out
}

fn is_multipart(content_type: &str) -> bool {
    content_type
        .get(..19)
        .is_some_and(|t| t.eq_ignore_ascii_case("multipart/form-data"))
}

/// The boundary of a multipart content type, checked against RFC 2046:
/// 1 to 70 characters of `0-9 A-Z a-z ' ( ) + _ , - . / : = ?` and space,
/// not ending in a space.
fn boundary_of(content_type: &str) -> AppResult<String> {
    let bad = |why: &str| AppError::BadRequest(format!("boundary: {why}"));
    let value = content_type
        .split(';')
        .skip(1)
        .find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then_some(v.trim())
        })
        .ok_or_else(|| bad("a multipart body needs a boundary / 多部分上传缺少 boundary"))?;
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if value.is_empty() || value.len() > MAX_BOUNDARY {
        return Err(bad(&format!(
            "the multipart boundary must be 1 to {MAX_BOUNDARY} characters (RFC 2046) / boundary 须为 1 至 {MAX_BOUNDARY} 个字符"
        )));
    }
    let allowed = |c: u8| c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&c);
    if !value.bytes().all(allowed) || value.ends_with(' ') {
        return Err(bad(
            "the multipart boundary has characters RFC 2046 does not allow / boundary 含有不允许的字符",
        ));
    }
    Ok(value.to_string())
}

/// The file in a non-multipart body of this content type (see the module header).
fn file_of(content_type: &str, body: Vec<u8>) -> Option<Vec<u8>> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "csv")
            .map(|(_, v)| v.into_owned().into_bytes())
            .filter(|v| !v.trim_ascii().is_empty())
    } else {
        Some(body).filter(|b| !b.is_empty())
    }
}

/// The uploaded file of a `multipart/form-data` body (field `file`), or the
/// pasted text (field `csv`) when no file was chosen. Every search is
/// linear in the body (`memmem`), whatever the boundary.
fn multipart_file(boundary: &str, body: &[u8]) -> Option<Vec<u8>> {
    let delim = format!("--{boundary}");
    let finder = memmem::Finder::new(delim.as_bytes());
    let blank = memmem::Finder::new(b"\r\n\r\n");
    let mut file = None;
    let mut text = None;
    let mut start = finder.find(body)? + delim.len();
    loop {
        let rest = &body[start..];
        let (part, next) = match finder.find(rest) {
            Some(i) => (&rest[..i], Some(start + i + delim.len())),
            None => (rest, None),
        };
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        if let Some(end) = blank.find(part) {
            let headers = String::from_utf8_lossy(&part[..end]).to_ascii_lowercase();
            let content = &part[end + 4..];
            let content = content.strip_suffix(b"\r\n").unwrap_or(content);
            if headers.contains("name=\"file\"") && !content.is_empty() {
                file = Some(content.to_vec());
            } else if headers.contains("name=\"csv\"") && !content.trim_ascii().is_empty() {
                text = Some(content.to_vec());
            }
        }
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    file.or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multipart(b: Vec<u8>) -> Option<Vec<u8>> {
        let boundary = boundary_of("multipart/form-data; boundary=XyZ").unwrap();
        multipart_file(&boundary, &b)
    }

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
        assert_eq!(multipart(b), Some(b"a,b\r\n1,2".to_vec()));
        let b = body(&[("csv", "pasted"), ("file", "")]);
        assert_eq!(multipart(b), Some(b"pasted".to_vec()));
        let b = body(&[("csv", "  "), ("file", "")]);
        assert_eq!(multipart(b), None);
    }

    #[test]
    fn text_fields_come_beside_the_file() {
        let mut b = body(&[("variety", "other"), ("label.zh-CN", "彝语")]);
        b.truncate(b.len() - "--XyZ--\r\n".len());
        b.extend_from_slice(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.webm\"\r\n\r\nbytes\r\n--XyZ--\r\n",
        );
        let fields = multipart_fields("XyZ", &b);
        assert_eq!(
            fields,
            [
                ("variety".to_string(), "other".to_string()),
                ("label.zh-CN".to_string(), "彝语".to_string())
            ]
        );
        assert_eq!(multipart_file("XyZ", &b), Some(b"bytes".to_vec()));
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

    #[test]
    fn boundaries_follow_rfc_2046() {
        let ok = |ct: &str| boundary_of(ct).ok();
        assert_eq!(
            ok("multipart/form-data; boundary=XyZ").as_deref(),
            Some("XyZ")
        );
        assert_eq!(
            ok("multipart/form-data; Boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        let seventy = "b".repeat(70);
        assert!(ok(&format!("multipart/form-data; boundary={seventy}")).is_some());
        assert!(ok(&format!("multipart/form-data; boundary={seventy}x")).is_none());
        assert!(ok("multipart/form-data").is_none());
        assert!(ok("multipart/form-data; boundary=").is_none());
        assert!(ok("multipart/form-data; boundary=a<b").is_none());
        assert!(ok("multipart/form-data; boundary=\"ab \"").is_none());
    }

    #[test]
    fn a_large_file_is_taken_out_of_the_body_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let video: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut b = b"--XyZ\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\n\xe5\xb1\x95\xe7\xa4\xba\r\n".to_vec();
        b.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.mp4\"\r\nContent-Type: video/mp4\r\n\r\n");
        b.extend_from_slice(&video);
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        let from = dir.path().join("body");
        std::fs::write(&from, &b).unwrap();
        let to = dir.path().join("video");
        let (found, fields) = split_multipart_file("XyZ", &from, &to).unwrap();
        assert!(found);
        assert_eq!(fields, vec![("alt".to_string(), "展示".to_string())]);
        assert_eq!(std::fs::read(&to).unwrap(), video);
        // No file part: nothing found, the fields still read.
        let b = body(&[("alt", "x")]);
        std::fs::write(&from, &b).unwrap();
        let (found, fields) = split_multipart_file("XyZ", &from, &to).unwrap();
        assert!(!found);
        assert_eq!(fields, vec![("alt".to_string(), "x".to_string())]);
    }
}
