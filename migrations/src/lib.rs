//! The schema of fuzhi, one file a step, for SQLite, PostgreSQL and MariaDB/MySQL.
//!
//! Every step is reversible. Columns that are indexed or unique are `VARCHAR(n)`
//! (MySQL cannot index `TEXT` without a prefix length); times are UTC
//! timestamps; money is integer fen; JSON is stored as text so the three engines
//! read it the same way.

pub use sea_orm_migration::prelude::*;

mod cols;
mod m20261128_000001_initial;
mod m20261128_000002_revoked_token;
mod m20261201_000003_report_rollup;
mod m20261202_000004_session_change;
mod m20261203_000005_quiz_attempt_seed;
mod m20261203_000010_lesson_text_audio;
mod m20261203_000020_signin_throttle;
mod m20261207_000030_course_origin;
mod m20261208_000040_voice;
mod m20261209_000050_site_setting;
mod m20261210_000060_video;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_initial::Migration),
            Box::new(m20261128_000002_revoked_token::Migration),
            Box::new(m20261201_000003_report_rollup::Migration),
            Box::new(m20261202_000004_session_change::Migration),
            Box::new(m20261203_000005_quiz_attempt_seed::Migration),
            Box::new(m20261203_000010_lesson_text_audio::Migration),
            Box::new(m20261203_000020_signin_throttle::Migration),
            Box::new(m20261207_000030_course_origin::Migration),
            Box::new(m20261208_000040_voice::Migration),
            Box::new(m20261209_000050_site_setting::Migration),
            Box::new(m20261210_000060_video::Migration),
        ]
    }
}
