//! Why an event is refused, typed: the batch report states it in words (its
//! `reason`), and `From<Refused> for AppError` is the one place a refusal
//! answered alone (a page's form, a quiz attempt sent to the API) gets its
//! kind of error, and so its HTTP status.

use crate::error::AppError;
use crate::learning::gate;

/// Why an event was refused. Nothing of a refused event is stored.
#[derive(Debug)]
pub enum Refused {
    /// A field that is missing, malformed, out of bounds or not hers to send
    /// (a course she is not enrolled in, a record another learner made on
    /// the same phone): answered 422 naming the field.
    Invalid { field: String, message: String },
    /// The course, lesson or quiz the event names is not there (not a
    /// published course, not a lesson or quiz of it): answered 404.
    NotFound {
        field: &'static str,
        message: String,
    },
    /// A lesson finished whose page the server never saw her open: answered
    /// 400 (see `ingest::opened_by_server`).
    NotOpened { lesson: String },
    /// The rules of pre- and post-tests refuse the attempt: answered 409.
    Gate(gate::Refusal),
}

impl Refused {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Refused {
        Refused::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(field: &'static str, message: impl Into<String>) -> Refused {
        Refused::NotFound {
            field,
            message: message.into(),
        }
    }

    /// The reason as the batch report states it (`field: why`).
    pub fn reason(&self) -> String {
        match self {
            Refused::Invalid { field, message } => format!("{field}: {message}"),
            Refused::NotFound { field, message } => format!("{field}: {message}"),
            Refused::NotOpened { lesson } => format!(
                "lesson: {lesson:?} was never opened; a lesson counts as finished once its page was opened"
            ),
            Refused::Gate(r) => r.reason(),
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason())
    }
}

/// The one mapping of a refusal to an error (and so to a status).
impl From<Refused> for AppError {
    fn from(r: Refused) -> AppError {
        match r {
            Refused::Invalid {
                ref field,
                ref message,
            } => {
                let mut fields = std::collections::BTreeMap::new();
                fields.insert(field.clone(), message.clone());
                AppError::Validation {
                    message: r.reason(),
                    fields,
                }
            }
            Refused::NotFound { .. } => AppError::NotFound,
            Refused::NotOpened { .. } => AppError::BadRequest(r.reason()),
            Refused::Gate(g) => AppError::Conflict(g.reason()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_status_and_its_words() {
        let bad = Refused::invalid(
            "payload.answers",
            "must map question ids to lists of answers",
        );
        assert_eq!(
            bad.reason(),
            "payload.answers: must map question ids to lists of answers"
        );
        match AppError::from(bad) {
            AppError::Validation { message, fields } => {
                assert!(message.starts_with("payload.answers: "));
                assert!(fields.contains_key("payload.answers"));
            }
            e => panic!("{e:?}"),
        }
        let missing = Refused::not_found("payload.quiz", "\"x\" is not a quiz of \"c\"");
        assert!(missing.reason().contains("not a quiz"));
        assert!(matches!(AppError::from(missing), AppError::NotFound));
        let unseen = Refused::NotOpened {
            lesson: "wifi".into(),
        };
        assert!(unseen.reason().contains("was never opened"));
        assert!(matches!(AppError::from(unseen), AppError::BadRequest(_)));
        let taken = Refused::Gate(gate::Refusal::PreTaken);
        assert!(
            taken
                .reason()
                .starts_with("quiz: the pre-test was taken already")
        );
        assert!(matches!(AppError::from(taken), AppError::Conflict(m) if m.starts_with("quiz:")));
    }
}
