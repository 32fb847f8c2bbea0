//! The trainer's own start page: what needs doing today — next classes,
//! tasks ready for sign-off, learners who stalled (with village and phone),
//! who studied this week.

use std::collections::{BTreeMap, HashMap};

use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::{Page, State, activity, ago, course_titles, days_since, session_views, title_of, tr};
use crate::entities::enrollment::EnrollmentState;
use crate::entities::{app_user, class_session, enrollment};
use crate::error::AppResult;
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};

/// A login that is a mainland mobile number (11 digits from 1).
fn is_phone(login: &str) -> bool {
    login.len() == 11 && login.starts_with('1') && login.bytes().all(|b| b.is_ascii_digit())
}

/// How long without a lesson before a learner counts as stalled.
const STALLED_DAYS: i64 = 14;

/// The trainer's own start page: what needs doing today.
pub async fn home(state: State, locale: Locale, user: CurrentUser) -> AppResult<HttpResponse> {
    user.actor.require(Action::RunClasses)?;
    let lang = locale.0;
    let now = Utc::now();
    let scope = user.actor.scope_prefix();
    // Next classes in the trainer's area, from this morning on.
    let mut q = class_session::Entity::find()
        .filter(class_session::Column::HeldAt.gte(now - chrono::Duration::hours(12)))
        .order_by_asc(class_session::Column::HeldAt);
    if let Some(p) = &scope {
        q = q.filter(class_session::Column::AreaCode.starts_with(p.as_str()));
    }
    let next = q.limit(5).all(&state.db).await?;
    let classes = session_views(&state, lang, &next).await?;

    // Learners of the area with a course under way.
    let mut q = enrollment::Entity::find()
        .filter(
            enrollment::Column::State.is_in([EnrollmentState::Enrolled, EnrollmentState::Paused]),
        )
        .order_by_asc(enrollment::Column::Id);
    if let Some(p) = &scope {
        q = q.filter(enrollment::Column::AreaCode.starts_with(p.as_str()));
    }
    let open = q.all(&state.db).await?;
    let mut ids: Vec<i64> = open.iter().map(|e| e.user_id).collect();
    ids.sort();
    ids.dedup();
    let titles = course_titles(&state, lang).await?;

    // Practical tasks ready for sign-off (the lessons they need are
    // finished), per course.
    let ready = crate::learning::ready::waiting(&state.db, &state.content, &open).await?;
    let mut waiting: BTreeMap<String, (usize, Vec<i64>)> = BTreeMap::new();
    for (learner, course, tasks) in &ready {
        let w = waiting.entry(course.clone()).or_default();
        w.0 += tasks.len();
        w.1.push(*learner);
    }
    let waiting: Vec<_> = waiting
        .into_iter()
        .map(|(slug, (n, learners))| {
            let course = title_of(&titles, &slug);
            json!({"text": tr(&state, lang, "teach.waiting_n")
                        .replace("{course}", &course)
                        .replace("{n}", &n.to_string())
                        .replace("{m}", &learners.len().to_string()),
                   "course": slug})
        })
        .collect();

    // Who studied lately, and who has stalled.
    let act = activity(&state, &ids).await?;
    let people: HashMap<i64, app_user::Model> = if ids.is_empty() {
        HashMap::new()
    } else {
        app_user::Entity::find()
            .filter(app_user::Column::Id.is_in(ids.iter().copied()))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect()
    };
    let name = |u: &i64| people.get(u).map(|p| p.display_name.clone());
    let mut recent: Vec<(i64, DateTime<Utc>)> = act
        .last
        .iter()
        .filter(|(_, at)| days_since(**at, now) < 7)
        .map(|(u, at)| (*u, *at))
        .collect();
    recent.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let recent: Vec<_> = recent
        .into_iter()
        .take(5)
        .map(|(u, at)| {
            json!({"id": u, "name": name(&u), "when": ago(&state, lang, days_since(at, now))})
        })
        .collect();
    let mut stalled: Vec<(i64, Option<DateTime<Utc>>, DateTime<Utc>)> = Vec::new();
    for e in open.iter().filter(|e| e.state == EnrollmentState::Enrolled) {
        if stalled.iter().any(|s| s.0 == e.user_id) {
            continue;
        }
        let last = act.last.get(&e.user_id).copied();
        let since = last.unwrap_or(e.enrolled_at);
        if days_since(since, now) >= STALLED_DAYS {
            stalled.push((e.user_id, last, since));
        }
    }
    stalled.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(&b.0)));
    let stalled_total = stalled.len();
    let codes: Vec<String> = stalled
        .iter()
        .take(5)
        .filter_map(|s| people.get(&s.0)?.area_code.clone())
        .collect();
    let places = crate::areas::names(&state.db, &codes).await?;
    let stalled: Vec<_> = stalled
        .into_iter()
        .take(5)
        .map(|(u, last, since)| {
            let why = match last {
                Some(_) => tr(&state, lang, "teach.stalled_since")
                    .replace("{days}", &days_since(since, now).to_string()),
                None => tr(&state, lang, "teach.never_started"),
            };
            // Her village by name and her phone (the login a learner signs in
            // with), so the trainer can call or visit.
            let p = people.get(&u);
            let village = p
                .and_then(|p| p.area_code.as_ref())
                .and_then(|c| places.get(c));
            let phone = p.map(|p| p.login.clone()).filter(|l| is_phone(l));
            json!({"id": u, "name": name(&u), "why": why, "village": village, "phone": phone})
        })
        .collect();
    Page::new(&state, lang, Some(&user), "teach.home")
        .set("classes", classes)
        .set("waiting", waiting)
        .set("recent", recent)
        .set("stalled", stalled)
        .set("stalled_more", stalled_total > 5)
        .set("learners", ids.len())
        .render(&state, "pages/teach_home")
}
