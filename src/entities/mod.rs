//! sea-orm entities, one file a table, no logic.

pub mod app_user;
pub mod area;
pub mod attendance;
pub mod certificate;
pub mod change_event;
pub mod class_session;
pub mod competence;
pub mod course;
pub mod course_media;
pub mod enrollment;
pub mod follow_up;
pub mod household;
pub mod household_cause;
pub mod income_record;
pub mod learning_event;
pub mod lesson;
pub mod lesson_progress;
pub mod lesson_text;
pub mod mail_outbox;
pub mod member;
pub mod poverty_cause;
pub mod question;
pub mod quiz;
pub mod quiz_attempt;
pub mod revoked_token;
pub mod session_change;
pub mod site_file;
pub mod site_setting;
pub mod skill_evidence;
pub mod task;
pub mod task_signoff;
pub mod video_job;

use sea_orm::ActiveValue;

/// Sets `created_at` on insert (unless given) and `updated_at` on every save.
pub(crate) fn stamp(
    created_at: &mut ActiveValue<chrono::DateTime<chrono::Utc>>,
    updated_at: &mut ActiveValue<chrono::DateTime<chrono::Utc>>,
    insert: bool,
) {
    let now = chrono::Utc::now();
    if insert && created_at.is_not_set() {
        *created_at = ActiveValue::Set(now);
    }
    *updated_at = ActiveValue::Set(now);
}
