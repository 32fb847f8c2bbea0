//! Quiz attempts for one course of the made-up history (see `history`), so
//! that the demo's item analysis has figures: each learner answers the
//! pre-test, the lesson checks of the lessons she reached and, if she
//! completed, the post-test, graded by the real grader.
//!
//! How she answers: her ability θ and each question's difficulty b and
//! discrimination a (made from the question's id) give the chance of a right
//! answer, 1 ÷ (1 + e^(−1.7·a·(θ − b))) (the two-parameter logistic model).
//! A wrong answer picks among the wrong choices, one more tempting than the
//! others, and now and then she leaves a question blank. She knows more after
//! the lessons; a failed lesson check or post-test is taken again (up to
//! three post-tests, two hours apart), which the figures must not count.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveEnum, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Value};

use crate::courses::{QuestionKind, QuizKind};
use crate::entities::course;
use crate::error::AppResult;
use crate::learning::content::{CourseInfo, QuizInfo};
use crate::learning::grading;

/// The columns of `quiz_attempt` the history writes.
pub const COLS: [&str; 15] = [
    "attempt_key",
    "user_id",
    "course_slug",
    "course_version",
    "quiz_slug",
    "kind",
    "answers_json",
    "result_json",
    "score",
    "max_score",
    "passed",
    "submitted_at",
    "choice_seed",
    "created_at",
    "updated_at",
];

/// The published version of the course whose attempts are made.
pub async fn load(db: &impl ConnectionTrait, slug: &str) -> AppResult<Option<CourseInfo>> {
    use sea_orm::ColumnTrait;
    let row = course::Entity::find()
        .filter(course::Column::Slug.eq(slug))
        .filter(course::Column::Status.eq(course::CourseStatus::Published))
        .order_by_desc(course::Column::Version)
        .one(db)
        .await?;
    Ok(match row {
        Some(r) => Some(crate::learning::content::load(db, r).await?),
        None => None,
    })
}

/// One learner in the course: who, when, how far.
pub struct Enrolment {
    pub user: i64,
    pub enrolled: DateTime<Utc>,
    /// When she completed (her post-test passed by then).
    pub done: Option<DateTime<Utc>>,
    /// Lessons whose check she took (in order).
    pub lessons: usize,
}

/// What a learner's attempts add: `quiz_attempt` rows and, per attempt and
/// competence, `(competence, source, percent, at)` for skill evidence.
#[derive(Default)]
pub struct Made {
    pub rows: Vec<Vec<Value>>,
    pub evidence: Vec<(String, String, i32, DateTime<Utc>)>,
}

/// A number in [0, 1) from a string (a question's fixed traits).
fn unit(s: &str, salt: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    let mut r = Rng(h);
    (r.next() >> 11) as f64 / (1u64 << 53) as f64
}

/// A small deterministic generator (SplitMix64).
pub(super) struct Rng(pub(super) u64);
impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(super) fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

fn uniform(rng: &mut Rng) -> f64 {
    (rng.next() >> 11) as f64 / (1u64 << 53) as f64
}

/// About normal (mean 0, sd 1): the sum of three uniforms, rescaled.
fn normal(rng: &mut Rng) -> f64 {
    (uniform(rng) + uniform(rng) + uniform(rng) - 1.5) * 2.0
}

/// One learner's answers to a quiz at ability `theta`.
fn answer(rng: &mut Rng, quiz: &QuizInfo, theta: f64) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for q in &quiz.questions {
        let tag = format!("{}/{}", quiz.row.slug, q.qid);
        // Difficulty from −2 (easy) to 1.2; discrimination from 0.1 to 2.
        let b = -2.0 + 3.2 * unit(&tag, 1);
        let a = 0.1 + 1.9 * unit(&tag, 2);
        let p = 1.0 / (1.0 + (-1.7 * a * (theta - b)).exp());
        if uniform(rng) < 0.02 {
            continue;
        }
        let key: Vec<String> = serde_json::from_str(&q.answer_json).unwrap_or_default();
        let given = if uniform(rng) < p {
            key
        } else {
            wrong(rng, q.kind, &key, &q.choices_json, &tag)
        };
        out.insert(q.qid.clone(), given);
    }
    out
}

/// A wrong answer: the most tempting wrong choice often, another sometimes,
/// the last wrong choice hardly ever.
fn wrong(
    rng: &mut Rng,
    kind: QuestionKind,
    key: &[String],
    choices: &str,
    tag: &str,
) -> Vec<String> {
    let ids: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(choices)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .collect();
    let mut others: Vec<String> = ids.iter().filter(|c| !key.contains(c)).cloned().collect();
    // The order of temptation is the question's own.
    others
        .sort_by(|x, y| unit(&format!("{tag}/{x}"), 3).total_cmp(&unit(&format!("{tag}/{y}"), 3)));
    let pick = |rng: &mut Rng| -> Option<String> {
        let (r, n) = (uniform(rng), others.len());
        let i = match n {
            0 => return None,
            _ if n == 1 || r < 0.7 => 0,
            _ if n == 2 || r < 0.97 => 1,
            _ => n - 1,
        };
        Some(others[i].clone())
    };
    match kind {
        QuestionKind::TrueFalse => {
            let flip = if key.first().map(String::as_str) == Some("true") {
                "false"
            } else {
                "true"
            };
            vec![flip.to_string()]
        }
        QuestionKind::Single => pick(rng).map(|c| vec![c]).unwrap_or_default(),
        QuestionKind::Multiple => {
            let mut v = key.to_vec();
            if v.len() > 1 && uniform(rng) < 0.5 {
                v.pop();
            } else if let Some(c) = pick(rng) {
                v.push(c);
            }
            v
        }
        QuestionKind::Order => {
            let mut v = key.to_vec();
            if v.len() > 1 {
                v.swap(0, 1);
            }
            v
        }
        QuestionKind::Number => {
            let k: f64 = key.first().and_then(|k| k.parse().ok()).unwrap_or(0.0);
            vec![format!("{}", k + 1.0 + (uniform(rng) * 9.0).floor())]
        }
    }
}

/// One learner's attempts being made.
struct Learner<'a> {
    rng: &'a mut Rng,
    made: Made,
    course: &'a CourseInfo,
    user: i64,
    now: DateTime<Utc>,
}

impl Learner<'_> {
    /// One attempt at ability `theta`, graded as the server grades; whether
    /// it passed.
    fn attempt(&mut self, quiz: &QuizInfo, theta: f64, at: DateTime<Utc>) -> bool {
        let answers = answer(self.rng, quiz, theta);
        let key = uuid::Uuid::from_u64_pair(self.rng.next(), self.rng.next());
        let seed = crate::learning::shuffle::seed_of(self.user, key);
        let c = &self.course.course;
        let g = grading::Graded {
            seed: Some(seed),
            ..grading::grade(quiz, &answers, c.pass_mark)
        };
        for (code, score) in &g.competences {
            self.made
                .evidence
                .push((code.clone(), quiz.row.kind.to_value(), *score, at));
        }
        self.made.rows.push(vec![
            key.into(),
            self.user.into(),
            c.slug.clone().into(),
            c.version.into(),
            quiz.row.slug.clone().into(),
            quiz.row.kind.into(),
            serde_json::to_string(&answers).unwrap_or_default().into(),
            serde_json::to_string(&g).unwrap_or_default().into(),
            g.score.into(),
            g.max_score.into(),
            g.passed.into(),
            at.into(),
            Some(seed).into(),
            self.now.into(),
            self.now.into(),
        ]);
        g.passed
    }
}

/// The attempts of one learner in `course`.
pub(super) fn learner(
    rng: &mut Rng,
    course: &CourseInfo,
    e: &Enrolment,
    now: DateTime<Utc>,
) -> Made {
    let theta = normal(rng);
    let growth = 0.4 + uniform(rng);
    let mut l = Learner {
        rng,
        made: Made::default(),
        course,
        user: e.user,
        now,
    };
    let by_kind = |k: QuizKind| course.quizzes.iter().filter(move |q| q.row.kind == k);
    if let Some(pre) = by_kind(QuizKind::Pre).next() {
        l.attempt(pre, theta, e.enrolled + Duration::hours(1));
    }
    let end = e.done.unwrap_or(e.enrolled + Duration::days(10));
    let checks: Vec<&QuizInfo> = course
        .lessons
        .iter()
        .filter_map(|x| {
            by_kind(QuizKind::Lesson)
                .find(|q| q.row.lesson_slug.as_deref() == Some(x.slug.as_str()))
        })
        .take(e.lessons)
        .collect();
    let step = (end - e.enrolled) / (checks.len() as i32 + 2);
    for (i, q) in checks.iter().enumerate() {
        // Fresh from the lesson she knows a little more; a failed check is
        // taken again.
        let at = e.enrolled + step * (i as i32 + 1);
        if !l.attempt(q, theta + 0.6, at) {
            l.attempt(q, theta + 1.4, at + Duration::minutes(20));
        }
    }
    if let (Some(done), Some(post)) = (e.done, by_kind(QuizKind::Post).next()) {
        // Up to three post-tests two hours apart, the last one by the day
        // she completed.
        for k in 0..3i64 {
            let at = done - Duration::hours(2 * (2 - k));
            let lift = if k == 2 { 3.0 } else { 0.7 * k as f64 };
            if l.attempt(post, theta + growth + lift, at) {
                break;
            }
        }
    }
    l.made
}
