//! The application's context: what every domain service may reach (the
//! database, settings and secrets, templates for pages and mail, the sign-in
//! throttle, the published-content cache). It knows nothing of HTTP: `web/`
//! wraps it in `web::Data`, jobs and commands take it by reference.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::accounts::limiter::Limiter;
use crate::config::{Secrets, Settings};
use crate::views::Views;

/// Shared by every handler (`web::Data<AppContext>`), job and command.
pub struct AppContext {
    pub db: DatabaseConnection,
    /// The read replica (`read_database_url`), if any: use `reads()`.
    pub replica: Option<DatabaseConnection>,
    pub settings: Settings,
    pub secrets: Secrets,
    pub views: Arc<Views>,
    /// What can end a session, held in memory (see `accounts::sessions`).
    pub sessions: crate::accounts::sessions::Sessions,
    /// Sign-in failure counts (per login, per client address).
    pub limiter: Limiter,
    /// The group-commit writer of learning events (see `learning::writer`).
    pub events: crate::learning::writer::Writer,
    /// Published course content, cached until the next publish.
    pub content: crate::learning::content::Cache,
    /// Learners' daily event budgets as this process keeps them.
    pub budgets: crate::learning::limits::Budgets,
    /// Who runs the site (organiser, contact, ICP number, seal), as pages show it.
    pub site: crate::site::Cache,
}

impl AppContext {
    /// Where reads that may lag a little go (dashboards, report exports):
    /// the replica when one is set, else the primary. Writes, and reads of
    /// what a person just wrote, use `db`.
    pub fn reads(&self) -> &DatabaseConnection {
        self.replica.as_ref().unwrap_or(&self.db)
    }

    /// The key ID numbers are hashed with for lookups (`id_hmac`).
    pub fn id_key(&self) -> &[u8] {
        use secrecy::ExposeSecret;
        self.secrets.id_hmac.expose_secret().as_bytes()
    }

    /// What recording learners' events needs of this context (narrow
    /// handles: the learning services do not know the context).
    pub fn recorder(&self) -> crate::learning::events::Recorder<'_> {
        crate::learning::events::Recorder {
            db: &self.db,
            content: &self.content,
            sessions: &self.sessions,
            writer: &self.events,
            budgets: &self.budgets,
            budget: crate::learning::limits::Budget::of(&self.settings),
            served_key: self.id_key(),
            page_view_wait_ms: self.settings.page_view_wait_ms,
        }
    }

    /// How far the replica is behind the primary, in seconds; `None` without
    /// a replica (or when it cannot say).
    pub async fn replica_lag_secs(&self) -> Option<f64> {
        crate::db::replica_lag_secs(self.replica.as_ref()?).await
    }
}
