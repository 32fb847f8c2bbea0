//! Typed messages: what a write transaction queues when the mail is to be
//! rendered by the mail worker, with the templates and the site's address,
//! when it sends it (the writer of learning events holds neither). In the
//! outbox such a row keeps the message as JSON in `text_body`, with no
//! subject and no HTML yet; the worker renders it before sending and stores
//! what it sent.

use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use crate::entities::mail_outbox;
use crate::error::{AppError, AppResult};
use crate::views::Views;

/// A mail queued as data, rendered when it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "message", rename_all = "snake_case")]
pub enum Message {
    /// A certificate was issued: its holder is told its code and where it
    /// can be verified.
    Certificate {
        to: String,
        /// The holder's language (`en`, else Chinese).
        lang: String,
        name: String,
        /// The course's title in her language.
        course: String,
        code: String,
    },
}

impl Message {
    /// The templates it is rendered with (`templates/emails/<name>/`).
    pub fn template(&self) -> &'static str {
        match self {
            Message::Certificate { .. } => "certificate",
        }
    }

    pub fn to(&self) -> &str {
        match self {
            Message::Certificate { to, .. } => to,
        }
    }

    /// The message a queued row holds, if it is one still to be rendered.
    pub fn of_row(row: &mail_outbox::Model) -> Option<Message> {
        if !row.subject.is_empty() || !row.html_body.is_empty() {
            return None;
        }
        serde_json::from_str(&row.text_body).ok()
    }

    /// Renders the message with the templates; `base_url` is the site's
    /// address, for links.
    pub fn render(&self, views: &Views, base_url: &str) -> AppResult<super::Rendered> {
        match self {
            Message::Certificate {
                to,
                lang,
                name,
                course,
                code,
            } => super::render(
                views,
                to,
                self.template(),
                lang,
                &serde_json::json!({"name": name, "course": course, "code": code,
                    "link": format!("{base_url}/certificates/{code}")}),
            ),
        }
    }
}

/// Queues a typed message in the outbox (inside the caller's transaction),
/// to be rendered when it is sent.
pub async fn enqueue_message(db: &impl ConnectionTrait, m: &Message) -> AppResult<()> {
    let json = serde_json::to_string(m).map_err(|e| AppError::Internal(e.into()))?;
    let row = super::Rendered {
        to: m.to().to_string(),
        template: m.template().to_string(),
        subject: String::new(),
        text: json,
        html: String::new(),
    };
    super::enqueue(db, &row).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn a_queued_message_is_known_by_its_row() {
        let m = Message::Certificate {
            to: "a@example.org".into(),
            lang: "en".into(),
            name: "Mei".into(),
            course: "Smartphone basics".into(),
            code: "ABCDE-12345".into(),
        };
        let now = Utc::now();
        let mut row = mail_outbox::Model {
            id: 1,
            to_addr: m.to().into(),
            template: m.template().into(),
            subject: String::new(),
            text_body: serde_json::to_string(&m).unwrap(),
            html_body: String::new(),
            state: crate::entities::mail_outbox::MailState::Queued,
            attempts: 0,
            next_attempt_at: now,
            claimed_until: None,
            last_error: None,
            sent_at: None,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(Message::of_row(&row), Some(m));
        // Once rendered (or rendered when queued), a row is sent as it is.
        row.subject = "fuzhi: your certificate".into();
        assert_eq!(Message::of_row(&row), None);
    }
}
