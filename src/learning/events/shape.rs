//! The shape each kind of event must have: a small payload with the fields
//! of its kind, short texts, few questions and answers. Checked on the
//! request path, before anything reaches the writer: an event that does not
//! fit its kind is rejected with the reason.

use serde_json::Value;

use super::{LearnerKind, Refused};

/// The most bytes a payload may take, as stored (compact JSON).
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// The longest id, slug or answer a payload may carry.
const MAX_TEXT: usize = 200;
/// The most questions in a submitted quiz, and answers to one question.
const MAX_QUESTIONS: usize = 200;
const MAX_ANSWERS: usize = 20;

/// Why an event's course, lesson and payload do not fit its kind, if they
/// do not (the payload as it would be stored; `Null` when none was sent).
pub fn check_shape(
    kind: LearnerKind,
    course: Option<&str>,
    lesson: Option<&str>,
    payload: &Value,
) -> Result<(), Refused> {
    if lesson.is_some_and(|l| l.len() > MAX_TEXT) {
        return Err(Refused::invalid(
            "lesson",
            format!("longer than {MAX_TEXT} characters"),
        ));
    }
    if course.is_some_and(|c| c.len() > MAX_TEXT) {
        return Err(Refused::invalid(
            "course",
            format!("longer than {MAX_TEXT} characters"),
        ));
    }
    let size = payload.to_string().len();
    if size > MAX_PAYLOAD_BYTES {
        return Err(Refused::invalid(
            "payload",
            format!("{size} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit of an event"),
        ));
    }
    let fields = match payload {
        Value::Null => return Ok(()),
        Value::Object(m) => m,
        _ => return Err(Refused::invalid("payload", "must be an object")),
    };
    let allowed: &[&str] = match kind {
        // The seconds spent reading, which a phone may send with either.
        LearnerKind::LessonOpened | LearnerKind::LessonFinished => &["seconds"],
        LearnerKind::AnswerGiven => &["quiz", "question", "answers"],
        LearnerKind::QuizSubmitted => &["quiz", "answers"],
    };
    if let Some(k) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Refused::invalid(
            format!("payload.{k}"),
            format!(
                "not a field of {} (allowed: {})",
                kind.name(),
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        ));
    }
    for (k, v) in fields {
        match (k.as_str(), v) {
            ("seconds", Value::Number(n)) if n.as_u64().is_some_and(|s| s <= 86_400) => {}
            ("seconds", _) => {
                return Err(Refused::invalid(
                    "payload.seconds",
                    "a whole number, 0 to 86400",
                ));
            }
            ("quiz" | "question", Value::String(s)) if s.len() <= MAX_TEXT => {}
            ("quiz" | "question", _) => {
                return Err(Refused::invalid(
                    format!("payload.{k}"),
                    format!("a text of at most {MAX_TEXT} characters"),
                ));
            }
            ("answers", v) if kind == LearnerKind::AnswerGiven => answers(v)?,
            ("answers", Value::Object(m)) if m.len() <= MAX_QUESTIONS => {
                for (q, v) in m {
                    if q.len() > MAX_TEXT {
                        return Err(Refused::invalid(
                            "payload.answers",
                            format!("a question id over {MAX_TEXT} characters"),
                        ));
                    }
                    answers(v)?;
                }
            }
            ("answers", _) => {
                return Err(Refused::invalid(
                    "payload.answers",
                    format!("must map at most {MAX_QUESTIONS} question ids to lists of answers"),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A list of at most `MAX_ANSWERS` short texts.
fn answers(v: &Value) -> Result<(), Refused> {
    let ok = v.as_array().is_some_and(|a| {
        a.len() <= MAX_ANSWERS
            && a.iter()
                .all(|x| x.as_str().is_some_and(|s| s.len() <= MAX_TEXT))
    });
    if ok {
        Ok(())
    } else {
        Err(Refused::invalid(
            "payload.answers",
            format!("at most {MAX_ANSWERS} answers of at most {MAX_TEXT} characters"),
        ))
    }
}
