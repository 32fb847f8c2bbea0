//! The outbox: real SMTP delivery, retries, crash safety, the emails people need.

use chrono::Utc;
use fuzhi::entities::mail_outbox;
use fuzhi::jobs;
use fuzhi::mail::Transport;
use sea_orm::EntityTrait;

use crate::engine_test;
use crate::helpers::{PASSWORD, TestApp, VILLAGE_A};
use crate::support::{Browser, Smtp, text_part};

fn smtp_transport(app: &TestApp, port: u16) -> Transport {
    let mut s = app.db.settings();
    s.mail.transport = fuzhi::config::MailTransport::Smtp;
    s.mail.smtp_host = "127.0.0.1".into();
    s.mail.smtp_port = port;
    s.mail.smtp_tls = fuzhi::config::SmtpTls::None;
    Transport::from_settings(&s).unwrap()
}

async fn official_with_email(app: &TestApp) -> i64 {
    app.seed_areas().await;
    fuzhi::accounts::users::create(
        app.conn(),
        None,
        &fuzhi::accounts::users::NewUser {
            login: "mei.official".into(),
            display_name: "梅".into(),
            email: Some("mei@example.org".into()),
            password: PASSWORD.into(),
            role: "official".into(),
            area_code: Some("530627102000".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

async fn outbox(app: &TestApp) -> Vec<mail_outbox::Model> {
    mail_outbox::Entity::find().all(app.conn()).await.unwrap()
}

async fn mail_waits_for_the_smtp_server_and_is_delivered_once(app: TestApp) {
    official_with_email(&app).await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/reset-request"))
        .json(&serde_json::json!({"login": "mei.official"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    // No enumeration: an unknown login answers the same and queues nothing.
    let res = app
        .client
        .post(app.url("/api/v1/auth/reset-request"))
        .json(&serde_json::json!({"login": "nobody.here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(outbox(&app).await.len(), 1);

    let dir = tempfile::tempdir().unwrap();
    let mut smtp = Smtp::new(dir.path());
    let transport = smtp_transport(&app, smtp.port);
    let now = Utc::now();
    // The server is down: the mail stays queued with a later retry time.
    assert_eq!(
        jobs::run_once(&app.state, &transport, now).await.unwrap(),
        0
    );
    let m = &outbox(&app).await[0];
    assert_eq!(
        (m.state, m.attempts),
        (fuzhi::entities::mail_outbox::MailState::Queued, 1)
    );
    assert!(m.next_attempt_at > now);
    assert!(m.last_error.is_some());
    smtp.start().await;
    // Not yet due: nothing is sent before the backoff ends.
    assert_eq!(
        jobs::run_once(&app.state, &transport, now).await.unwrap(),
        0
    );
    let later = m.next_attempt_at + chrono::Duration::seconds(1);
    assert_eq!(
        jobs::run_once(&app.state, &transport, later).await.unwrap(),
        1
    );
    assert_eq!(
        jobs::run_once(&app.state, &transport, later + chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 1, "delivered exactly once");
    let raw = &msgs[0];
    assert!(raw.contains("To: mei@example.org"), "{raw}");
    assert!(raw.contains("multipart/alternative"));
    assert!(raw.contains("text/plain") && raw.contains("text/html"));
    assert!(raw.contains("Message-ID: <outbox-"));
    let m = &outbox(&app).await[0];
    assert_eq!(m.state, fuzhi::entities::mail_outbox::MailState::Sent);

    // The link in the mail sets a new password, once, and revokes old sessions.
    let text = text_part(raw);
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/reset?token="))
        .expect("link in the mail")
        .to_string();
    let token = link.split("token=").nth(1).unwrap().to_string();
    let old = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "mei.official", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let old: serde_json::Value = old.json().await.unwrap();
    let old = old["token"].as_str().unwrap().to_string();
    let res = app
        .client
        .post(app.url("/api/v1/auth/reset"))
        .json(&serde_json::json!({"token": token, "password": "a-brand-new-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .client
        .post(app.url("/api/v1/auth/reset"))
        .json(&serde_json::json!({"token": token, "password": "another-new-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "single use");
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&old)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "old tokens revoked");
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "mei.official", "password": "a-brand-new-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A reset token is no session token.
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
engine_test!(mail_waits_for_the_smtp_server_and_is_delivered_once);

async fn a_crash_between_claim_and_send_loses_nothing(app: TestApp) {
    official_with_email(&app).await;
    fuzhi::accounts::signin::request_reset(&app.state, "mei.official", "127.0.0.1")
        .await
        .unwrap();
    let now = Utc::now();
    // A worker claims the mail, then its process dies before sending.
    let claimed = jobs::claim(&app.state, now).await.unwrap();
    assert_eq!(claimed.len(), 1);
    drop(claimed);
    // Restart: a new process on the same database.
    let restarted = fuzhi::prepare(app.db.settings()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut smtp = Smtp::new(dir.path());
    smtp.start().await;
    let transport = smtp_transport(&app, smtp.port);
    // While the dead worker's lease holds, nobody else takes the mail …
    assert_eq!(
        jobs::run_once(&restarted, &transport, now).await.unwrap(),
        0
    );
    // … and once it runs out, the mail is sent.
    let after = fuzhi::mail::lease_end(now) + chrono::Duration::seconds(1);
    assert_eq!(
        jobs::run_once(&restarted, &transport, after).await.unwrap(),
        1
    );
    assert_eq!(smtp.messages().len(), 1);
    // Two workers never take the same row.
    fuzhi::accounts::signin::request_reset(&app.state, "mei.official", "127.0.0.1")
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        jobs::claim(&app.state, after),
        jobs::claim(&restarted, after)
    );
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 1);
}
engine_test!(a_crash_between_claim_and_send_loses_nothing);

async fn failed_mail_can_be_retried_by_an_admin(app: TestApp) {
    official_with_email(&app).await;
    fuzhi::accounts::signin::request_reset(&app.state, "mei.official", "127.0.0.1")
        .await
        .unwrap();
    let transport = smtp_transport(&app, crate::support::free_port());
    let mut t = Utc::now();
    for _ in 0..app.state.settings.mail.max_attempts {
        jobs::run_once(&app.state, &transport, t).await.unwrap();
        t += chrono::Duration::hours(7);
    }
    let m = outbox(&app).await.remove(0);
    assert_eq!(m.state, fuzhi::entities::mail_outbox::MailState::Failed);
    let admin = app.user("boss", "admin", None).await;
    let token = app.token(admin).await;
    let page = app
        .client
        .get(app.url("/admin/mail?state=failed"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("mei@example.org"));
    let res = app
        .client
        .post(app.url(&format!("/admin/mail/{}/retry", m.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        outbox(&app).await[0].state,
        fuzhi::entities::mail_outbox::MailState::Queued
    );
}
engine_test!(failed_mail_can_be_retried_by_an_admin);

/// The outbox opens on mail there is, not on an empty list: with nothing
/// failed, the queued mail shows, and each list says how many it holds.
async fn the_outbox_opens_on_mail_there_is(app: TestApp) {
    official_with_email(&app).await;
    fuzhi::accounts::signin::request_reset(&app.state, "mei.official", "127.0.0.1")
        .await
        .unwrap();
    let admin = app.user("boss", "admin", None).await;
    let token = app.token(admin).await;
    let (s, page) = app.page(&token, "/admin/mail?lang=zh-CN").await;
    assert_eq!(s, 200);
    assert!(page.contains("mei@example.org"), "{page}");
    assert!(
        page.contains("href=\"?state=queued\" aria-current=\"page\""),
        "{page}"
    );
    assert!(page.contains("（0）") && page.contains("（1）"), "{page}");
}
engine_test!(the_outbox_opens_on_mail_there_is);

async fn welcome_and_weekly_digest_mails_are_queued(app: TestApp) {
    let official = official_with_email(&app).await;
    let token = app.token(official).await;
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"login": "13655550000", "display_name": "新学员", "email": "learner@example.org",
            "password": "135790", "pin": true, "role": "learner", "area_code": VILLAGE_A, "locale": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].template, "welcome");
    assert!(mails[0].text_body.contains("13655550000"));
    assert!(!mails[0].text_body.contains("135790"), "never the PIN");
    let now = Utc::now();
    assert_eq!(
        fuzhi::reports::digest::queue_due(&app.state, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        fuzhi::reports::digest::queue_due(&app.state, now)
            .await
            .unwrap(),
        0,
        "once a week"
    );
    let digest = outbox(&app)
        .await
        .into_iter()
        .find(|m| m.template == "digest")
        .unwrap();
    assert!(digest.subject.contains("泼机镇"), "{}", digest.subject);
}
engine_test!(welcome_and_weekly_digest_mails_are_queued);

/// Password reset as a person does it, in headless Chromium.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_in_the_browser() {
    let app = TestApp::spawn(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    official_with_email(&app).await;
    let old = app
        .token(
            fuzhi::accounts::users::find_by_login(app.conn(), "mei.official")
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut smtp = Smtp::new(dir.path());
    smtp.start().await;
    let transport = smtp_transport(&app, smtp.port);
    let b = Browser::start(false).await;
    b.goto(&app.url("/login?lang=en")).await;
    b.click("a[href='/reset-request']").await;
    b.fill("#login", "mei.official").await;
    b.click("button[type=submit]").await;
    b.wait_text("the link is on its way").await;
    assert_eq!(
        jobs::run_once(&app.state, &transport, Utc::now())
            .await
            .unwrap(),
        1
    );
    let raw = smtp.messages().pop().expect("mail at the SMTP server");
    let link = text_part(&raw)
        .split_whitespace()
        .find(|w| w.contains("/reset?token="))
        .unwrap()
        .to_string();
    b.goto(&link).await;
    b.fill("#password", "my-new-secret-9").await;
    b.click("button[type=submit]").await;
    b.wait_url("/login").await;
    b.fill("#login", "mei.official").await;
    b.fill("#password", "my-new-secret-9").await;
    b.click("button[type=submit]").await;
    b.wait_url("/office").await;
    b.close().await;
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&old)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "old tokens revoked");
}

/// A certificate's mail is queued with the certificate as a typed message
/// (no templates in the transaction that issues it) and rendered by the mail
/// worker, with the site's address, when it is sent; the outbox then keeps
/// the mail as it was sent.
async fn certificate_mail_is_rendered_by_the_worker(app: TestApp) {
    let p = app.people().await;
    app.import_course("smartphone-basics").await;
    let admin = app.token(p.admin).await;
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", p.learner)))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"email": "xiu@example.org"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let info = app
        .state
        .content
        .published(app.conn(), "smartphone-basics")
        .await
        .unwrap()
        .unwrap();
    let code = fuzhi::learning::certificates::issue(app.conn(), p.learner, &info)
        .await
        .unwrap();
    let queued = outbox(&app).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].template, "certificate");
    assert_eq!(queued[0].to_addr, "xiu@example.org");
    assert!(queued[0].subject.is_empty(), "rendered when it is sent");

    let dir = tempfile::tempdir().unwrap();
    let mut s = app.db.settings();
    s.mail.transport = fuzhi::config::MailTransport::File;
    s.data_dir = dir.path().to_path_buf();
    let transport = Transport::from_settings(&s).unwrap();
    assert_eq!(
        jobs::run_once(&app.state, &transport, Utc::now())
            .await
            .unwrap(),
        1
    );
    let sent = outbox(&app).await.remove(0);
    assert_eq!(sent.state, fuzhi::entities::mail_outbox::MailState::Sent);
    let title = fuzhi::learning::content::text(&info.course.title_json, "zh-CN", "zh-CN");
    assert!(sent.subject.contains(&title), "{}", sent.subject);
    let link = format!("{}/certificates/{code}", app.state.settings.base_url());
    assert!(sent.text_body.contains(&link), "{}", sent.text_body);
    assert!(sent.html_body.contains(&code), "{}", sent.html_body);
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].contains("To: xiu@example.org"), "{}", files[0]);
}
engine_test!(certificate_mail_is_rendered_by_the_worker);
