//! Demo data for `serve --demo`: the areas of 镇雄县 (Zhenxiong county, 昭通市)
//! with villages under two townships, and one account per role and level.
//! Idempotent: what exists is left alone, so a second start adds nothing.
//! The logins are listed in the README.

pub mod attempts;
pub mod history;

use secrecy::ExposeSecret;

use crate::accounts::users::{self, NewUser};
use crate::app::AppContext;
use crate::areas;
use crate::courses::QuizKind;
use crate::error::AppResult;

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

/// `(phone, name, village)` of the demo learners. Those linked to a household
/// member (1–3 and 7–9) take the member's name when they are linked.
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

/// What `serve --demo` prints once it answers: who can sign in, and how.
pub fn logins_text() -> String {
    let mut out = format!("demo logins:\n  {:<14} {}  (admin)\n", ADMIN.0, ADMIN.1);
    for (login, name, role, _) in STAFF {
        out.push_str(&format!(
            "  {login:<14} {STAFF_PASSWORD}  ({role}, {name})\n"
        ));
    }
    let (first, last) = (LEARNERS[0].0, LEARNERS[LEARNERS.len() - 1].0);
    out.push_str(&format!(
        "  {first} … {last}  PIN {LEARNER_PIN}  (learners)\n"
    ));
    out
}

pub async fn seed(state: &AppContext) -> AppResult<()> {
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
    // Households first, so that enrollments carry the learner's household.
    let households = seed_households(state).await?;
    let learning = seed_learning(state).await?;
    let history = seed_history(state).await?;
    // The dashboard reads the rollup: make it whole now, unless this start
    // found every piece of the demo already there.
    if report.added + added + households + learning + history > 0 {
        crate::reports::rollup::rebuild(db).await?;
    }
    tracing::info!(
        areas_added = report.added,
        users_added = added,
        households_added = households,
        learning,
        history_learners = history,
        "demo data ready"
    );
    Ok(())
}

/// Enrollments and progress: learners 1-3 complete 智能手机入门 (and get a
/// certificate), 4-6 are half-way, 7-9 have just enrolled in 网络与信息安全.
/// Event ids are derived from names, so a second run only finds duplicates.
async fn seed_learning(state: &AppContext) -> AppResult<usize> {
    use crate::learning::{enroll, events, tasks};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = &state.db;
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
                    learner: None,
                    // The demo learners read their lessons on the server's pages.
                    served: (kind == "lesson_finished").then(|| {
                        events::served_proof(
                            state.secrets.id_hmac.expose_secret().as_bytes(),
                            learner.id,
                            slug,
                            l,
                        )
                    }),
                });
            }
        }
        for q in &phone.quizzes {
            let take = match q.row.kind {
                QuizKind::Pre => true,
                QuizKind::Post => i < 3,
                QuizKind::Lesson => q
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
                .filter(|(k, _)| q.row.kind != QuizKind::Pre || k % 2 == 0)
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
                learner: None,
                served: None,
            });
        }
        let r = events::ingest(&state.recorder(), &learner, "demo", batch).await?;
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
                    tasks::sign_off(db, &state.content, &trainer, &s).await?;
                    n += 1;
                }
            }
        }
    }
    Ok(n)
}

/// Login prefix of the learners of the made-up training history.
const HISTORY_LOGIN: &str = "demo-h-";

/// A training history for the demo households, so that the dashboard has
/// figures to show (once: nothing is added when it exists).
async fn seed_history(state: &AppContext) -> AppResult<usize> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = &state.db;
    let have = crate::entities::app_user::Entity::find()
        .filter(crate::entities::app_user::Column::Login.starts_with(HISTORY_LOGIN))
        .count(db)
        .await?;
    if have > 0 {
        return Ok(0);
    }
    let plan = history::Plan {
        prefix: "530627".into(),
        learner_share: 0.8,
        events_per_enrollment: 8,
        seed: DEMO_SEED,
        now: chrono::Utc::now(),
        login_prefix: HISTORY_LOGIN.into(),
        password_hash: crate::accounts::password::hash(LEARNER_PIN.into()).await?,
        // Enough first attempts at each of its quizzes for the item analysis.
        focus: Some("smartphone-basics".into()),
    };
    Ok(history::generate(db, &plan).await?.learners)
}

/// How many demo households, and the seed that makes them the same every time.
pub const DEMO_HOUSEHOLDS: usize = 200;
pub const DEMO_SEED: u64 = 2026;

/// Generated households in the demo villages of 泼机镇 and 黑树镇, imported
/// once, and the first learners of each township linked to members of their
/// village. Returns how many households were added (0 on a second start).
async fn seed_households(state: &AppContext) -> AppResult<usize> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    use secrecy::ExposeSecret;

    use crate::entities::{app_user, household, member};
    use crate::households::{bulk, generate};

    let db = &state.db;
    let townships = [("530627102000", "泼机镇"), ("530627103000", "黑树镇")];
    let mut data = generate::generate("530627", &townships, DEMO_HOUSEHOLDS, DEMO_SEED)
        .map_err(|e| anyhow::anyhow!("demo households: {e}"))?;
    // Into the six demo villages of each township.
    for h in &mut data.households {
        let n: u32 = h.area_code[9..].parse().unwrap_or(1);
        h.area_code = format!("{}{:03}", &h.area_code[..9], (n % 6) + 1);
    }
    let first = &data.households[0].registry_no;
    let mut added = 0;
    if household::Entity::find()
        .filter(household::Column::RegistryNo.eq(first.as_str()))
        .one(db)
        .await?
        .is_none()
    {
        let hasher =
            crate::households::IdHasher::new(state.secrets.id_hmac.expose_secret().as_bytes());
        let plan = crate::households::import::ImportPlan {
            columns: crate::households::import::Column::ALL.to_vec(),
            households: data
                .households
                .iter()
                .map(|h| generate::hashed(h, &hasher))
                .collect(),
            id_field: "身份证号".into(),
        };
        added = bulk::import_plan(db, &plan, None).await?.imported;
    }
    // Link learners 1-3 (泼机镇) and 7-9 (黑树镇) to a member of their village.
    for (phone, _, village) in LEARNERS
        .iter()
        .filter(|(p, _, _)| matches!(&p[p.len() - 2..], "01" | "02" | "03" | "07" | "08" | "09"))
    {
        let Some(u) = users::find_by_login(db, phone).await? else {
            continue;
        };
        if u.member_id.is_some() {
            continue;
        }
        let linked: Vec<i64> = app_user::Entity::find()
            .filter(app_user::Column::MemberId.is_not_null())
            .all(db)
            .await?
            .into_iter()
            .filter_map(|u| u.member_id)
            .collect();
        // Someone able to train: of working age and able to work.
        let year = chrono::Datelike::year(&chrono::Utc::now());
        let candidate = member::Entity::find()
            .filter(member::Column::AreaCode.eq(*village))
            .filter(member::Column::BirthYear.between(year - 55, year - 18))
            .filter(member::Column::Labour.is_in(["ordinary", "skilled"]))
            .filter(member::Column::Id.is_not_in(linked))
            .all(db)
            .await?
            .into_iter()
            .find(|m| history::able_to_train(&m.sex, year - m.birth_year, m.labour.as_deref()));
        if let Some(m) = candidate {
            // The account is the member's: it takes her name.
            let mut am: app_user::ActiveModel = u.into();
            am.member_id = Set(Some(m.id));
            am.display_name = Set(m.name.clone());
            am.update(db).await?;
        }
    }
    Ok(added)
}
