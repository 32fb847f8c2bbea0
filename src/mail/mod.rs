//! Mail: a transactional outbox and its sender.
//!
//! `queue` renders an email from `templates/emails/<name>/{subject,text,html}.<lang>.hbs`
//! and writes it to `mail_outbox` on the caller's connection, so a mail is
//! written in the same transaction as whatever causes it; `enqueue_message`
//! writes a typed `Message` instead, which the worker renders when it sends
//! it (for a transaction that holds no templates, as the event writer's). The worker in
//! `jobs.rs` claims due rows with a lease (`claimed_until`), sends them and
//! marks them sent; a crash between claim and send leaves the lease to run out
//! and the mail is sent after restart. Each row has a stable Message-ID, so a
//! crash after the SMTP server accepted a mail but before it was marked sent
//! yields at worst a duplicate that receivers can recognise.

mod message;

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::{MailTransport, Settings, SmtpTls};
use crate::entities::mail_outbox;
use crate::error::{AppError, AppResult};
use crate::views::Views;

pub use message::{Message, enqueue_message};

/// A message rendered from its templates, ready to be queued.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub to: String,
    pub template: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders a message in `lang` (`en`, else Chinese): done before a write
/// transaction begins, so that the transaction only inserts.
pub fn render<T: Serialize>(
    views: &Views,
    to: &str,
    template: &str,
    lang: &str,
    data: &T,
) -> AppResult<Rendered> {
    let lang = if lang == "en" { "en" } else { "zh-CN" };
    let mut ctx = serde_json::to_value(data).map_err(|e| AppError::Internal(e.into()))?;
    if let Some(o) = ctx.as_object_mut() {
        o.insert("lang".into(), lang.into());
    }
    let part = |p: &str| views.render(&format!("emails/{template}/{p}.{lang}"), &ctx);
    Ok(Rendered {
        to: to.to_string(),
        template: template.to_string(),
        subject: part("subject")?.trim().to_string(),
        text: part("text")?,
        html: part("html")?,
    })
}

/// Queues a rendered message in the outbox (inside the caller's transaction).
pub async fn enqueue(db: &impl ConnectionTrait, m: &Rendered) -> AppResult<()> {
    let now = Utc::now();
    mail_outbox::Entity::insert(mail_outbox::ActiveModel {
        to_addr: Set(m.to.clone()),
        template: Set(m.template.clone()),
        subject: Set(m.subject.clone()),
        text_body: Set(m.text.clone()),
        html_body: Set(m.html.clone()),
        state: Set(mail_outbox::MailState::Queued),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Renders a message and queues it (see `render`, `enqueue`).
pub async fn queue<T: Serialize>(
    db: &impl ConnectionTrait,
    views: &Views,
    to: &str,
    template: &str,
    lang: &str,
    data: &T,
) -> AppResult<()> {
    let m = render(views, to, template, lang, data)?;
    enqueue(db, &m).await
}

/// Where mail goes: files under `data/mail/` (the default) or an SMTP server.
pub enum Transport {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    pub fn from_settings(s: &Settings) -> anyhow::Result<Transport> {
        let m = &s.mail;
        match m.transport {
            MailTransport::File => {
                let dir = s.data_dir.join("mail");
                std::fs::create_dir_all(&dir).map_err(|e| {
                    anyhow::anyhow!("cannot create mail folder {}: {e}", dir.display())
                })?;
                Ok(Transport::File(AsyncFileTransport::new(dir)))
            }
            MailTransport::Smtp => {
                let mut b = match m.smtp_tls {
                    SmtpTls::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&m.smtp_host)
                    }
                    SmtpTls::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&m.smtp_host)?
                    }
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&m.smtp_host)?,
                }
                .port(m.smtp_port)
                .timeout(Some(Duration::from_secs(15)));
                if let (Some(u), Some(p)) = (&m.smtp_user, &m.smtp_password) {
                    b = b.credentials(Credentials::new(u.clone(), p.expose_secret().to_string()));
                }
                Ok(Transport::Smtp(b.build()))
            }
        }
    }

    pub async fn send(
        &self,
        from: &str,
        row: &mail_outbox::Model,
        host: &str,
    ) -> Result<(), String> {
        let msg = build(from, row, host)?;
        match self {
            Transport::File(t) => t.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

fn build(from: &str, row: &mail_outbox::Model, host: &str) -> Result<lettre::Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("bad sender address: {e}"))?;
    let to: Mailbox = row
        .to_addr
        .parse()
        .map_err(|e| format!("bad address {}: {e}", row.to_addr))?;
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(format!(
            "<outbox-{}-{}@{host}>",
            row.id,
            row.created_at.timestamp()
        )))
        .multipart(MultiPart::alternative_plain_html(
            row.text_body.clone(),
            row.html_body.clone(),
        ))
        .map_err(|e| e.to_string())
}

/// Delay before the next attempt: 30 s, 1 min, 2 min … capped at 6 h.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let secs = 30i64.saturating_mul(1i64 << attempts.clamp(0, 20));
    chrono::Duration::seconds(secs.min(6 * 3600))
}

/// When a claimed row's lease ends and another worker may take it.
pub fn lease_end(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::minutes(5)
}
