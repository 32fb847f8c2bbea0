//! fuzhi (扶智): digital-skills training for rural households, linked to the
//! poverty-registered household records officials keep.
//!
//! `Application::build` connects and migrates the database, compiles the
//! templates, binds the address (port 0 in tests) and returns; `run` serves
//! until SIGTERM or Ctrl-C, then finishes the requests in flight.

pub mod accounts;
pub mod app;
pub mod areas;
pub mod audit;
pub mod backup;
pub mod catalog;
pub mod config;
pub mod courses;
pub mod db;
pub mod demo;
pub mod entities;
pub mod error;
pub mod households;
pub mod jobs;
pub mod leader;
pub mod learning;
pub mod localize;
pub mod mail;
pub mod paging;
pub mod policy;
pub mod reports;
pub mod site;
pub mod spreadsheet;
pub mod views;
pub mod vocab;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web as aweb};

use crate::app::AppContext;
use crate::config::Settings;
use crate::views::Views;

/// How `serve` starts.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Seed demo areas, people and progress (idempotent).
    pub demo: bool,
}

pub struct Application {
    addr: SocketAddr,
    /// Held while the server runs (SQLite): `restore` refuses to replace
    /// the database under it (`backup::ServeLock`).
    _serving: Option<backup::ServeLock>,
    server: Server,
    state: aweb::Data<AppContext>,
    /// Stopped once the server has stopped (`run`).
    jobs: jobs::Jobs,
}

/// Connects to the database and brings its schema up to date: all a command
/// of the command line needs (`users create`, `areas import`, …).
pub async fn connect(settings: &Settings) -> anyhow::Result<sea_orm::DatabaseConnection> {
    catalog::files::set_root(&settings.data_dir.join("files"));
    let url = settings.database_url();
    let db = db::connect(&url, settings.pool_size()).await?;
    db::migrate_once(&db, &url, &settings.data_dir).await?;
    Ok(db)
}

/// Builds what serving needs on top of `connect`: the replica, templates,
/// the first admin, the sign-in throttle, the sessions, the event writer and
/// the site settings (no HTTP yet).
pub async fn prepare(settings: Settings) -> anyhow::Result<AppContext> {
    let secrets = settings.secrets()?;
    let db = connect(&settings).await?;
    let replica = match settings.read_database_url() {
        Some(read) => Some(
            db::connect(&read, settings.pool_size())
                .await
                .map_err(|e| anyhow::anyhow!("read_database_url: {e}"))?,
        ),
        None => None,
    };
    let views = Arc::new(Views::load(settings.templates_dir.as_deref())?);
    if let (Some(login), Some(pw)) = (&settings.admin_login, &settings.admin_password) {
        use secrecy::ExposeSecret;
        if accounts::users::ensure_admin(&db, login, pw.expose_secret())
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the first admin: {e}"))?
        {
            tracing::info!("created the first admin account");
        }
    }
    let limiter = accounts::limiter::Limiter::new(settings.login_window_secs);
    let sessions = accounts::sessions::Sessions::load(&db)
        .await
        .map_err(|e| anyhow::anyhow!("sessions: {e}"))?;
    let events = learning::writer::Writer::spawn(db.clone());
    let site = site::Cache::default();
    site.reload(&db, &settings.site)
        .await
        .map_err(|e| anyhow::anyhow!("site settings: {e}"))?;
    Ok(AppContext {
        events,
        sessions,
        db,
        replica,
        settings,
        secrets,
        views,
        limiter,
        content: Default::default(),
        budgets: Default::default(),
        site,
    })
}

/// `serve` imports its course folder (`courses_dir`) when it starts, under
/// the start-up rule of `catalog::store::import_course`: never over a
/// version published later by other means. A bad course file is reported,
/// but does not stop the server. Other commands do not import it.
async fn import_on_start(
    db: &sea_orm::DatabaseConnection,
    settings: &Settings,
) -> anyhow::Result<()> {
    if let Some(dir) = settings
        .courses_dir
        .as_deref()
        .filter(|d| d.join("skills.toml").exists())
    {
        // A bad course file is reported, but does not stop the server.
        match catalog::store::import_dir(db, dir, catalog::store::Origin::Startup).await {
            Ok(r) => {
                let changed = r
                    .courses
                    .iter()
                    .filter(|(_, o)| matches!(o, catalog::store::Outcome::Published { .. }))
                    .count();
                for (slug, o) in &r.courses {
                    if let catalog::store::Outcome::Kept { version, origin } = o {
                        tracing::warn!(
                            "course {slug}: the folder's files differ from version {version} \
                             (from {origin}), which stays published; to publish the files, \
                             run `fuzhi courses import {}`",
                            dir.display()
                        );
                    }
                }
                tracing::info!(
                    courses = r.courses.len(),
                    changed,
                    "courses imported from {}",
                    dir.display()
                );
            }
            Err(error::AppError::Import { errors, .. }) => {
                for e in errors {
                    tracing::error!("course problem: {}", e.message);
                }
            }
            Err(e) => return Err(anyhow::anyhow!("course import: {e}")),
        }
    }
    Ok(())
}

impl Application {
    pub async fn build(settings: Settings, opts: StartOptions) -> anyhow::Result<Application> {
        let addr = settings.addr.clone();
        let listener = std::net::TcpListener::bind(&addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr()?;
        let mut settings = settings;
        if settings.base_url.is_none() {
            settings.base_url = Some(format!("http://{bound}"));
        }
        let serving = backup::ServeLock::take(&settings.database_url())?;
        let state = aweb::Data::new(prepare(settings).await?);
        import_on_start(&state.db, &state.settings).await?;
        if opts.demo {
            demo::seed(&state)
                .await
                .map_err(|e| anyhow::anyhow!("demo data: {e}"))?;
        }
        // Videos a stopped server was making: made now, or marked failed.
        catalog::videos::resume(&state.db)
            .await
            .map_err(|e| anyhow::anyhow!("video jobs: {e}"))?;
        let jobs = jobs::Jobs::start(state.clone().into_inner())?;
        tracing::info!(jobs = ?jobs.names(), "background jobs started");
        let data = state.clone();
        let limits = aweb::Data::new(web::limits::Limits::new(&state.settings));
        let assets = aweb::Data::new(web::compress::Assets::of(&state.views));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(limits.clone())
                .app_data(assets.clone())
                .app_data(
                    aweb::JsonConfig::default()
                        .limit(4 << 20)
                        .error_handler(|err, _| web::errors::json_error(err).into()),
                )
                .app_data(
                    aweb::FormConfig::default()
                        .limit(1 << 20)
                        .error_handler(|err, _| web::errors::form_error(err).into()),
                )
                .app_data(aweb::QueryConfig::default().error_handler(|err, _| {
                    error::AppError::BadRequest(format!("invalid query: {err}")).into()
                }))
                .app_data(
                    aweb::PathConfig::default()
                        .error_handler(|_, _| error::AppError::NotFound.into()),
                )
                .configure(web::routes::configure)
                .wrap(from_fn(web::csrf::csrf))
                .wrap(from_fn(web::error_pages::html_errors))
                .wrap(from_fn(web::middleware::security_headers))
                .wrap(from_fn(web::compress::compress))
                .wrap(from_fn(web::middleware::request_id))
                .wrap(from_fn(web::limits::limit))
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        tracing::info!(addr = %bound, "fuzhi is listening");
        Ok(Application {
            _serving: serving,
            addr: bound,
            server,
            state,
            jobs,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> aweb::Data<AppContext> {
        self.state.clone()
    }

    /// Serves until SIGTERM or Ctrl-C (actix-web handles both, gracefully),
    /// then stops the background jobs and waits for them.
    pub async fn run(self) -> std::io::Result<()> {
        let _serving = self._serving;
        let served = self.server.await;
        self.jobs.stop().await;
        served
    }
}
