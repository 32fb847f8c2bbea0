//! How answers travel: pages gzipped on the worker thread, the stylesheet and
//! a published course's JSON encoded once, with validators.

use std::io::Read;

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, between, raw_client};

fn gunzip(b: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(b)
        .read_to_string(&mut s)
        .expect("a gzip body");
    s
}

fn unbrotli(b: &[u8]) -> String {
    let mut s = String::new();
    brotli::Decompressor::new(b, 4096)
        .read_to_string(&mut s)
        .expect("a brotli body");
    s
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn pages_are_gzipped_and_the_stylesheet_is_immutable(app: TestApp) {
    let http = raw_client();
    let plain = http.get(app.url("/login")).send().await.unwrap();
    assert_eq!(header(&plain, "content-encoding"), "");
    let plain = plain.text().await.unwrap();
    let css = between(&plain, "<link rel=\"stylesheet\" href=\"", "\"").expect("a stylesheet link");
    assert!(
        css.starts_with("/static/site.") && css.ends_with(".css"),
        "{css}"
    );
    assert!(
        !plain.contains("<style>"),
        "the layout's rules moved to the stylesheet"
    );

    // A page made for this request: gzip when the client takes it.
    let r = http
        .get(app.url("/login"))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "gzip");
    assert!(header(&r, "vary").contains("accept-encoding"));
    let page = gunzip(&r.bytes().await.unwrap());
    assert!(page.contains("<form") && page.contains(&css), "{page}");
    // brotli alone is not made per request: the page goes out as it is.
    let r = http
        .get(app.url("/login"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-encoding"), "");

    // The stylesheet: encoded once, cached for a year, validated by its ETag.
    let r = http
        .get(app.url(&css))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "br");
    assert!(header(&r, "content-type").starts_with("text/css"));
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let etag = header(&r, "etag");
    let rules = unbrotli(&r.bytes().await.unwrap());
    assert!(rules.contains("body{"), "{rules}");
    let identity = http.get(app.url(&css)).send().await.unwrap();
    assert_eq!(header(&identity, "content-encoding"), "");
    assert_eq!(identity.text().await.unwrap(), rules);
    let gz = http
        .get(app.url(&css))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    assert_eq!(gunzip(&gz.bytes().await.unwrap()), rules);
    let again = http
        .get(app.url(&css))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // Another version's name is not found.
    let r = http
        .get(app.url("/static/site.000000000000.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
engine_test!(pages_are_gzipped_and_the_stylesheet_is_immutable);

async fn a_published_course_is_served_from_its_prepared_json(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let token = app.token(p.learner).await;
    let http = raw_client();
    let path = format!("/api/v1/courses/{COURSE}");
    let get = |enc: &'static str, etag: Option<String>| {
        let mut rq = http
            .get(app.url(&path))
            .bearer_auth(&token)
            .header("accept-encoding", enc);
        if let Some(e) = etag {
            rq = rq.header("if-none-match", e);
        }
        rq.send()
    };
    let plain = get("identity", None).await.unwrap();
    assert_eq!(plain.status(), 200);
    let etag = header(&plain, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    assert_eq!(header(&plain, "cache-control"), "private, no-cache");
    let plain: serde_json::Value = plain.json().await.unwrap();
    assert_eq!(plain["slug"], COURSE);
    assert!(!plain["lessons"].as_array().unwrap().is_empty());

    let br = get("gzip, br", None).await.unwrap();
    assert_eq!(header(&br, "content-encoding"), "br");
    assert_eq!(header(&br, "etag"), etag);
    let decoded: serde_json::Value =
        serde_json::from_str(&unbrotli(&br.bytes().await.unwrap())).unwrap();
    assert_eq!(decoded, plain);
    let gz = get("gzip", None).await.unwrap();
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    let decoded: serde_json::Value =
        serde_json::from_str(&gunzip(&gz.bytes().await.unwrap())).unwrap();
    assert_eq!(decoded, plain);

    // The client that has it gets a 304, without the body.
    let again = get("gzip, br", Some(etag.clone())).await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    // Each language is its own answer.
    let en = http
        .get(app.url(&format!("{path}?lang=en")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(en.status(), 200);
    assert_ne!(header(&en, "etag"), etag);

    // Unknown courses stay 404, and anonymous callers 401.
    let (status, _) = app.get_json("/api/v1/courses/no-such-course", &token).await;
    assert_eq!(status, 404);
    let anon = http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(anon.status(), 401);
}
engine_test!(a_published_course_is_served_from_its_prepared_json);
