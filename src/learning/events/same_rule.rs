//! One lesson-progress rule: on random sequences of lesson events (lessons,
//! openings with seconds, finishes, times out of order, split at random
//! into requests and transactions) the event-by-event path (`apply`) and the
//! bulk path (`apply_bulk`) leave the same lesson-progress rows.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use super::{Act, Event, Part, apply, apply_bulk};
use crate::entities::{app_user, course, learning_event, lesson_progress};
use crate::learning::content::CourseInfo;
use crate::policy::Actor;

const LESSONS: [&str; 3] = ["wifi", "browser", "payments"];

/// One lesson event of a generated sequence, and where the bulk path cuts
/// the sequence after it (0: no cut, 1: a new request in the same
/// transaction, 2: a new transaction).
#[derive(Debug, Clone)]
struct Step {
    lesson: usize,
    /// `Some(seconds)`: opened; `None`: finished.
    opened: Option<i32>,
    minute: i64,
    cut: u8,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = (
        0..LESSONS.len(),
        prop_oneof![3 => (0..600i32).prop_map(Some), 2 => Just(None::<i32>)],
        0..500i64,
        0..3u8,
    )
        .prop_map(|(lesson, opened, minute, cut)| Step {
            lesson,
            opened,
            minute,
            cut,
        });
    prop::collection::vec(step, 1..24)
}

fn course() -> Arc<CourseInfo> {
    let now = Utc::now();
    Arc::new(CourseInfo {
        course: course::Model {
            id: 1,
            slug: "rule-course".into(),
            version: 1,
            status: crate::entities::course::CourseStatus::Published,
            category: "it".into(),
            level: 1,
            languages: "zh-CN".into(),
            title_json: "{}".into(),
            summary_json: "{}".into(),
            pass_mark: 60,
            hours_tenths: 10,
            competences: String::new(),
            content_hash: None,
            source_course: None,
            source_tasks: None,
            author_id: None,
            origin: None,
            published_at: Some(now),
            created_at: now,
            updated_at: now,
        },
        lessons: Vec::new(),
        texts: Vec::new(),
        competences: Vec::new(),
        quizzes: Vec::new(),
        tasks: Vec::new(),
        memo: Default::default(),
    })
}

async fn learner(db: &DatabaseConnection, login: &str) -> Actor {
    let u = app_user::ActiveModel {
        login: Set(login.into()),
        display_name: Set(login.into()),
        email: Set(None),
        password_hash: Set(String::new()),
        pin: Set(false),
        role: Set(crate::accounts::Role::Learner),
        area_code: Set(None),
        member_id: Set(None),
        locale: Set("zh-CN".into()),
        token_version: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    Actor {
        id: u.id,
        role: crate::accounts::Role::Learner,
        login: u.login,
        display_name: u.display_name,
        area: None,
        member_id: None,
        locale: u.locale,
    }
}

fn event(course: &Arc<CourseInfo>, s: &Step) -> Event {
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    Event {
        id: Uuid::new_v4(),
        course: course.clone(),
        lesson: Some(LESSONS[s.lesson].to_string()),
        at: base + Duration::minutes(s.minute),
        act: match s.opened {
            Some(seconds) => Act::LessonOpened { seconds },
            None => Act::LessonFinished { served: None },
        },
        payload: serde_json::json!({}),
    }
}

type Row = (
    String,
    crate::entities::lesson_progress::LessonState,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    i32,
);

async fn rows(db: &DatabaseConnection, user: i64) -> Vec<Row> {
    lesson_progress::Entity::find()
        .filter(lesson_progress::Column::UserId.eq(user))
        .order_by_asc(lesson_progress::Column::LessonSlug)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| {
            (
                p.lesson_slug,
                p.state,
                p.first_opened_at,
                p.finished_at,
                p.seconds,
            )
        })
        .collect()
}

async fn forget(db: &DatabaseConnection, users: [i64; 2]) {
    lesson_progress::Entity::delete_many()
        .filter(lesson_progress::Column::UserId.is_in(users))
        .exec(db)
        .await
        .unwrap();
    learning_event::Entity::delete_many()
        .filter(learning_event::Column::UserId.is_in(users))
        .exec(db)
        .await
        .unwrap();
}

async fn same_rows(
    db: &DatabaseConnection,
    one: &Actor,
    bulk: &Actor,
    course: &Arc<CourseInfo>,
    seq: &[Step],
) -> Result<(), TestCaseError> {
    forget(db, [one.id, bulk.id]).await;
    let now = Utc::now();
    // One by one, each event in a transaction of its own.
    for s in seq {
        let txn = crate::db::begin_write(db).await.unwrap();
        apply(&txn, one, "api", &[event(course, s)], now)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    // In bulk: requests (parts) in transactions, cut where the sequence says.
    let mut transactions: Vec<Vec<Vec<Event>>> = vec![vec![Vec::new()]];
    for s in seq {
        let txn = transactions.last_mut().unwrap();
        txn.last_mut().unwrap().push(event(course, s));
        match s.cut {
            1 => txn.push(Vec::new()),
            2 => transactions.push(vec![Vec::new()]),
            _ => {}
        }
    }
    for parts in &transactions {
        let parts: Vec<Part<'_>> = parts
            .iter()
            .map(|valid| Part {
                learner: bulk,
                source: "api",
                valid,
                now,
            })
            .collect();
        let txn = crate::db::begin_write(db).await.unwrap();
        apply_bulk(&txn, &parts).await.unwrap();
        txn.commit().await.unwrap();
    }
    prop_assert_eq!(rows(db, one.id).await, rows(db, bulk.id).await);
    Ok(())
}

#[test]
fn one_by_one_and_in_bulk_give_the_same_lesson_progress() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("rule.db").display());
    let (db, one, bulk) = rt.block_on(async {
        let db = crate::db::connect(&url, 1).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        let one = learner(&db, "one-by-one").await;
        let bulk = learner(&db, "in-bulk").await;
        (db, one, bulk)
    });
    let course = course();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    runner
        .run(&steps(), |seq| {
            rt.block_on(same_rows(&db, &one, &bulk, &course, &seq))
        })
        .unwrap();
}
