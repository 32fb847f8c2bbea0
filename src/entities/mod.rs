//! sea-orm entities, one file a table, no logic; each file's first line says
//! what its table holds. The data model, by the module that owns each part:
//!
//! - Areas (`crate::areas`): `area`, the administrative tree by 12-digit
//!   division code (province 2 significant digits, prefecture 4, county 6,
//!   township 9, village 12).
//! - The household registry (`crate::households`, whose docs say what each
//!   field means, which are sensitive and how they are masked and audited):
//!   `household`, `household_cause`, `member`, `income_record`, `follow_up`,
//!   `poverty_cause`.
//! - People (`crate::accounts`): `app_user` (login, role, the area served or
//!   lived in, `member_id` for a learner who is a household member, the token
//!   version that revokes every session), `revoked_token`, `session_change`;
//!   `signin_throttle` has no entity (`accounts::limiter`).
//! - Courses (`crate::catalog`): `competence` (from `courses/skills.toml`),
//!   `course` (one row a version) and that version's `lesson`,
//!   `lesson_text`, `course_media`, `quiz`, `question`, `task`; `video_job`.
//! - Learning (`crate::learning`): `learning_event` (append-only, ids made by
//!   the client) and what is written with the events: `enrollment`,
//!   `lesson_progress`, `quiz_attempt`, `skill_evidence`, `certificate`; and
//!   `class_session`, `attendance`, `task_signoff`.
//! - Reports (`crate::reports::rollup`, no entities): `report_cell`,
//!   `report_state`; `leader_lease` (`crate::leader`).
//! - The audit log `change_event` (`crate::audit`), the mail outbox
//!   `mail_outbox` (`crate::mail`), the site's `site_setting` and `site_file`
//!   (`crate::site`).
//!
//! Throughout: times are UTC (`created_at` and `updated_at` set by `stamp`
//! where a table has them); money is integer fen; tables that scoped queries
//! read carry the 12-digit `area_code` of the household's village, so "inside
//! my area" is an indexed prefix match; learner data names a course, lesson,
//! quiz or task by slug, never by the id of a course version; localized texts
//! and audit snapshots are JSON text.

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

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::course::CourseStatus;
    use super::enrollment::EnrollmentState;
    use super::lesson_progress::LessonState;
    use super::mail_outbox::MailState;
    use super::video_job::VideoState;
    use crate::courses::QuizKind;

    /// Each value's stored name, checked to be its JSON form too.
    fn names<E>() -> Vec<String>
    where
        E: ActiveEnum<Value = String> + Iterable + PartialEq + serde::Serialize,
    {
        E::iter()
            .map(|v| {
                let stored = v.to_value();
                assert_eq!(serde_json::to_value(&v).unwrap(), stored.as_str());
                assert!(E::try_from_value(&stored).is_ok_and(|back| back == v));
                stored
            })
            .collect()
    }

    /// The names are what databases already hold: renaming one would need a
    /// migration, so a change here is a change on purpose.
    #[test]
    fn closed_sets_store_the_names_databases_hold() {
        assert_eq!(
            names::<CourseStatus>(),
            ["draft", "published", "replaced", "archived"]
        );
        assert_eq!(
            names::<EnrollmentState>(),
            ["enrolled", "paused", "completed", "withdrawn"]
        );
        assert_eq!(names::<LessonState>(), ["opened", "finished"]);
        assert_eq!(
            names::<VideoState>(),
            ["queued", "running", "done", "failed"]
        );
        assert_eq!(names::<MailState>(), ["queued", "sent", "failed"]);
        assert_eq!(names::<QuizKind>(), ["pre", "post", "lesson"]);
    }
}
