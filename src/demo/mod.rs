//! Demo data for `serve --demo`: the areas of 镇雄县 (Zhenxiong county, 昭通市)
//! with villages under two townships, and one account per role and level.
//! Idempotent: what exists is left alone, so a second start adds nothing.
//! The logins are listed in the README.

use crate::accounts::users::{self, NewUser};
use crate::areas;
use crate::error::AppResult;
use crate::web::AppState;

pub const AREAS: &str = include_str!("areas.csv");

pub const ADMIN: (&str, &str) = ("admin", "fuzhi-admin-2026");
pub const STAFF_PASSWORD: &str = "fuzhi-demo-2026";
pub const LEARNER_PIN: &str = "246810";

/// `(login, display name, role, area)` of the demo staff.
pub const STAFF: &[(&str, &str, &str, &str)] = &[
    (
        "gov.zhaotong",
        "昭通市乡村振兴局 赵敏",
        "official",
        "530600000000",
    ),
    (
        "gov.zhenxiong",
        "镇雄县乡村振兴局 陈刚",
        "official",
        "530627000000",
    ),
    ("gov.poji", "泼机镇 刘芳", "official", "530627102000"),
    ("gov.xinjie", "新街村 村委 王强", "official", "530627102001"),
    ("gov.heishu", "黑树镇 张丽", "official", "530627103000"),
    ("trainer.li", "培训员 李娜", "trainer", "530627102000"),
    ("trainer.wang", "培训员 王磊", "trainer", "530627103000"),
];

/// `(phone, name, village)` of the demo learners.
pub const LEARNERS: &[(&str, &str, &str)] = &[
    ("13800000001", "杨秀英", "530627102001"),
    ("13800000002", "罗正华", "530627102001"),
    ("13800000003", "陈桂兰", "530627102002"),
    ("13800000004", "王德才", "530627102002"),
    ("13800000005", "李春梅", "530627102003"),
    ("13800000006", "张永贵", "530627102004"),
    ("13800000007", "刘玉珍", "530627103001"),
    ("13800000008", "赵明亮", "530627103001"),
    ("13800000009", "黄小燕", "530627103002"),
    ("13800000010", "周建国", "530627103003"),
    ("13800000011", "吴丽萍", "530627103004"),
    ("13800000012", "徐光荣", "530627103005"),
];

pub async fn seed(state: &AppState) -> AppResult<()> {
    let db = &state.db;
    let report = areas::import_csv(db, AREAS.as_bytes()).await?;
    users::ensure_admin(db, ADMIN.0, ADMIN.1).await?;
    let mut added = 0;
    for (login, name, role, area) in STAFF {
        if users::find_by_login(db, login).await?.is_none() {
            users::create(
                db,
                None,
                &NewUser {
                    login: login.to_string(),
                    display_name: name.to_string(),
                    password: STAFF_PASSWORD.into(),
                    role: role.to_string(),
                    area_code: Some(area.to_string()),
                    ..Default::default()
                },
            )
            .await?;
            added += 1;
        }
    }
    for (phone, name, village) in LEARNERS {
        if users::find_by_login(db, phone).await?.is_none() {
            users::create(
                db,
                None,
                &NewUser {
                    login: phone.to_string(),
                    display_name: name.to_string(),
                    password: LEARNER_PIN.into(),
                    pin: true,
                    role: "learner".into(),
                    area_code: Some(village.to_string()),
                    ..Default::default()
                },
            )
            .await?;
            added += 1;
        }
    }
    let learning = seed_learning(state).await?;
    tracing::info!(
        areas_added = report.added,
        users_added = added,
        learning,
        "demo data ready"
    );
    Ok(())
}

/// Enrollments and progress: learners 1-3 complete 智能手机入门 (and get a
/// certificate), 4-6 are half-way, 7-9 have just enrolled in 网络与信息安全.
/// Event ids are derived from names, so a second run only finds duplicates.
async fn seed_learning(state: &AppState) -> AppResult<usize> {
    use crate::learning::{enroll, events, tasks};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = &state.db;
    let base = state.settings.base_url();
    let Some(phone) = state.content.published(db, "smartphone-basics").await? else {
        return Ok(0);
    };
    let (Some(li), Some(wang)) = (
        users::find_by_login(db, "trainer.li").await?,
        users::find_by_login(db, "trainer.wang").await?,
    ) else {
        return Ok(0);
    };
    let id = |s: String| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, s.as_bytes()).to_string();
    let mut n = 0;
    for (i, (login, _, village)) in LEARNERS.iter().enumerate() {
        let Some(u) = users::find_by_login(db, login).await? else {
            continue;
        };
        let learner = users::actor_of(&u);
        let trainer = users::actor_of(if village.starts_with("530627102") {
            &li
        } else {
            &wang
        });
        let slug = if i < 6 {
            "smartphone-basics"
        } else {
            "online-safety"
        };
        if i >= 9 || state.content.published(db, slug).await?.is_none() {
            continue;
        }
        enroll::enroll(
            db,
            &state.content,
            &trainer,
            &u,
            slug,
            Some("2026 冬季班".into()),
        )
        .await?;
        if i >= 6 {
            continue;
        }
        let upto = if i < 3 {
            phone.lessons.len()
        } else {
            phone.lessons.len() / 2
        };
        let done: Vec<&String> = phone.lessons.iter().take(upto).map(|l| &l.slug).collect();
        let mut batch = Vec::new();
        for l in &done {
            for kind in ["lesson_opened", "lesson_finished"] {
                batch.push(events::EventIn {
                    id: id(format!("demo/{login}/{l}/{kind}")),
                    kind: kind.into(),
                    course: Some(slug.into()),
                    lesson: Some((*l).clone()),
                    occurred_at: None,
                    payload: Some(serde_json::json!({"seconds": 240})),
                });
            }
        }
        for q in &phone.quizzes {
            let take = match q.row.kind.as_str() {
                "pre" => true,
                "post" => i < 3,
                _ => q
                    .row
                    .lesson_slug
                    .as_ref()
                    .is_some_and(|s| done.contains(&s)),
            };
            if !take {
                continue;
            }
            // The pre-test is answered half right; later quizzes all right.
            let answers: std::collections::BTreeMap<String, Vec<String>> = q
                .questions
                .iter()
                .enumerate()
                .filter(|(k, _)| q.row.kind != "pre" || k % 2 == 0)
                .map(|(_, x)| {
                    (
                        x.qid.clone(),
                        serde_json::from_str(&x.answer_json).unwrap_or_default(),
                    )
                })
                .collect();
            batch.push(events::EventIn {
                id: id(format!("demo/{login}/quiz/{}", q.row.slug)),
                kind: "quiz_submitted".into(),
                course: Some(slug.into()),
                lesson: None,
                occurred_at: None,
                payload: Some(serde_json::json!({"quiz": q.row.slug, "answers": answers})),
            });
        }
        let r = events::ingest(
            db,
            &state.content,
            Some(&state.views),
            &base,
            &learner,
            "demo",
            batch,
        )
        .await?;
        n += r.accepted;
        if i < 3 {
            for t in phone.tasks.iter().filter(|t| t.required) {
                let signed = crate::entities::task_signoff::Entity::find()
                    .filter(crate::entities::task_signoff::Column::UserId.eq(u.id))
                    .filter(crate::entities::task_signoff::Column::TaskSlug.eq(t.slug.as_str()))
                    .count(db)
                    .await?;
                if signed == 0 {
                    let s = tasks::SignOff {
                        user_id: u.id,
                        course: slug.into(),
                        task: t.slug.clone(),
                        level: 2,
                        note: Some("课堂上独立完成".into()),
                    };
                    tasks::sign_off(db, &state.content, Some(&state.views), &base, &trainer, &s)
                        .await?;
                    n += 1;
                }
            }
        }
    }
    Ok(n)
}
