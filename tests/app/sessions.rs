//! Sessions held in memory stay correct across processes: a sign-out, a
//! disabled account or a new role made through one app holds in a second app
//! on the same database within the stated bound (1 s), and at once in the app
//! that made it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::engine_test;
use crate::helpers::TestApp;

/// The README's bound on how long another process may still honour a
/// session that was ended or changed.
const BOUND: Duration = Duration::from_secs(1);

/// Repeats a bearer GET until it answers `want`; the time that took.
async fn until_status(client: &reqwest::Client, url: &str, token: &str, want: u16) -> Duration {
    let start = Instant::now();
    loop {
        let got = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if got == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < BOUND * 3,
            "{url} still answers {got}, not {want}, after {:?}",
            start.elapsed()
        );
        tokio::task::yield_now().await;
    }
}

async fn status(client: &reqwest::Client, url: &str, token: &str) -> u16 {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn sign_out_disable_and_role_change_reach_a_second_process(app: TestApp) {
    let p = app.people().await;
    let other = app.sibling().await;
    let me = "/api/v1/me";
    let households = "/api/v1/households";

    // Sign-out of one token, made through the first process.
    let learner = app.token(p.learner).await;
    assert_eq!(status(&other.client, &other.url(me), &learner).await, 200);
    let out = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&learner)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    assert_eq!(status(&app.client, &app.url(me), &learner).await, 401);
    let took = until_status(&other.client, &other.url(me), &learner, 401).await;
    assert!(
        took <= BOUND,
        "sign-out reached the second process after {took:?}"
    );

    // A disabled account, through the first process.
    let admin = app.token(p.admin).await;
    let other_learner = app.token(p.learner_in).await;
    assert_eq!(
        status(&other.client, &other.url(me), &other_learner).await,
        200
    );
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", p.learner_in)))
        .bearer_auth(&admin)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    assert_eq!(status(&app.client, &app.url(me), &other_learner).await, 401);
    let took = until_status(&other.client, &other.url(me), &other_learner, 401).await;
    assert!(
        took <= BOUND,
        "disabling reached the second process after {took:?}"
    );

    // A trainer made an official of the same township: her old sessions end
    // everywhere (a new role takes effect at once), and a new one opens the
    // registry in the second process.
    let trainer = app.token(p.trainer).await;
    assert_eq!(
        status(&other.client, &other.url(households), &trainer).await,
        403
    );
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", p.trainer)))
        .bearer_auth(&admin)
        .json(&json!({"role": "official"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        status(&app.client, &app.url(households), &trainer).await,
        401
    );
    let took = until_status(&other.client, &other.url(households), &trainer, 401).await;
    assert!(
        took <= BOUND,
        "the role change reached the second process after {took:?}"
    );
    let official_now = app.token(p.trainer).await;
    assert_eq!(
        status(&other.client, &other.url(households), &official_now).await,
        200
    );

    // Nothing else was dropped: the other sessions still work in both.
    let official = app.token(p.official).await;
    assert_eq!(
        status(&other.client, &other.url(households), &official).await,
        200
    );
    assert_eq!(status(&app.client, &app.url(me), &admin).await, 200);
}
engine_test!(sign_out_disable_and_role_change_reach_a_second_process);

/// Once a user is known, a signed-in request reads nothing of the session
/// from the database: the cache answers, and it holds one entry a user.
async fn a_known_session_is_authorized_from_memory(app: TestApp) {
    let p = app.people().await;
    let token = app.token(p.learner).await;
    for _ in 0..5 {
        assert_eq!(
            status(&app.client, &app.url("/api/v1/me"), &token).await,
            200
        );
    }
    assert_eq!(app.state.sessions.cached_users(), 1);
    // The row changes underneath without a change note: memory still answers
    // (this is what the note is for) ...
    use sea_orm::{ConnectionTrait, Statement};
    app.conn()
        .execute_raw(Statement::from_string(
            app.conn().get_database_backend(),
            format!(
                "UPDATE app_user SET token_version = token_version + 1 WHERE id = {}",
                p.learner
            ),
        ))
        .await
        .unwrap();
    assert_eq!(
        status(&app.client, &app.url("/api/v1/me"), &token).await,
        200
    );
    // ... and with the note, it does not.
    fuzhi::accounts::sessions::note_user(app.conn(), p.learner)
        .await
        .unwrap();
    app.state.sessions.refresh(app.conn()).await.unwrap();
    assert_eq!(
        status(&app.client, &app.url("/api/v1/me"), &token).await,
        401
    );
}
engine_test!(a_known_session_is_authorized_from_memory);
