//! Typed settings: defaults, then an optional TOML file (`fuzhi.toml` or
//! `FUZHI_CONFIG`), then `FUZHI_*` environment variables, then `DATABASE_URL`.
//! Secrets are `SecretString`: they print as `[REDACTED]` and are never logged.
//! When the JWT key or the ID-number HMAC key is not given, one is generated
//! once into the data folder (mode 0600) and read back on later starts.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://…`, `postgres://…` or `mysql://…`. Default: `./data/fuzhi.db`.
    pub database_url: Option<String>,
    /// A PostgreSQL streaming replica of `database_url` for reads that may
    /// lag a little (dashboards, report exports); every write and every read
    /// of what a person just wrote goes to `database_url`. Unset: everything
    /// reads the primary.
    pub read_database_url: Option<String>,
    pub data_dir: PathBuf,
    pub addr: String,
    /// The address people reach the server at, for links in mails and QR codes.
    pub base_url: Option<String>,
    pub jwt_secret: Option<SecretString>,
    pub id_hmac_key: Option<SecretString>,
    pub staff_token_hours: i64,
    pub learner_token_days: i64,
    /// The course folder imported when `serve` starts; empty to skip.
    pub courses_dir: Option<PathBuf>,
    /// Read templates from this folder instead of the embedded copies (development).
    pub templates_dir: Option<PathBuf>,
    /// Send `Secure` cookies. Unset: yes when `base_url` is https.
    pub secure_cookies: Option<bool>,
    /// Connection pool size; 0 sizes it from the cores (`pool_size`).
    pub db_max_connections: u32,
    pub admin_login: Option<String>,
    pub admin_password: Option<SecretString>,
    pub mail: MailSettings,
    /// Wrong passwords (PINs) allowed for one login from one client address
    /// in one window; past it that pair is locked for the window, and twice as
    /// long at each lockout after that (up to a day).
    pub login_max_failures: u32,
    pub login_max_failures_pin: u32,
    /// Wrong sign-ins allowed from one client address, whatever the logins.
    pub login_max_failures_per_address: u32,
    pub login_window_secs: u64,
    /// Reverse proxies (IP addresses or CIDR ranges) whose `X-Forwarded-For`
    /// names the client. Empty (the default): the peer address is the client
    /// and the header is ignored, since anyone can send it.
    pub trusted_proxies: Vec<String>,
    /// Requests one client address may have in progress at once; past it a
    /// request is answered 429 at once and its connection closed, so one
    /// address cannot hold every connection (a village behind one NAT stays
    /// well under it: 30 phones, a few requests each).
    pub max_requests_per_client: usize,
    /// The longest pause, in seconds, while a request body arrives; past it
    /// the request is answered 408 and its connection closed.
    pub body_idle_secs: u64,
    /// The longest a whole request body may take to arrive, in seconds.
    pub body_timeout_secs: u64,
    /// Learning events one learner may send through the API in 24 hours,
    /// and their payload bytes (pages the server records itself do not
    /// count); past either the batch is refused 429.
    pub events_per_learner_per_day: i64,
    pub event_bytes_per_learner_per_day: i64,
    /// How often `serve` refreshes the report rollup, in seconds (0: never;
    /// tests call `reports::rollup::run_once` themselves).
    pub report_refresh_secs: u64,
    /// How long a lesson page waits, at most, for the commit of the
    /// `lesson_opened` it records, in milliseconds; past it the page is sent
    /// and the event commits with its batch. 0 (the default): the page never
    /// waits for it.
    pub page_view_wait_ms: u64,
    /// The offset from UTC of the times pages show, in minutes: 480, China
    /// Standard Time (Asia/Shanghai keeps +8 h all year, with no daylight
    /// saving, so an offset is the whole rule).
    pub utc_offset_minutes: i32,
    /// The organiser, address, contact and ICP number shown on every page
    /// until an admin sets them on `/admin/settings` (empty by default).
    pub site: crate::site::SiteSettings,
}

/// Where mail goes (`mail.transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum MailTransport {
    /// `file`: `.eml` files under `data/mail/` (the default).
    File,
    /// `smtp`: an SMTP server (`smtp_host`, `smtp_port`, `smtp_tls`, …).
    Smtp,
}

impl TryFrom<String> for MailTransport {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "file" => Ok(MailTransport::File),
            "smtp" => Ok(MailTransport::Smtp),
            other => Err(format!(
                "mail.transport must be \"file\" or \"smtp\", not {other:?}"
            )),
        }
    }
}

/// How the SMTP connection is secured (`mail.smtp_tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum SmtpTls {
    /// `none`: plain SMTP (a relay on the same machine or network).
    None,
    /// `starttls`: plain, then upgraded with STARTTLS (port 587).
    StartTls,
    /// `tls`: TLS from the start (port 465).
    Tls,
}

impl TryFrom<String> for SmtpTls {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            other => Err(format!(
                "mail.smtp_tls must be \"none\", \"starttls\" or \"tls\", not {other:?}"
            )),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    /// `file` (default: `./data/mail/*.eml`) or `smtp`.
    pub transport: MailTransport,
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub smtp_tls: SmtpTls,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<SecretString>,
    pub max_attempts: i32,
    /// Poll interval of the outbox worker, in milliseconds.
    pub poll_ms: u64,
    /// Run the outbox worker inside `serve` (tests drive it step by step).
    pub worker: bool,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            transport: MailTransport::File,
            from: "fuzhi <noreply@fuzhi.local>".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_tls: SmtpTls::None,
            smtp_user: None,
            smtp_password: None,
            max_attempts: 8,
            poll_ms: 2000,
            worker: true,
        }
    }
}

impl Settings {
    /// `t` as people here read it: a local time with its offset shown,
    /// `2026-12-03 16:38 (UTC+08:00)`.
    pub fn local_time(&self, t: chrono::DateTime<chrono::Utc>) -> String {
        let offset = chrono::FixedOffset::east_opt(self.utc_offset_minutes.clamp(-1439, 1439) * 60)
            .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("UTC"));
        t.with_timezone(&offset)
            .format("%Y-%m-%d %H:%M (UTC%:z)")
            .to_string()
    }

    /// The day of `t` (local time) as people write it: `2026年12月7日` in
    /// Chinese, `7 December 2026` in English.
    pub fn local_date(&self, t: chrono::DateTime<chrono::Utc>, lang: &str) -> String {
        let offset = chrono::FixedOffset::east_opt(self.utc_offset_minutes.clamp(-1439, 1439) * 60)
            .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("UTC"));
        let d = t.with_timezone(&offset);
        if lang == "en" {
            d.format("%-d %B %Y").to_string()
        } else {
            d.format("%Y年%-m月%-d日").to_string()
        }
    }

    /// `t` in the deployment's time zone as a person reads it, to the minute:
    /// `2026年12月7日 15:55` (Chinese), `7 Dec 2026 15:55` (English).
    pub fn local_time_words(&self, t: chrono::DateTime<chrono::Utc>, lang: &str) -> String {
        let offset = chrono::FixedOffset::east_opt(self.utc_offset_minutes.clamp(-1439, 1439) * 60)
            .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("UTC"));
        let local = t.with_timezone(&offset);
        if lang.starts_with("en") {
            local.format("%-d %b %Y %H:%M").to_string()
        } else {
            local.format("%Y年%-m月%-d日 %H:%M").to_string()
        }
    }

    /// The pool size: the setting, or twice the cores plus two (each worker
    /// thread's reads, the event writer and the background jobs), at least 4.
    pub fn pool_size(&self) -> u32 {
        if self.db_max_connections > 0 {
            return self.db_max_connections;
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
        (cores * 2 + 2).max(4)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: None,
            read_database_url: None,
            data_dir: PathBuf::from("./data"),
            addr: "127.0.0.1:8080".into(),
            base_url: None,
            jwt_secret: None,
            id_hmac_key: None,
            staff_token_hours: 12,
            learner_token_days: 30,
            courses_dir: Some(PathBuf::from("./courses")),
            templates_dir: None,
            secure_cookies: None,
            db_max_connections: 0,
            admin_login: None,
            admin_password: None,
            mail: MailSettings::default(),
            login_max_failures: 10,
            login_max_failures_pin: 5,
            login_max_failures_per_address: 50,
            login_window_secs: 900,
            trusted_proxies: Vec::new(),
            max_requests_per_client: 256,
            body_idle_secs: 15,
            body_timeout_secs: 300,
            events_per_learner_per_day: 2000,
            event_bytes_per_learner_per_day: 1 << 20,
            report_refresh_secs: 60,
            page_view_wait_ms: 0,
            utc_offset_minutes: 480,
            site: Default::default(),
        }
    }
}

/// Secrets resolved at start-up.
#[derive(Clone)]
pub struct Secrets {
    pub jwt: SecretString,
    pub id_hmac: SecretString,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets([REDACTED])")
    }
}

impl Settings {
    /// Loads settings from the optional file and the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut fig = Figment::new();
        let path = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("FUZHI_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("fuzhi.toml"));
        if path.exists() {
            fig = fig.merge(Toml::file(&path));
        } else if file.is_some() {
            anyhow::bail!("configuration file {} does not exist", path.display());
        }
        fig = fig.merge(Env::prefixed("FUZHI_").split("__")).merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .map(|_| "database_url".into()),
        );
        let mut settings: Settings = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        if let Ok(cwd) = std::env::current_dir() {
            settings.anchor_in_checkout(&cwd);
        }
        Ok(settings)
    }

    /// Started from a folder inside a checkout (`cargo run` in `src/`, say),
    /// the default `./data` and `./courses` mean the checkout's own, not new
    /// folders beside the working directory. Paths set on purpose stay.
    pub fn anchor_in_checkout(&mut self, cwd: &Path) {
        if cwd.join("courses/skills.toml").exists() {
            return;
        }
        let Some(root) = cwd
            .ancestors()
            .skip(1)
            .find(|d| d.join("Cargo.toml").exists() && d.join("courses/skills.toml").exists())
        else {
            return;
        };
        if self.data_dir == Path::new("./data") {
            self.data_dir = root.join("data");
        }
        if self.courses_dir.as_deref() == Some(Path::new("./courses")) {
            self.courses_dir = Some(root.join("courses"));
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) if !u.trim().is_empty() => u.trim().to_string(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("fuzhi.db").display()
            ),
        }
    }

    /// The replica URL, when one is set.
    pub fn read_database_url(&self) -> Option<String> {
        self.read_database_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
    }

    pub fn base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr))
            .trim_end_matches('/')
            .to_string()
    }

    /// Whether people reach the server over HTTPS (`base_url` says so).
    pub fn is_https(&self) -> bool {
        self.base_url
            .as_deref()
            .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"))
    }

    /// `Secure` on cookies: as set, else when served over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| self.is_https())
    }

    /// The given secrets, or ones generated once into the data folder.
    pub fn secrets(&self) -> anyhow::Result<Secrets> {
        Ok(Secrets {
            jwt: self.secret_or_file(&self.jwt_secret, "jwt.key")?,
            id_hmac: self.secret_or_file(&self.id_hmac_key, "id-hmac.key")?,
        })
    }

    fn secret_or_file(
        &self,
        given: &Option<SecretString>,
        name: &str,
    ) -> anyhow::Result<SecretString> {
        if let Some(s) = given
            && !s.expose_secret().is_empty()
        {
            return Ok(s.clone());
        }
        let path = self.data_dir.join(name);
        if let Ok(s) = std::fs::read_to_string(&path) {
            let s = s.trim().to_string();
            if s.len() >= 32 {
                return Ok(SecretString::from(s));
            }
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            anyhow::anyhow!("cannot create data folder {}: {e}", self.data_dir.display())
        })?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let s = hex::encode(bytes);
        write_private(&path, &s)
            .map_err(|e| anyhow::anyhow!("cannot write secret {}: {e}", path.display()))?;
        Ok(SecretString::from(s))
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(text: &str) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzhi.toml");
        std::fs::write(&path, text).unwrap();
        Settings::load(Some(&path))
    }

    #[test]
    fn mail_switches_are_read_by_their_names() {
        let s = load_toml("[mail]\ntransport = \"smtp\"\nsmtp_tls = \"starttls\"\n").unwrap();
        assert_eq!(s.mail.transport, MailTransport::Smtp);
        assert_eq!(s.mail.smtp_tls, SmtpTls::StartTls);
        let s = load_toml("[mail]\ntransport = \"file\"\nsmtp_tls = \"tls\"\n").unwrap();
        assert_eq!(s.mail.transport, MailTransport::File);
        assert_eq!(s.mail.smtp_tls, SmtpTls::Tls);
        let s = load_toml("").unwrap();
        assert_eq!(s.mail.transport, MailTransport::File);
        assert_eq!(s.mail.smtp_tls, SmtpTls::None);
    }

    #[test]
    fn a_bad_mail_switch_is_refused_when_the_settings_are_loaded() {
        let e = load_toml("[mail]\ntransport = \"smtps\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(r#"mail.transport must be "file" or "smtp", not "smtps""#),
            "{e}"
        );
        let e = load_toml("[mail]\ntransport = \"smtp\"\nsmtp_tls = \"ssl\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(r#"mail.smtp_tls must be "none", "starttls" or "tls", not "ssl""#),
            "{e}"
        );
    }

    #[test]
    fn defaults_anchor_in_the_checkout_from_a_subfolder() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("Cargo.toml"), "[package]").unwrap();
        std::fs::create_dir_all(root.path().join("courses")).unwrap();
        std::fs::write(root.path().join("courses/skills.toml"), "").unwrap();
        let sub = root.path().join("src/web");
        std::fs::create_dir_all(&sub).unwrap();

        let mut s = Settings::default();
        s.anchor_in_checkout(&sub);
        assert_eq!(s.data_dir, root.path().join("data"));
        assert_eq!(s.courses_dir, Some(root.path().join("courses")));

        // At the root itself, and for paths set on purpose, nothing moves.
        let mut at_root = Settings::default();
        at_root.anchor_in_checkout(root.path());
        assert_eq!(at_root.data_dir, PathBuf::from("./data"));
        let mut chosen = Settings {
            data_dir: PathBuf::from("/var/lib/fuzhi"),
            courses_dir: None,
            ..Settings::default()
        };
        chosen.anchor_in_checkout(&sub);
        assert_eq!(chosen.data_dir, PathBuf::from("/var/lib/fuzhi"));
        assert_eq!(chosen.courses_dir, None);

        // Outside any checkout the defaults stay relative.
        let elsewhere = tempfile::tempdir().unwrap();
        let mut s = Settings::default();
        s.anchor_in_checkout(elsewhere.path());
        assert_eq!(s.courses_dir, Some(PathBuf::from("./courses")));
    }
}
