#![allow(dead_code)]
//! The test harness: every test gets its own app on port 0 and its own fresh
//! database. SQLite always; PostgreSQL and MariaDB too when
//! `FUZHI_TEST_POSTGRES_URL` / `FUZHI_TEST_MYSQL_URL` are set (a server URL;
//! a database is created per test and dropped after it).

use std::path::{Path, PathBuf};

use actix_web::web::Data;
use fuzhi::app::AppContext;
use fuzhi::config::Settings;
use fuzhi::{Application, StartOptions};
use sea_orm::{ConnectionTrait, Database};

pub mod binary;
mod requests;

pub use binary::{Serve, Served};
pub use requests::{NO_FORM, id_number, id_number_born, raw_client};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    MySql,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
            Engine::MySql => "mysql",
        }
    }

    /// Whether `FUZHI_TEST_ENGINES` (a comma list; all when unset) asks for
    /// it. SQLite needs no server and always runs.
    pub fn asked_for(self) -> bool {
        self == Engine::Sqlite
            || std::env::var("FUZHI_TEST_ENGINES")
                .map(|v| v.split(',').any(|e| e.trim() == self.name()))
                .unwrap_or(true)
    }

    pub fn server_url(self) -> Option<String> {
        if !self.asked_for() {
            return None;
        }
        let var = match self {
            Engine::Sqlite => return Some(String::new()),
            Engine::Postgres => "FUZHI_TEST_POSTGRES_URL",
            Engine::MySql => "FUZHI_TEST_MYSQL_URL",
        };
        std::env::var(var).ok().filter(|s| !s.is_empty())
    }
}

/// Notes that a test ran on an engine or was skipped there, for the summary of
/// the README's test command (`FUZHI_TEST_REPORT_DIR`); a skip is also said on
/// stderr, so it never passes silently.
fn report_engine(engine: Engine, ran: bool) {
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main" && !n.starts_with("tokio"))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if !ran {
        eprintln!("SKIPPED on {}: {test}", engine.name());
    }
    if let Ok(dir) = std::env::var("FUZHI_TEST_REPORT_DIR") {
        let state = if ran { "ran" } else { "skipped" };
        let file: String = test
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let _ = std::fs::write(
            std::path::Path::new(&dir).join(format!("{}.{state}.{file}", engine.name())),
            &test,
        );
    }
}

/// A fresh, empty database of one engine; dropped by `drop_db`.
pub struct TestDb {
    pub engine: Engine,
    pub url: String,
    name: String,
    server: String,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn create(engine: Engine) -> Option<TestDb> {
        let Some(server) = engine.server_url() else {
            report_engine(engine, false);
            return None;
        };
        report_engine(engine, true);
        // One file store for the whole test process (a process has one; its
        // files are named by their content, so tests share it safely).
        fuzhi::catalog::files::set_root(&std::env::temp_dir().join("fuzhi-test-files"));
        let dir = tempfile::tempdir().expect("temp dir");
        let name = format!("fuzhi_t_{}", uuid::Uuid::new_v4().simple());
        let url = match engine {
            Engine::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
            Engine::Postgres | Engine::MySql => {
                let admin = Database::connect(&server)
                    .await
                    .expect("connect to test server");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                replace_db_name(&server, &name)
            }
        };
        Some(TestDb {
            engine,
            url,
            name,
            server,
            dir,
        })
    }

    /// The database's name on its server (PostgreSQL, MariaDB).
    pub fn db_name(&self) -> &str {
        &self.name
    }

    /// The URL of the server's admin database.
    pub fn server(&self) -> &str {
        &self.server
    }

    pub async fn drop_db(self) {
        if self.engine != Engine::Sqlite
            && let Ok(admin) = Database::connect(&self.server).await
        {
            let sql = match self.engine {
                Engine::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                _ => format!("DROP DATABASE IF EXISTS {}", self.name),
            };
            let _ = admin.execute_unprepared(&sql).await;
            let _ = admin.close().await;
        }
    }

    pub fn settings(&self) -> Settings {
        Settings {
            database_url: Some(self.url.clone()),
            data_dir: self.dir.path().join("data"),
            addr: "127.0.0.1:0".into(),
            jwt_secret: Some(
                "test-jwt-secret-0123456789abcdef0123456789"
                    .to_string()
                    .into(),
            ),
            id_hmac_key: Some(
                "test-hmac-key-0123456789abcdef0123456789ab"
                    .to_string()
                    .into(),
            ),
            courses_dir: None,
            db_max_connections: 4,
            report_refresh_secs: 0,
            // A page's own view is committed before it is answered (the
            // tests read what a page recorded right after it).
            page_view_wait_ms: 60_000,
            mail: fuzhi::config::MailSettings {
                worker: false,
                ..Default::default()
            },
            ..Settings::default()
        }
    }
}

fn replace_db_name(server: &str, name: &str) -> String {
    let mut u = url::Url::parse(server).expect("server URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

/// Another app on the database of a `TestApp` (dropped with it).
pub struct Sibling {
    pub addr: String,
    pub state: Data<AppContext>,
    pub client: reqwest::Client,
}

impl Sibling {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }
}

pub struct TestApp {
    pub addr: String,
    pub state: Data<AppContext>,
    pub client: reqwest::Client,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        Self::spawn_with(engine, |_| {}).await
    }

    pub async fn spawn_with(engine: Engine, tweak: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        init_log();
        let db = TestDb::create(engine).await?;
        let mut settings = db.settings();
        tweak(&mut settings);
        let app = Application::build(settings, StartOptions::default())
            .await
            .expect("build app");
        let addr = format!("http://{}", app.addr());
        let state = app.state();
        tokio::spawn(app.run());
        Some(TestApp {
            addr,
            state,
            client: client(),
            db,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }

    /// A second app process on the same database (as a second `serve`
    /// behind a load balancer would be), with its own memory.
    pub async fn sibling(&self) -> Sibling {
        let settings = self.db.settings();
        let app = Application::build(settings, StartOptions::default())
            .await
            .expect("build sibling app");
        let addr = format!("http://{}", app.addr());
        let state = app.state();
        tokio::spawn(app.run());
        Sibling {
            addr,
            state,
            client: client(),
        }
    }

    pub fn conn(&self) -> &sea_orm::DatabaseConnection {
        &self.state.db
    }

    pub async fn finish(self) {
        self.db.drop_db().await;
    }
}

/// A client that keeps cookies and does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs one test body on every engine that is configured:
/// `engine_test!(name);` expects `async fn name(app: TestApp)` and makes
/// `name::sqlite`, `name::postgres` and `name::mysql` (PostgreSQL and MariaDB
/// run when `FUZHI_TEST_POSTGRES_URL` / `FUZHI_TEST_MYSQL_URL` are set).
///
/// - `engine_test!(name, settings = tweak);` starts the app with
///   `fn tweak(&mut Settings)` (a function of the calling file) applied;
/// - `engine_test!(name, on = [postgres, mysql]);` makes only the engines
///   named (either option, or both in this order).
#[macro_export]
macro_rules! engine_test {
    ($name:ident) => {
        $crate::engine_test!(@make $name, |_| {}, [sqlite, postgres, mysql]);
    };
    ($name:ident, settings = $tweak:ident) => {
        $crate::engine_test!(@make $name, super::$tweak, [sqlite, postgres, mysql]);
    };
    ($name:ident, on = [$($engine:ident),+]) => {
        $crate::engine_test!(@make $name, |_| {}, [$($engine),+]);
    };
    ($name:ident, settings = $tweak:ident, on = [$($engine:ident),+]) => {
        $crate::engine_test!(@make $name, super::$tweak, [$($engine),+]);
    };
    (@make $name:ident, $tweak:expr, [$($engine:ident),+]) => {
        mod $name {
            use $crate::helpers::{Engine, TestApp};
            async fn run(engine: Engine) {
                let Some(app) = TestApp::spawn_with(engine, $tweak).await else {
                    return;
                };
                let db = app.db.url.clone();
                let handle = tokio::spawn(super::$name(app));
                let result = handle.await;
                $crate::helpers::drop_by_url(engine, &db).await;
                if let Err(e) = result {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
            $($crate::engine_test!(@engine $engine);)+
        }
    };
    (@engine sqlite) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sqlite() {
            run(Engine::Sqlite).await
        }
    };
    (@engine postgres) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            run(Engine::Postgres).await
        }
    };
    (@engine mysql) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn mysql() {
            run(Engine::MySql).await
        }
    };
}

/// Drops the per-test database named in `url` (used when the `TestApp` moved away).
pub async fn drop_by_url(engine: Engine, url: &str) {
    if engine == Engine::Sqlite {
        return;
    }
    let Some(server) = engine.server_url() else {
        return;
    };
    let name = url::Url::parse(url)
        .ok()
        .map(|u| u.path().trim_start_matches('/').to_string())
        .unwrap_or_default();
    if !name.starts_with("fuzhi_t_") {
        return;
    }
    if let Ok(admin) = Database::connect(&server).await {
        let sql = match engine {
            Engine::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            _ => format!("DROP DATABASE IF EXISTS {name}"),
        };
        let _ = admin.execute_unprepared(&sql).await;
        let _ = admin.close().await;
    }
}

/// Everything logged by the app under test, for tests that check what is
/// (not) written to the log. One subscriber for the whole test binary.
pub fn captured_log() -> String {
    let buf = log_buffer();
    let b = buf.lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&b).into_owned()
}

fn log_buffer() -> &'static std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static BUF: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
        std::sync::OnceLock::new();
    BUF.get_or_init(|| {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let w = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || LogWriter(w.clone()))
            .try_init();
        buf
    })
}

pub fn init_log() {
    let _ = log_buffer();
}

struct LogWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
impl std::io::Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The people of an access test: one of each role inside township A
/// (泼机镇 530627102000), and targets inside and outside it.
pub struct People {
    pub admin: i64,
    pub official: i64,
    pub trainer: i64,
    pub learner: i64,
    /// A learner in a village of township A.
    pub learner_in: i64,
    /// A learner in a village of township B (黑树镇).
    pub learner_out: i64,
}

pub const TOWNSHIP_A: &str = "530627102000";
pub const VILLAGE_A: &str = "530627102001";
pub const VILLAGE_A2: &str = "530627102002";
pub const VILLAGE_B: &str = "530627103001";
pub const PASSWORD: &str = "correct-horse-42";

impl TestApp {
    pub async fn seed_areas(&self) {
        fuzhi::areas::import_csv(self.conn(), fuzhi::demo::AREAS.as_bytes())
            .await
            .expect("areas");
    }

    pub async fn user(&self, login: &str, role: &str, area: Option<&str>) -> i64 {
        fuzhi::accounts::users::create(
            self.conn(),
            None,
            &fuzhi::accounts::users::NewUser {
                login: login.into(),
                display_name: format!("{role} {login}"),
                password: PASSWORD.into(),
                role: role.into(),
                area_code: area.map(str::to_string),
                ..Default::default()
            },
        )
        .await
        .expect("create user")
        .id
    }

    pub async fn people(&self) -> People {
        self.seed_areas().await;
        People {
            admin: self.user("admin1", "admin", None).await,
            official: self.user("official1", "official", Some(TOWNSHIP_A)).await,
            trainer: self.user("trainer1", "trainer", Some(TOWNSHIP_A)).await,
            learner: self.user("13900000001", "learner", Some(VILLAGE_A)).await,
            learner_in: self.user("13900000002", "learner", Some(VILLAGE_A2)).await,
            learner_out: self.user("13900000003", "learner", Some(VILLAGE_B)).await,
        }
    }

    /// A fresh session token for a user (as if they had signed in).
    pub async fn token(&self, user_id: i64) -> String {
        let u = fuzhi::accounts::users::find(self.conn(), user_id)
            .await
            .unwrap()
            .unwrap();
        fuzhi::accounts::tokens::issue(
            &self.state.secrets.jwt,
            u.id,
            u.token_version,
            fuzhi::accounts::tokens::Purpose::Session,
            chrono::Duration::hours(1),
        )
    }

    /// Signs in through the HTML form with this client's cookies.
    pub async fn login_form(&self, login: &str, password: &str) -> reqwest::Response {
        let page = self.get("/login").await.text().await.unwrap();
        let pre = between(&page, "name=\"csrf\" value=\"", "\"").expect("csrf field");
        self.client
            .post(self.url("/login"))
            .form(&[
                ("csrf", pre.as_str()),
                ("login", login),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }
}

pub fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(s[i..j].to_string())
}

/// The shipped course packages, parsed once per test run.
pub fn shipped() -> &'static (fuzhi::courses::Skills, Vec<fuzhi::courses::LoadedCourse>) {
    static S: std::sync::OnceLock<(fuzhi::courses::Skills, Vec<fuzhi::courses::LoadedCourse>)> =
        std::sync::OnceLock::new();
    S.get_or_init(|| {
        let (skills, courses, problems) = fuzhi::courses::load_dir(&repo_path("courses"));
        assert!(
            problems.is_empty(),
            "shipped courses have problems: {problems:?}"
        );
        (skills.expect("skills.toml"), courses)
    })
}

pub const COURSE: &str = "smartphone-basics";
/// A shipped course whose first lessons carry generated Mandarin narration.
pub const NARRATED: &str = "mobile-payment";

impl TestApp {
    /// Imports the competence framework and one shipped course.
    pub async fn import_course(&self, slug: &str) {
        let (skills, courses) = shipped();
        fuzhi::catalog::store::import_skills(self.conn(), skills)
            .await
            .expect("skills");
        let c = courses
            .iter()
            .find(|c| c.course.slug == slug)
            .expect("course");
        fuzhi::catalog::store::import_course(
            self.conn(),
            &c.course,
            None,
            fuzhi::catalog::store::Origin::Import,
        )
        .await
        .expect("import");
        self.state.content.clear();
    }

    /// The slug of the first lesson of the published version of `course`.
    pub async fn first_lesson(&self, course: &str) -> String {
        self.state
            .content
            .published(self.conn(), course)
            .await
            .unwrap()
            .expect("a published course")
            .lessons[0]
            .slug
            .clone()
    }

    /// The answer key of a quiz of the published course (tests only).
    pub async fn key(
        &self,
        slug: &str,
        quiz: &str,
    ) -> std::collections::BTreeMap<String, Vec<String>> {
        let info = self
            .state
            .content
            .published(self.conn(), slug)
            .await
            .unwrap()
            .unwrap();
        info.quiz(quiz)
            .unwrap()
            .questions
            .iter()
            .map(|q| (q.qid.clone(), serde_json::from_str(&q.answer_json).unwrap()))
            .collect()
    }
}

impl TestDb {
    /// The real binary serving `db_url` (this database's, or a way to it),
    /// run from `dir` with its data in `dir/data`, with this test's keys,
    /// logging errors only (see `binary::Serve` for what more can be set).
    pub fn serve(&self, db_url: &str, dir: &Path) -> Serve {
        let mut serve = Serve::new(db_url, &dir.join("data"))
            .current_dir(dir)
            .env("FUZHI_LOG", "error");
        for (k, v) in self.key_env() {
            serve = serve.env(k, v);
        }
        serve
    }

    /// A command of the real binary (`fuzhi args`), set up as `serve` is.
    pub fn command(&self, db_url: &str, dir: &Path, args: &[&str]) -> std::process::Command {
        let mut cmd = binary::command(args);
        cmd.current_dir(dir)
            .env("DATABASE_URL", db_url)
            .env("FUZHI_DATA_DIR", dir.join("data"))
            .envs(self.key_env())
            .env("FUZHI_MAIL__WORKER", "false")
            .env("FUZHI_REPORT_REFRESH_SECS", "0")
            .env("FUZHI_LOG", "error");
        cmd
    }

    /// The test's keys as the binary reads them from its environment.
    fn key_env(&self) -> [(&'static str, String); 2] {
        use secrecy::ExposeSecret;
        let s = self.settings();
        [
            (
                "FUZHI_JWT_SECRET",
                s.jwt_secret.as_ref().unwrap().expose_secret().to_string(),
            ),
            (
                "FUZHI_ID_HMAC_KEY",
                s.id_hmac_key.as_ref().unwrap().expose_secret().to_string(),
            ),
        ]
    }
}

impl TestApp {
    /// The real binary on this app's database, run from `dir`.
    pub async fn binary(&self, dir: &Path) -> Served {
        self.db.serve(&self.db.url, dir).start().await
    }
}

impl TestApp {
    /// The proof a lesson page carries that the server served `lesson` of
    /// `course` to `user` (what a `lesson_finished` needs when the server
    /// recorded no page view).
    pub fn served(&self, user: i64, course: &str, lesson: &str) -> String {
        use secrecy::ExposeSecret;
        fuzhi::learning::events::served_proof(
            self.state.secrets.id_hmac.expose_secret().as_bytes(),
            user,
            course,
            lesson,
        )
    }
}

/// A 3-second phone-like recording (320×240 H.264, AAC, with a GPS
/// position and a date in its metadata).
pub const CLIP: &[u8] = include_bytes!("../../fixtures/video/clip.mp4");
/// The same without a sound track.
pub const SILENT_CLIP: &[u8] = include_bytes!("../../fixtures/video/silent.mp4");

/// A small PNG (a 40×30 two-colour drawing).
pub fn small_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 30, |x, _| {
        if x < 20 {
            image::Rgb([11, 107, 58])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A lesson video's three files that pass the course loader: the clip, a
/// plain JPEG poster and an Opus sound.
pub fn video_files() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let poster = image::RgbImage::from_pixel(32, 24, image::Rgb([200, 200, 200]));
    let mut jpg = Vec::new();
    poster
        .write_to(
            &mut std::io::Cursor::new(&mut jpg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    (
        CLIP.to_vec(),
        jpg,
        include_bytes!("../../fixtures/narration/tone.opus").to_vec(),
    )
}

/// A finished-with-failure video job of a course (for pages that show one).
pub async fn video_job(app: &TestApp, slug: &str, owner: i64) -> i64 {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    fuzhi::entities::video_job::ActiveModel {
        course_slug: Set(slug.to_string()),
        lesson: Set("wifi-and-data".into()),
        user_id: Set(owner),
        alt: Set("演示".into()),
        state: Set(fuzhi::entities::video_job::VideoState::Failed),
        progress: Set(0),
        error: Set(Some("author.video.no_audio".into())),
        source: Set(String::new()),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap()
    .id
}

/// Waits until every video job of the app has ended (done or failed): a
/// finished job saves into its course, so a test that edits the same course
/// next does so after it, as a trainer would after the status page.
pub async fn videos_settled(app: &TestApp) {
    use fuzhi::entities::video_job::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let running = Entity::find()
        .filter(Column::State.is_not_in([
            fuzhi::entities::video_job::VideoState::Done,
            fuzhi::entities::video_job::VideoState::Failed,
        ]))
        .all(app.conn())
        .await
        .unwrap();
    for j in running {
        fuzhi::catalog::videos::ended(app.conn(), j.id)
            .await
            .unwrap();
    }
}

/// A multipart body (its content type and bytes): text fields, then the
/// file `name` (the field `file`).
pub fn multipart(fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "fuzhiTestBoundary42";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
