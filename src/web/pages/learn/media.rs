//! Course media as served to pages and phones: cached per version, with an
//! ETag, single byte ranges, and stored videos streamed from the file store.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::State;
use crate::error::{AppError, AppResult};
use crate::web::extract::MaybeUser;

/// The policy of every media answer: nothing runs, nothing loads.
const MEDIA_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// Course media: immutable per version, so cached for a year, with an ETag.
pub async fn media(
    req: HttpRequest,
    state: State,
    user: MaybeUser,
    path: web::Path<(String, i32, String)>,
) -> AppResult<HttpResponse> {
    let (slug, version, file) = path.into_inner();
    let viewer = user.0.as_ref().map(|u| &u.actor);
    let (m, draft) = crate::catalog::store::media(&state.db, viewer, &slug, version, &file).await?;
    let etag = format!("\"{}\"", m.etag);
    // A draft's media changes under the same version and is not public.
    let cache = if draft {
        "private, no-store"
    } else {
        "public, max-age=31536000, immutable"
    };
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        // The same policy as the file's own answer: a cache that merges a
        // 304's headers into what it keeps must not lose the sandbox.
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CONTENT_SECURITY_POLICY, MEDIA_CSP))
            .finish());
    }
    let len = if m.file_key.is_some() {
        m.size.max(0) as usize
    } else {
        m.content.len()
    };
    // A range applies only to the version the client holds (`If-Range`).
    let if_range_ok = req
        .headers()
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == etag);
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_ok)
        .map(|v| byte_range(v, len));
    let mut res = match range {
        Some(Some(Ok((start, end)))) => {
            let mut r = HttpResponse::PartialContent();
            r.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")));
            r
        }
        Some(Some(Err(()))) => {
            return Ok(HttpResponse::RangeNotSatisfiable()
                .insert_header((header::CONTENT_RANGE, format!("bytes */{len}")))
                .insert_header((header::ACCEPT_RANGES, "bytes"))
                .insert_header((header::ETAG, etag))
                .finish());
        }
        // No range, or one this server does not serve (several ranges, other
        // units): the whole file, as RFC 9110 allows.
        _ => HttpResponse::Ok(),
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .content_type(m.mime.as_str());
    // A media file opened on its own (an SVG above all) runs no script and
    // loads nothing; a page that plays or shows it is not concerned.
    res.insert_header((header::CONTENT_SECURITY_POLICY, MEDIA_CSP));
    let (start, end) = match range {
        Some(Some(Ok(r))) => r,
        _ => (0, (len as u64).saturating_sub(1)),
    };
    if let Some(name) = &m.file_key {
        // A video from the file store: streamed, never held whole.
        return Ok(res.body(stored_file(name, start, end, len).await?));
    }
    Ok(match range {
        Some(Some(Ok(_))) => {
            res.body(web::Bytes::from(m.content).slice(start as usize..=end as usize))
        }
        _ => res.body(m.content),
    })
}

/// Bytes `start..=end` of a file in the store, as a body read in chunks.
async fn stored_file(
    name: &str,
    start: u64,
    end: u64,
    len: usize,
) -> AppResult<
    actix_web::body::SizedStream<tokio_util::io::ReaderStream<tokio::io::Take<tokio::fs::File>>>,
> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let path = crate::catalog::files::open_path(name)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("file store: {e}")))?;
    let mut f = tokio::fs::File::open(&path)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("file store, {name}: {e}")))?;
    let n = if len == 0 { 0 } else { end - start + 1 };
    f.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("file store, {name}: {e}")))?;
    Ok(actix_web::body::SizedStream::new(
        n,
        tokio_util::io::ReaderStream::with_capacity(f.take(n), 64 * 1024),
    ))
}

/// The one byte range of a `Range` header over a body of `len` bytes, as
/// first and last byte: `None` when the header is not a single byte range
/// (served whole), `Err` when it cannot be satisfied (416).
fn byte_range(header: &str, len: usize) -> Option<Result<(u64, u64), ()>> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let len = len as u64;
    let range = if a.is_empty() {
        // `-n`: the last n bytes.
        let n: u64 = b.parse().ok()?;
        if n == 0 || len == 0 {
            return Some(Err(()));
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().ok()?;
        let end: u64 = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            let end: u64 = b.parse().ok()?;
            if end < start {
                return None;
            }
            end.min(len.saturating_sub(1))
        };
        if start >= len {
            return Some(Err(()));
        }
        (start, end)
    };
    Some(Ok(range))
}

#[cfg(test)]
mod range_tests {
    use super::byte_range;

    #[test]
    fn byte_ranges_as_rfc_9110_reads_them() {
        assert_eq!(byte_range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(byte_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(byte_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(byte_range("bytes=-500", 100), Some(Ok((0, 99))));
        assert_eq!(byte_range("bytes=50-500", 100), Some(Ok((50, 99))));
        assert_eq!(byte_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(byte_range("bytes=-0", 100), Some(Err(())));
        assert_eq!(byte_range("bytes=0-1,5-6", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
        assert_eq!(byte_range("bytes=9-3", 100), None);
        assert_eq!(byte_range("bytes=x-3", 100), None);
    }
}
