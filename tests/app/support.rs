//! Real peers for tests: an SMTP server (Debian's aiosmtpd, writing a Maildir)
//! and headless Chromium driven through chromedriver.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (polling a connect, not sleeping a fixed time) until a port accepts.
pub async fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("nothing listens on port {port}");
}

/// An SMTP server that stores every message it accepts in a Maildir.
pub struct Smtp {
    pub port: u16,
    pub maildir: PathBuf,
    child: Option<Child>,
}

fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

impl Smtp {
    /// A server on a new port, not yet started.
    pub fn new(dir: &Path) -> Smtp {
        Smtp {
            port: free_port(),
            maildir: dir.join("maildir"),
            child: None,
        }
    }

    pub async fn start(&mut self) {
        let child = Command::new(python())
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd (apt-get install python3-aiosmtpd)");
        self.child = Some(child);
        wait_for_port(self.port).await;
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The raw messages received so far.
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(self.maildir.join("new")) {
            for e in rd.flatten() {
                out.push(std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        out
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Decodes the text/plain part of a received message (quoted-printable or base64).
pub fn text_part(raw: &str) -> String {
    let parts: Vec<&str> = raw.split("Content-Type: ").collect();
    for p in parts {
        if p.starts_with("text/plain") {
            let body = p
                .split("\r\n\r\n")
                .nth(1)
                .or_else(|| p.split("\n\n").nth(1))
                .unwrap_or_default();
            let body = body.split("\n--").next().unwrap_or_default();
            if p.contains("Content-Transfer-Encoding: base64") {
                use base64::Engine;
                let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                return String::from_utf8_lossy(
                    &base64::engine::general_purpose::STANDARD
                        .decode(clean)
                        .unwrap_or_default(),
                )
                .into_owned();
            }
            if p.contains("quoted-printable") {
                return decode_qp(body);
            }
            return body.to_string();
        }
    }
    String::new()
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Headless Chromium behind its own chromedriver.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start(javascript: bool) -> Browser {
        Browser::start_with(javascript, &[]).await
    }

    /// A browser with more Chromium flags (a `--window-size` replaces the
    /// phone size used otherwise).
    pub async fn start_with(javascript: bool, extra: &[String]) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver (apt-get install chromium-driver)");
        wait_for_port(port).await;
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-quic".into(),
            "--window-size=412,915".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false".into());
        }
        if extra.iter().any(|a| a.starts_with("--window-size=")) {
            args.retain(|a| !a.starts_with("--window-size="));
        }
        args.extend(extra.iter().cloned());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({"binary": "/usr/bin/chromium", "args": args}),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = fantoccini::ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("connect to chromedriver");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("goto");
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self
            .client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"));
        e.clear().await.ok();
        e.send_keys(value).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"))
            .click()
            .await
            .expect("click");
    }

    /// The page's text; "" while a navigation has no body yet (waits retry).
    pub async fn text(&self) -> String {
        match self.client.find(fantoccini::Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Waits until the page has left the sign-in page (whichever start page
    /// the role lands on).
    pub async fn wait_signed_in(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let u = self.url().await;
            if !u.contains("/login") {
                return u;
            }
            assert!(Instant::now() < deadline, "still signing in at {u}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the page's address contains `part` (a navigation
    /// finished); `"/"` waits for the home page itself.
    pub async fn wait_url(&self, part: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let u = self.url().await;
            // "/" is the home page itself, not any URL (every URL holds a
            // slash: the login page would match before its form is sent).
            let path = url::Url::parse(&u).map(|x| x.path().to_string());
            let here = match part {
                "/" => path.is_ok_and(|p| p == "/"),
                _ => u.contains(part),
            };
            if here {
                return u;
            }
            assert!(
                Instant::now() < deadline,
                "never reached a URL with {part:?}; at {u}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the page shows `needle`.
    pub async fn wait_text(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let t = self.text().await;
            if t.contains(needle) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "the page never showed {needle:?}: {t}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
