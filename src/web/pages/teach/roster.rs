//! A class's roll call: the learners of the class (active enrolments in the
//! course in the class's village or township, and anyone already recorded),
//! one choice each — present, excused or absent — with nobody chosen until the
//! trainer chooses, and "everyone came" for the usual case.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::json;

use super::{Page, State, course_titles, redirect, title_of, tr};
use crate::app::AppContext;
use crate::entities::enrollment::EnrollmentState;
use crate::entities::{app_user, attendance, class_session, enrollment};
use crate::error::AppResult;
use crate::learning::classes;
use crate::web::extract::{CurrentUser, Locale};

/// A learner of a class and what the roll call holds for her
/// (`(attended, excused)`, none until she is marked).
pub(super) struct ClassLearner {
    pub user: app_user::Model,
    pub mark: Option<(bool, bool)>,
}

/// The learners of a class, by name: everyone with an active enrolment in the
/// course in the class's area, and anyone already marked (a learner who has
/// since withdrawn only if she came).
pub(super) async fn class_learners(
    state: &AppContext,
    s: &class_session::Model,
) -> AppResult<Vec<ClassLearner>> {
    let marks: HashMap<i64, (bool, bool)> = attendance::Entity::find()
        .filter(attendance::Column::SessionId.eq(s.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.user_id, (a.attended, a.excused)))
        .collect();
    let prefix = crate::areas::AreaCode::parse(&s.area_code)
        .map(|a| a.prefix().to_string())
        .unwrap_or(s.area_code.clone());
    let enrolled = enrollment::Entity::find()
        .filter(enrollment::Column::CourseSlug.eq(s.course_slug.as_str()))
        .filter(enrollment::Column::AreaCode.starts_with(prefix))
        .all(&state.db)
        .await?;
    let withdrawn: HashSet<i64> = enrollment::Entity::find()
        .filter(enrollment::Column::CourseSlug.eq(s.course_slug.as_str()))
        .filter(enrollment::Column::State.eq(EnrollmentState::Withdrawn))
        .filter(enrollment::Column::UserId.is_in(marks.keys().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|e| e.user_id)
        .collect();
    let mut ids: Vec<i64> = enrolled
        .iter()
        .filter(|e| e.state != EnrollmentState::Withdrawn)
        .map(|e| e.user_id)
        .chain(
            marks
                .iter()
                .filter(|(u, m)| m.0 || !withdrawn.contains(u))
                .map(|(u, _)| *u),
        )
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(app_user::Entity::find()
        .filter(app_user::Column::Id.is_in(ids))
        .order_by_asc(app_user::Column::DisplayName)
        .order_by_asc(app_user::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| ClassLearner {
            mark: marks.get(&u.id).copied(),
            user: u,
        })
        .collect())
}

/// The class as shown at the top of its pages: place, time, village, course.
pub(super) async fn class_view(
    state: &AppContext,
    lang: &str,
    s: &class_session::Model,
) -> AppResult<serde_json::Value> {
    let titles = course_titles(state, lang).await?;
    let village = crate::areas::names(&state.db, std::slice::from_ref(&s.area_code)).await?;
    Ok(
        json!({"id": s.id, "course": title_of(&titles, &s.course_slug), "place": s.place,
               "village": village.get(&s.area_code),
               "held_at": s.held_at.format("%Y-%m-%d %H:%M").to_string()}),
    )
}

#[derive(Deserialize)]
pub struct RosterQuery {
    saved: Option<String>,
    /// How many learners were left unmarked by the last save.
    unmarked: Option<usize>,
}

pub async fn roster(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<RosterQuery>,
) -> AppResult<HttpResponse> {
    let s = classes::get(&state.db, &user.actor, path.into_inner()).await?;
    let (page, rows) = roster_page(&state, locale.0, &user, &s).await?;
    let flash = q.saved.as_ref().map(|_| {
        let count = |k: &str| rows.iter().filter(|r| r["state"] == k).count().to_string();
        let mut said = tr(&state, locale.0, "teach.roll_saved")
            .replace("{n}", &count("present"))
            .replace("{m}", &count("excused"));
        if let Some(u) = q.unmarked.filter(|u| *u > 0) {
            said.push(' ');
            said.push_str(
                &tr(&state, locale.0, "teach.roll_unmarked").replace("{n}", &u.to_string()),
            );
        }
        said
    });
    page.set("flash", flash)
        .render(&state, "pages/teach_roster")
}

/// The roster page of a session, and its rows (id, name, state).
async fn roster_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    s: &class_session::Model,
) -> AppResult<(Page, Vec<serde_json::Value>)> {
    let rows: Vec<_> = class_learners(state, s)
        .await?
        .iter()
        .map(|l| {
            let st = match l.mark {
                Some((true, _)) => "present",
                Some((false, true)) => "excused",
                Some(_) => "absent",
                None => "unmarked",
            };
            json!({"id": l.user.id, "name": l.user.display_name, "state": st,
                   "present": st == "present", "excused": st == "excused", "absent": st == "absent"})
        })
        .collect();
    let unmarked = rows.iter().filter(|r| r["state"] == "unmarked").count();
    let page = Page::new(state, lang, Some(user), "teach.roster")
        .set("s", class_view(state, lang, s).await?)
        .set("unmarked", unmarked)
        .set("rows", &rows);
    Ok((page, rows))
}

/// The roster form: one `mark-{id}` choice (present, excused or absent) per
/// learner, `listed` for everyone on the page; the older `present` and
/// `excused` fields (one per ticked learner) are read too. A learner listed
/// with no choice is not recorded. `all=present` ("everyone came") marks
/// everyone listed present, except those marked excused. Ids that are not
/// numbers are ignored.
struct RosterForm {
    marks: Vec<classes::Mark>,
    /// Learners marked both present and excused.
    both: Vec<i64>,
    /// Listed learners left without a choice.
    unmarked: usize,
}

impl From<&[u8]> for RosterForm {
    fn from(body: &[u8]) -> RosterForm {
        let mut listed = Vec::new();
        let mut chosen = Vec::new();
        let mut present = HashSet::new();
        let mut excused = HashSet::new();
        let mut everyone = false;
        for (k, v) in url::form_urlencoded::parse(body) {
            if k == "all" && v == "present" {
                everyone = true;
                continue;
            }
            let (key, id) = match k.strip_prefix("mark-") {
                Some(id) => (v.as_ref(), id.parse::<i64>().ok()),
                None => (k.as_ref(), v.parse::<i64>().ok()),
            };
            let Some(id) = id else { continue };
            match key {
                "listed" => listed.push(id),
                "present" => {
                    present.insert(id);
                    chosen.push(id);
                }
                "excused" => {
                    excused.insert(id);
                    chosen.push(id);
                }
                "absent" => chosen.push(id),
                _ => {}
            }
        }
        if everyone {
            for id in &listed {
                if !excused.contains(id) {
                    present.insert(*id);
                }
            }
            chosen.extend(listed.iter().copied());
        }
        let mut seen = HashSet::new();
        chosen.retain(|id| seen.insert(*id));
        let unmarked = listed
            .iter()
            .collect::<HashSet<_>>()
            .into_iter()
            .filter(|id| !seen.contains(id))
            .count();
        let both = chosen
            .iter()
            .copied()
            .filter(|u| present.contains(u) && excused.contains(u))
            .collect();
        RosterForm {
            marks: chosen
                .into_iter()
                .map(|u| classes::Mark {
                    user_id: u,
                    attended: present.contains(&u),
                    excused: excused.contains(&u),
                })
                .collect(),
            both,
            unmarked,
        }
    }
}

pub async fn roster_save(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let form = RosterForm::from(&body[..]);
    if !form.both.is_empty() {
        // Nothing is saved: the page names who was marked twice.
        let s = classes::get(&state.db, &user.actor, id).await?;
        let (page, rows) = roster_page(&state, locale.0, &user, &s).await?;
        let names: Vec<String> = form
            .both
            .iter()
            .map(|u| {
                rows.iter()
                    .find(|r| r["id"] == *u)
                    .and_then(|r| r["name"].as_str())
                    .map_or_else(|| format!("#{u}"), str::to_string)
            })
            .collect();
        let sep = if locale.0 == "en" { ", " } else { "、" };
        let error = tr(&state, locale.0, "teach.both_marked").replace("{name}", &names.join(sep));
        return page.set("error", error).render_status(
            &state,
            "pages/teach_roster",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    classes::mark(&state.db, &user.actor, id, &form.marks).await?;
    let left = if form.unmarked > 0 {
        format!("&unmarked={}", form.unmarked)
    } else {
        String::new()
    };
    Ok(redirect(&format!("/teach/classes/{id}?saved=1{left}")))
}

#[cfg(test)]
mod tests {
    use super::RosterForm;

    #[test]
    fn a_listed_learner_without_a_choice_is_not_recorded() {
        let f = RosterForm::from(&b"listed=1&listed=2&mark-1=present"[..]);
        assert_eq!(f.marks.len(), 1);
        assert_eq!(f.marks[0].user_id, 1);
        assert_eq!(f.unmarked, 1);
    }

    #[test]
    fn everyone_came_keeps_the_excused() {
        let f = RosterForm::from(&b"listed=1&listed=2&listed=3&mark-2=excused&all=present"[..]);
        assert_eq!(f.unmarked, 0);
        let got: Vec<(i64, bool, bool)> = f
            .marks
            .iter()
            .map(|m| (m.user_id, m.attended, m.excused))
            .collect();
        assert_eq!(
            got,
            vec![(2, false, true), (1, true, false), (3, true, false)]
        );
    }
}
