//! Response compression on the worker thread, sized for pages of a few KB.
//!
//! actix's `Compress` hands every body of 1 KiB or more to the blocking pool
//! (a thread hop and a wake-up per request) and builds a new encoder each
//! time (brotli: a 4 MiB window and tables of several hundred KB to allocate
//! and clear). Here a page made for one request is gzipped inline at the
//! fast level by a deflate state each worker thread keeps and resets: no
//! allocation beyond the output, a few microseconds for a 3 KB page. Answers
//! made once from immutable content (`Prepared`: a course's JSON, the
//! stylesheet) are compressed once, at the best brotli and gzip levels, and
//! then only looked up. Bodies already encoded pass through untouched: the
//! handler set `Content-Encoding`.

use std::cell::RefCell;
use std::io::Write;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;

/// Bodies shorter than this go out as they are: the saving would not pay
/// for the encoding header and the work.
pub const MIN_SIZE: usize = 512;
thread_local! {
    /// The deflate state of this worker thread, reset for each body.
    static DEFLATE: RefCell<flate2::Compress> =
        RefCell::new(flate2::Compress::new(flate2::Compression::fast(), false));
}

/// `body` as a gzip member, deflated at the fast level by this thread's
/// reusable state.
pub fn gzip_fast(body: &[u8]) -> Vec<u8> {
    DEFLATE.with(|c| {
        let mut c = c.borrow_mut();
        c.reset();
        let mut out = Vec::with_capacity(body.len() / 2 + 64);
        // The gzip header: deflate, no name, no time, unknown system.
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        loop {
            if out.capacity() - out.len() < 256 {
                out.reserve(body.len() / 2 + 256);
            }
            let consumed = c.total_in() as usize;
            let status = c
                .compress_vec(&body[consumed..], &mut out, flate2::FlushCompress::Finish)
                .expect("deflate into memory");
            if status == flate2::Status::StreamEnd {
                break;
            }
        }
        let mut crc = flate2::Crc::new();
        crc.update(body);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out
    })
}

/// The encodings a client takes, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// Whether `Accept-Encoding` allows brotli, and gzip (a `q=0` refuses
    /// one; `*` stands for gzip).
    pub fn allowed(accept: Option<&HeaderValue>) -> (bool, bool) {
        let Some(accept) = accept.and_then(|a| a.to_str().ok()) else {
            return (false, false);
        };
        let (mut br, mut gzip) = (false, false);
        for part in accept.split(',') {
            let mut it = part.split(';');
            let name = it.next().unwrap_or_default().trim();
            let refused = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            if name.eq_ignore_ascii_case("br") {
                br = true;
            } else if name.eq_ignore_ascii_case("gzip") || name == "*" {
                gzip = true;
            }
        }
        (br, gzip)
    }

    /// `body` encoded at the best level, for a body encoded once and served
    /// many times.
    pub fn encode_best(self, body: &[u8]) -> Vec<u8> {
        match self {
            Encoding::Brotli => {
                // The smallest window (1 << lgwin) that holds the whole body.
                let lgwin = (usize::BITS - body.len().max(1).leading_zeros()).clamp(10, 22);
                let mut w = brotli::CompressorWriter::new(
                    Vec::with_capacity(body.len() / 3 + 64),
                    4096,
                    11,
                    lgwin,
                );
                w.write_all(body).expect("writing to memory");
                w.into_inner()
            }
            Encoding::Gzip => {
                let mut w = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 3 + 64),
                    flate2::Compression::best(),
                );
                w.write_all(body).expect("writing to memory");
                w.finish().expect("writing to memory")
            }
        }
    }
}

fn compressible(content_type: Option<&HeaderValue>) -> bool {
    let Some(ct) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    ct.starts_with("text/")
        || ct.starts_with("application/json")
        || ct.starts_with("application/javascript")
        || ct.starts_with("application/manifest+json")
        || ct.starts_with("application/problem+json")
        || ct.starts_with("image/svg+xml")
}

/// Compresses a response body in place when the client takes it and it is
/// worth it; says `Vary: Accept-Encoding` on every compressible response.
pub async fn compress(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // A page made for this request only: gzip, whatever else the client
    // takes (see the module's doc).
    let (_, gzip) = Encoding::allowed(req.headers().get(header::ACCEPT_ENCODING));
    let head = req.method() == actix_web::http::Method::HEAD;
    let res = next.call(req).await?;
    let headers = res.headers();
    if !compressible(headers.get(header::CONTENT_TYPE))
        || res.status() == actix_web::http::StatusCode::NO_CONTENT
        || res.status() == actix_web::http::StatusCode::PARTIAL_CONTENT
    {
        return Ok(res.map_into_boxed_body());
    }
    let encoded_already = headers.contains_key(header::CONTENT_ENCODING);
    let mut res = res;
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    if !gzip || encoded_already || head {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(b) => b,
        // A streamed body (a download being written) goes out as it is.
        Err(body) => {
            return Ok(ServiceResponse::new(
                req,
                res.set_body(body).map_into_boxed_body(),
            ));
        }
    };
    if bytes.len() < MIN_SIZE {
        return Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))));
    }
    let out = gzip_fast(&bytes);
    if out.len() >= bytes.len() {
        return Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))));
    }
    let h = res.headers_mut();
    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    h.remove(header::CONTENT_LENGTH);
    Ok(ServiceResponse::new(
        req,
        res.set_body(BoxBody::new(Bytes::from(out))),
    ))
}

/// The static files (`Views::statics`), each encoded once when the server
/// starts: immutable, so browsers cache them for a year.
pub struct Assets(std::collections::HashMap<String, std::sync::Arc<Prepared>>);

impl Assets {
    pub fn of(views: &crate::views::Views) -> Assets {
        Assets(
            views
                .statics()
                .map(|(served, f)| {
                    let cache = "public, max-age=31536000, immutable";
                    let body = Prepared::with_cache(f.content_type, cache, f.body.clone());
                    (served.to_string(), std::sync::Arc::new(body))
                })
                .collect(),
        )
    }

    /// A static file by the hashed name it is served at.
    pub fn get(&self, served: &str) -> Option<&Prepared> {
        self.0.get(served).map(|p| &**p)
    }
}

/// A body encoded once for every client, for an answer made from immutable
/// content and kept with it (`learning::content::Memo`): each request then
/// costs a lookup and a reference count, not a serialization and a
/// compression. It carries an `ETag`, so a client that has it gets a 304.
pub struct Prepared {
    content_type: &'static str,
    cache_control: &'static str,
    identity: Bytes,
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
    etag: String,
}

impl Prepared {
    /// A signed-in answer: the client checks it each time (`no-cache`) and
    /// gets a 304 when it has not changed.
    pub fn new(content_type: &'static str, body: Vec<u8>) -> Prepared {
        Prepared::with_cache(content_type, "private, no-cache", body)
    }

    pub fn with_cache(
        content_type: &'static str,
        cache_control: &'static str,
        body: Vec<u8>,
    ) -> Prepared {
        use sha2::{Digest, Sha256};
        let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..12]));
        let worth = |enc: Encoding| {
            (body.len() >= MIN_SIZE)
                .then(|| enc.encode_best(&body))
                .filter(|e| e.len() < body.len())
                .map(Bytes::from)
        };
        Prepared {
            content_type,
            cache_control,
            brotli: worth(Encoding::Brotli),
            gzip: worth(Encoding::Gzip),
            identity: Bytes::from(body),
            etag,
        }
    }

    /// The answer to `req`: 304 when it holds this version, else the body in
    /// the best encoding it takes.
    pub fn respond(&self, req: &actix_web::HttpRequest) -> actix_web::HttpResponse {
        use actix_web::HttpResponse;
        let fresh = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim() == self.etag || t.trim() == "*")
            });
        let cache = (header::CACHE_CONTROL, self.cache_control);
        if fresh {
            return HttpResponse::NotModified()
                .insert_header((header::ETAG, self.etag.clone()))
                .insert_header(cache)
                .finish();
        }
        let mut res = HttpResponse::Ok();
        res.content_type(self.content_type)
            .insert_header((header::ETAG, self.etag.clone()))
            .insert_header(cache);
        let (br, gzip) = Encoding::allowed(req.headers().get(header::ACCEPT_ENCODING));
        let chosen = (self
            .brotli
            .as_ref()
            .filter(|_| br)
            .map(|b| (Encoding::Brotli, b)))
        .or(self
            .gzip
            .as_ref()
            .filter(|_| gzip)
            .map(|b| (Encoding::Gzip, b)));
        match chosen {
            Some((enc, body)) => res
                .insert_header((header::CONTENT_ENCODING, enc.name()))
                .body(body.clone()),
            None => res.body(self.identity.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_says_what_is_allowed() {
        let h = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(
            Encoding::allowed(Some(&h("gzip, deflate, br"))),
            (true, true)
        );
        assert_eq!(
            Encoding::allowed(Some(&h("gzip;q=1.0, br;q=0"))),
            (false, true)
        );
        assert_eq!(Encoding::allowed(Some(&h("identity"))), (false, false));
        assert_eq!(Encoding::allowed(None), (false, false));
        assert_eq!(Encoding::allowed(Some(&h("*"))), (false, true));
        assert_eq!(Encoding::allowed(Some(&h("br"))), (true, false));
    }

    #[test]
    fn both_encodings_round_trip() {
        use std::io::Read;
        let page = "<p>扶贫先扶智 — lift the skills first.</p>\n".repeat(100);
        let br = Encoding::Brotli.encode_best(page.as_bytes());
        let mut back = String::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, page);
        for gz in [
            Encoding::Gzip.encode_best(page.as_bytes()),
            gzip_fast(page.as_bytes()),
        ] {
            let mut back = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut back)
                .unwrap();
            assert_eq!(back, page);
            assert!(gz.len() < page.len() / 5);
        }
        // The state a thread keeps is reset between bodies.
        let other = "另一页 another page ".repeat(50);
        let gz = gzip_fast(other.as_bytes());
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, other);
        assert!(br.len() < page.len() / 10);
    }
}
