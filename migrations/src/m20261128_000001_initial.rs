//! The whole initial schema (what each table holds: `src/entities/mod.rs`).
//!
//! Learner data (enrollments, progress, attempts, sign-offs, certificates) is
//! keyed by the stable course slug and lesson/quiz/task slugs, not by the id of
//! a course version, so that progress survives a republished course. Tables that
//! scoped queries read carry an `area_code` (the household's village) so that
//! "inside my area" is one indexed prefix match, never a join chain.

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000001_initial"
    }
}

/// Tables in creation order; dropped in reverse.
const TABLES: &[&str] = &[
    "area",
    "poverty_cause",
    "household",
    "household_cause",
    "member",
    "income_record",
    "app_user",
    "follow_up",
    "change_event",
    "competence",
    "course",
    "lesson",
    "lesson_text",
    "course_media",
    "quiz",
    "question",
    "task",
    "enrollment",
    "learning_event",
    "lesson_progress",
    "quiz_attempt",
    "skill_evidence",
    "class_session",
    "attendance",
    "task_signoff",
    "certificate",
    "mail_outbox",
];

const CAUSES: &[(&str, &str, &str)] = &[
    ("01", "因病", "illness"),
    ("02", "因残", "disability"),
    ("03", "因学", "schooling costs"),
    ("04", "因灾", "disaster"),
    ("05", "缺土地", "lack of land"),
    ("06", "缺水", "lack of water"),
    ("07", "缺技术", "lack of skills"),
    ("08", "缺劳力", "lack of labour"),
    ("09", "缺资金", "lack of funds"),
    ("10", "交通条件落后", "poor transport"),
    ("11", "自身发展动力不足", "lack of drive"),
    ("99", "其它", "other"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        // ---- areas --------------------------------------------------------
        m.create_table(
            table("area")
                .col(code("code", 12).unique_key())
                .col(code("name", 100))
                .col(code("level", 16))
                .col(code_null("parent_code", 12))
                .to_owned(),
        )
        .await?;
        m.create_index(index("area", &["parent_code"])).await?;

        m.create_table(
            bare_table("poverty_cause")
                .col(code("code", 8).primary_key())
                .col(code("name_zh", 64))
                .col(code("name_en", 64))
                .col(int_default("position", 0))
                .to_owned(),
        )
        .await?;
        let mut ins = Query::insert();
        ins.into_table("poverty_cause")
            .columns(["code", "name_zh", "name_en", "position"]);
        for (i, (c, zh, en)) in CAUSES.iter().enumerate() {
            ins.values_panic([(*c).into(), (*zh).into(), (*en).into(), (i as i32).into()]);
        }
        m.exec_stmt(ins).await?;

        // ---- households (建档立卡) -----------------------------------------
        m.create_table(
            table("household")
                .col(code("registry_no", 32).unique_key())
                .col(code("area_code", 12))
                .col(code_null("village_group", 16))
                .col(code("kind", 16))
                .col(code("status", 16))
                .col(code_null("monitor_type", 24))
                .col(int_null("identified_year"))
                .col(int_null("exited_year"))
                .col(code_null("phone", 32))
                .col(code_null("address", 200))
                .to_owned(),
        )
        .await?;
        m.create_index(index("household", &["area_code", "status"]))
            .await?;

        m.create_table(
            table("household_cause")
                .col(big("household_id"))
                .col(code("cause", 8))
                .col(boolean("is_primary", false))
                .foreign_key(&mut fk(
                    "household_cause",
                    "household_id",
                    "household",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("household_cause", &["household_id", "cause"]))
            .await?;
        m.create_index(index("household_cause", &["cause", "is_primary"]))
            .await?;

        m.create_table(
            table("member")
                .col(big("household_id"))
                .col(code("area_code", 12))
                .col(code("name", 64))
                .col(code("sex", 8))
                .col(int("birth_year"))
                .col(code_null("ethnicity", 32))
                .col(code("relation", 16))
                .col(code_null("education", 24))
                .col(code_null("school_status", 24))
                .col(code_null("health", 16))
                .col(code_null("labour", 16))
                .col(int_null("migrant_months"))
                .col(code_null("id_hmac", 64).unique_key())
                .col(code_null("id_last4", 4))
                .foreign_key(&mut fk("member", "household_id", "household", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("member", &["household_id"])).await?;
        m.create_index(index("member", &["area_code", "birth_year"]))
            .await?;
        m.create_index(index("member", &["name", "birth_year"]))
            .await?;

        m.create_table(
            table("income_record")
                .col(big("household_id"))
                .col(int("year"))
                .col(big_default("wage_fen", 0))
                .col(big_default("business_fen", 0))
                .col(big_default("transfer_fen", 0))
                .col(big_default("property_fen", 0))
                .col(big_default("costs_fen", 0))
                .col(big_default("net_per_capita_fen", 0))
                .col(big_null("verified_by"))
                .col(ts_null("verified_at"))
                .foreign_key(&mut fk(
                    "income_record",
                    "household_id",
                    "household",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("income_record", &["household_id", "year"]))
            .await?;

        // ---- people who use the system --------------------------------------
        // `area_code`: the scope of a trainer or official; the home village of a learner.
        m.create_table(
            table("app_user")
                .col(code("login", 64).unique_key())
                .col(code("display_name", 100))
                .col(code_null("email", 254))
                .col(code("password_hash", 255))
                .col(boolean("pin", false))
                .col(code("role", 16))
                .col(code_null("area_code", 12))
                .col(big_null("member_id").unique_key())
                .col(code("locale", 8))
                .col(int_default("token_version", 0))
                .col(ts_null("disabled_at"))
                .col(ts_null("last_login_at"))
                .foreign_key(&mut fk("app_user", "member_id", "member", SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index("app_user", &["role", "area_code"]))
            .await?;
        m.create_index(index("app_user", &["area_code"])).await?;

        m.create_table(
            table("follow_up")
                .col(big_null("household_id"))
                .col(big_null("member_id"))
                .col(code("area_code", 12))
                .col(ts("surveyed_at"))
                .col(int("months_after"))
                .col(boolean_null("shop_active"))
                .col(int_null("orders_30d"))
                .col(big_null("sales_30d_fen"))
                .col(code_null("work_status", 24))
                .col(text_null("notes"))
                .col(big_null("surveyor_id"))
                .foreign_key(&mut fk("follow_up", "household_id", "household", Cascade))
                .foreign_key(&mut fk("follow_up", "member_id", "member", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("follow_up", &["household_id"]))
            .await?;
        m.create_index(index("follow_up", &["area_code"])).await?;

        // Insert-only audit log: no foreign keys, so that it outlives what it describes.
        m.create_table(
            bare_table("change_event")
                .col(
                    ColumnDef::new("id")
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ts("at"))
                .col(big_null("actor_id"))
                .col(code("action", 24))
                .col(code("entity", 32))
                .col(code_null("entity_id", 64))
                .col(code_null("area_code", 12))
                .col(text_null("before_json"))
                .col(text_null("after_json"))
                .col(text_null("reason"))
                .col(code_null("ip", 64))
                .to_owned(),
        )
        .await?;
        m.create_index(index("change_event", &["entity", "entity_id"]))
            .await?;
        m.create_index(index("change_event", &["at"])).await?;
        m.create_index(index("change_event", &["actor_id"])).await?;
        m.create_index(index("change_event", &["action", "at"]))
            .await?;

        // ---- courses ----------------------------------------------------------
        m.create_table(
            table("competence")
                .col(code("code", 48).unique_key())
                .col(code("area", 16))
                .col(text("title_json"))
                .col(text("level1_json"))
                .col(text("level2_json"))
                .col(code("digcomp", 100))
                .col(text("itu"))
                .col(int_default("position", 0))
                .to_owned(),
        )
        .await?;

        // A course row is one version of a course; (slug, version) is unique.
        m.create_table(
            table("course")
                .col(code("slug", 64))
                .col(int("version"))
                .col(code("status", 16))
                .col(code("category", 16))
                .col(int("level"))
                .col(code("languages", 64))
                .col(text("title_json"))
                .col(text("summary_json"))
                .col(int("pass_mark"))
                .col(int("hours_tenths"))
                .col(text("competences"))
                .col(code_null("content_hash", 64))
                .col(text_null("source_course"))
                .col(text_null("source_tasks"))
                .col(big_null("author_id"))
                .col(ts_null("published_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("course", &["slug", "version"]))
            .await?;
        m.create_index(index("course", &["status", "slug"])).await?;

        m.create_table(
            table("lesson")
                .col(big("course_id"))
                .col(code("slug", 64))
                .col(int("position"))
                .col(int("minutes"))
                .col(code_null("audio", 200))
                .col(text("competences"))
                .foreign_key(&mut fk("lesson", "course_id", "course", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("lesson", &["course_id", "slug"]))
            .await?;

        // One row per lesson and language: Markdown source, rendered safe HTML, file source.
        m.create_table(
            table("lesson_text")
                .col(big("lesson_id"))
                .col(code("locale", 8))
                .col(code("title", 200))
                .col(text("body_md"))
                .col(text("body_html"))
                .col(text_null("source"))
                .foreign_key(&mut fk("lesson_text", "lesson_id", "lesson", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("lesson_text", &["lesson_id", "locale"]))
            .await?;

        m.create_table(
            table("course_media")
                .col(big("course_id"))
                .col(code("path", 200))
                .col(code("mime", 64))
                .col(code("etag", 64))
                .col(bytes("content", backend))
                .foreign_key(&mut fk("course_media", "course_id", "course", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("course_media", &["course_id", "path"]))
            .await?;

        m.create_table(
            table("quiz")
                .col(big("course_id"))
                .col(code("slug", 64))
                .col(code("kind", 16))
                .col(code_null("lesson_slug", 64))
                .col(text("title_json"))
                .col(text_null("source"))
                .foreign_key(&mut fk("quiz", "course_id", "course", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("quiz", &["course_id", "slug"]))
            .await?;

        m.create_table(
            table("question")
                .col(big("quiz_id"))
                .col(code("qid", 32))
                .col(int("position"))
                .col(code("kind", 16))
                .col(code("competence", 48))
                .col(int_default("points", 1))
                .col(text("prompt_json"))
                .col(text("choices_json"))
                .col(text("answer_json"))
                .col(code_null("tolerance", 32))
                .col(text("explain_json"))
                .foreign_key(&mut fk("question", "quiz_id", "quiz", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("question", &["quiz_id", "qid"]))
            .await?;

        m.create_table(
            table("task")
                .col(big("course_id"))
                .col(code("slug", 64))
                .col(int("position"))
                .col(code("competence", 48))
                .col(boolean("required", false))
                .col(text("title_json"))
                .col(text("evidence_json"))
                .foreign_key(&mut fk("task", "course_id", "course", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("task", &["course_id", "slug"]))
            .await?;

        // ---- learning -----------------------------------------------------------
        m.create_table(
            table("enrollment")
                .col(big("user_id"))
                .col(code("course_slug", 64))
                .col(code_null("cohort", 64))
                .col(code("state", 16))
                .col(code_null("area_code", 12))
                .col(big_null("household_id"))
                .col(boolean("pre_done", false))
                .col(ts("enrolled_at"))
                .col(ts_null("completed_at"))
                .col(big_null("enrolled_by"))
                .foreign_key(&mut fk("enrollment", "user_id", "app_user", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("enrollment", &["user_id", "course_slug"]))
            .await?;
        m.create_index(index("enrollment", &["area_code", "state"]))
            .await?;
        m.create_index(index("enrollment", &["course_slug", "state"]))
            .await?;
        m.create_index(index("enrollment", &["household_id"]))
            .await?;

        // Append-only; the id is made by the client, so a replay is a no-op.
        m.create_table(
            bare_table("learning_event")
                .col(ColumnDef::new("id").uuid().not_null().primary_key())
                .col(big("user_id"))
                .col(code("kind", 32))
                .col(code_null("course_slug", 64))
                .col(code_null("lesson_slug", 64))
                .col(text("payload"))
                .col(ts("occurred_at"))
                .col(ts("received_at"))
                .col(code("source", 40))
                .foreign_key(&mut fk("learning_event", "user_id", "app_user", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("learning_event", &["user_id", "occurred_at"]))
            .await?;
        m.create_index(index("learning_event", &["received_at"]))
            .await?;

        m.create_table(
            table("lesson_progress")
                .col(big("user_id"))
                .col(code("course_slug", 64))
                .col(code("lesson_slug", 64))
                .col(code("state", 16))
                .col(ts("first_opened_at"))
                .col(ts_null("finished_at"))
                .col(int_default("seconds", 0))
                .foreign_key(&mut fk("lesson_progress", "user_id", "app_user", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "lesson_progress",
            &["user_id", "course_slug", "lesson_slug"],
        ))
        .await?;

        m.create_table(
            table("quiz_attempt")
                .col(ColumnDef::new("attempt_key").uuid().not_null().unique_key())
                .col(big("user_id"))
                .col(code("course_slug", 64))
                .col(int("course_version"))
                .col(code("quiz_slug", 64))
                .col(code("kind", 16))
                .col(text("answers_json"))
                .col(text("result_json"))
                .col(int("score"))
                .col(int("max_score"))
                .col(boolean("passed", false))
                .col(ts("submitted_at"))
                .foreign_key(&mut fk("quiz_attempt", "user_id", "app_user", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "quiz_attempt",
            &["user_id", "course_slug", "quiz_slug"],
        ))
        .await?;

        m.create_table(
            table("skill_evidence")
                .col(big("user_id"))
                .col(code("competence", 48))
                .col(code_null("course_slug", 64))
                .col(code("source", 16))
                .col(int_null("score"))
                .col(int_null("level"))
                .col(big_null("attempt_id"))
                .col(big_null("signoff_id"))
                .col(code_null("area_code", 12))
                .col(ts("at"))
                .foreign_key(&mut fk("skill_evidence", "user_id", "app_user", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("skill_evidence", &["user_id", "competence"]))
            .await?;
        m.create_index(index("skill_evidence", &["area_code", "competence"]))
            .await?;

        m.create_table(
            table("class_session")
                .col(code("course_slug", 64))
                .col(big("trainer_id"))
                .col(code("area_code", 12))
                .col(ts("held_at"))
                .col(code("place", 200))
                .col(text_null("notes"))
                .foreign_key(&mut fk("class_session", "trainer_id", "app_user", Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("class_session", &["area_code", "held_at"]))
            .await?;

        m.create_table(
            table("attendance")
                .col(big("session_id"))
                .col(big("user_id"))
                .col(boolean("attended", false))
                .col(boolean("excused", false))
                .foreign_key(&mut fk(
                    "attendance",
                    "session_id",
                    "class_session",
                    Cascade,
                ))
                .foreign_key(&mut fk("attendance", "user_id", "app_user", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("attendance", &["session_id", "user_id"]))
            .await?;

        m.create_table(
            table("task_signoff")
                .col(big("user_id"))
                .col(code("course_slug", 64))
                .col(code("task_slug", 64))
                .col(big("trainer_id"))
                .col(int("level"))
                .col(text_null("note"))
                .col(ts("at"))
                .foreign_key(&mut fk("task_signoff", "user_id", "app_user", Cascade))
                .foreign_key(&mut fk("task_signoff", "trainer_id", "app_user", Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("task_signoff", &["user_id", "course_slug"]))
            .await?;

        m.create_table(
            table("certificate")
                .col(code("code", 16).unique_key())
                .col(big("user_id"))
                .col(code("course_slug", 64))
                .col(int("course_version"))
                .col(code("holder_name", 100))
                .col(ts("issued_at"))
                .col(ts_null("revoked_at"))
                .col(text_null("revoke_reason"))
                .col(big_null("revoked_by"))
                .foreign_key(&mut fk("certificate", "user_id", "app_user", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("certificate", &["user_id", "course_slug"]))
            .await?;

        // ---- mail ---------------------------------------------------------------
        m.create_table(
            table("mail_outbox")
                .col(code("to_addr", 254))
                .col(code("template", 48))
                .col(text("subject"))
                .col(text("text_body"))
                .col(text("html_body"))
                .col(code("state", 16))
                .col(int_default("attempts", 0))
                .col(ts("next_attempt_at"))
                .col(ts_null("claimed_until"))
                .col(text_null("last_error"))
                .col(ts_null("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mail_outbox", &["state", "next_attempt_at"]))
            .await?;

        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*t).to_owned()).await?;
        }
        Ok(())
    }
}
