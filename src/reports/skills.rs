//! Skills gained, per learner and competence: the score before (first
//! pre-test), the score after (first post-test: retakes change no figure), the normalized gain
//! g = (post − pre) / (100 − pre) (none when pre = 100), and the level reached
//! (0 fail, 1 with help, 2 on own) from first attempts of quizzes (a retaken
//! lesson check leaves no evidence) and trainer sign-offs. A
//! household's skill profile is the best level per competence among its members.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::entities::{app_user, member, skill_evidence};
use crate::error::AppResult;

/// One piece of skill evidence, as the rollup and pages read it.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub competence: String,
    /// pre | post | lesson | task
    pub source: String,
    pub score: Option<i32>,
    pub level: Option<i32>,
    pub at: DateTime<Utc>,
}

/// What one learner has shown in one competence.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Skill {
    pub competence: String,
    pub pre: Option<i32>,
    pub post: Option<i32>,
    /// When the pre-test was taken (the learner's baseline).
    #[serde(skip)]
    pub pre_at: Option<DateTime<Utc>>,
    pub gain: Option<f64>,
    pub level: i32,
}

/// The level a quiz score (percent) shows: 80 or more on own, 50 or more with help.
pub fn level_of_score(score: i32) -> i32 {
    if score >= 80 {
        2
    } else if score >= 50 {
        1
    } else {
        0
    }
}

/// g = (post − pre) / (100 − pre); none when pre is 100 (nothing left to gain).
pub fn gain(pre: i32, post: i32) -> Option<f64> {
    (pre < 100).then(|| f64::from(post - pre) / f64::from(100 - pre))
}

/// Per competence, from a learner's evidence in any order.
pub fn per_competence(evidence: &[Evidence]) -> BTreeMap<String, Skill> {
    let mut sorted: Vec<&Evidence> = evidence.iter().collect();
    sorted.sort_by_key(|e| e.at);
    let mut out: BTreeMap<String, Skill> = BTreeMap::new();
    for e in sorted {
        let s = out.entry(e.competence.clone()).or_insert_with(|| Skill {
            competence: e.competence.clone(),
            pre: None,
            post: None,
            pre_at: None,
            gain: None,
            level: 0,
        });
        match (e.source.as_str(), e.score, e.level) {
            ("pre", Some(score), _) if s.pre.is_none() => {
                s.pre = Some(score);
                s.pre_at = Some(e.at);
            }
            // The first post-test counts: a retake changes no figure.
            ("post", Some(score), _) if s.post.is_none() => {
                s.post = Some(score);
                s.level = s.level.max(level_of_score(score));
            }
            ("lesson", Some(score), _) => s.level = s.level.max(level_of_score(score)),
            ("task", _, Some(level)) => s.level = s.level.max(level.clamp(0, 2)),
            _ => {}
        }
    }
    for s in out.values_mut() {
        s.gain = match (s.pre, s.post) {
            (Some(a), Some(b)) => gain(a, b),
            _ => None,
        };
    }
    out
}

/// A completer has mastered a course when she is at level 2 on at least 80%
/// of the course's competences.
pub fn mastered(levels: &BTreeMap<String, Skill>, course_competences: &[String]) -> bool {
    if course_competences.is_empty() {
        return false;
    }
    let at2 = course_competences
        .iter()
        .filter(|c| levels.get(*c).is_some_and(|s| s.level >= 2))
        .count();
    at2 * 10 >= course_competences.len() * 8
}

pub async fn evidence_of(db: &impl ConnectionTrait, user_id: i64) -> AppResult<Vec<Evidence>> {
    Ok(skill_evidence::Entity::find()
        .filter(skill_evidence::Column::UserId.eq(user_id))
        .order_by_asc(skill_evidence::Column::At)
        .all(db)
        .await?
        .into_iter()
        .map(|e| Evidence {
            competence: e.competence,
            source: e.source,
            score: e.score,
            level: e.level,
            at: e.at,
        })
        .collect())
}

/// One learner's skills, per competence.
pub async fn learner_skills(db: &impl ConnectionTrait, user_id: i64) -> AppResult<Vec<Skill>> {
    Ok(per_competence(&evidence_of(db, user_id).await?)
        .into_values()
        .collect())
}

/// The best level per competence among the household's members who are learners.
pub async fn household_profile(
    db: &impl ConnectionTrait,
    household_id: i64,
) -> AppResult<BTreeMap<String, i32>> {
    use sea_orm::QuerySelect;
    let users: Vec<i64> = app_user::Entity::find()
        .select_only()
        .column(app_user::Column::Id)
        .filter(
            app_user::Column::MemberId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(member::Column::Id)
                    .from(member::Entity)
                    .and_where(member::Column::HouseholdId.eq(household_id))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    if users.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = skill_evidence::Entity::find()
        .filter(skill_evidence::Column::UserId.is_in(users.clone()))
        .all(db)
        .await?;
    let mut best: BTreeMap<String, i32> = BTreeMap::new();
    for u in users {
        let ev: Vec<Evidence> = rows
            .iter()
            .filter(|e| e.user_id == u)
            .map(|e| Evidence {
                competence: e.competence.clone(),
                source: e.source.clone(),
                score: e.score,
                level: e.level,
                at: e.at,
            })
            .collect();
        for (c, s) in per_competence(&ev) {
            let b = best.entry(c).or_insert(0);
            *b = (*b).max(s.level);
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(c: &str, source: &str, score: Option<i32>, level: Option<i32>, day: u32) -> Evidence {
        Evidence {
            competence: c.into(),
            source: source.into(),
            score,
            level,
            at: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, day, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn gain_levels_and_mastery() {
        let e = vec![
            ev("a", "pre", Some(40), None, 1),
            ev("a", "post", Some(70), None, 3),
            ev("a", "post", Some(85), None, 5),
            ev("b", "pre", Some(100), None, 1),
            ev("b", "post", Some(100), None, 5),
            ev("c", "task", None, Some(1), 4),
        ];
        let s = per_competence(&e);
        // a: the first post-test counts, not the retake (85):
        // (70 - 40) / (100 - 40) = 30 / 60 = 0.5, level 1 from the 70.
        assert_eq!(s["a"].post, Some(70));
        assert_eq!(s["a"].gain, Some(0.5));
        assert_eq!(s["a"].level, 1);
        assert_eq!(s["b"].gain, None);
        assert_eq!(s["c"].level, 1);
        let comps: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // 1 of 3 at level 2 is 33% < 80%; a's retake does not make it 2 of 2.
        assert!(!mastered(&s, &comps));
        assert!(!mastered(&s, &comps[..2]));
        assert!(mastered(&s, &comps[1..2]));
    }
}
