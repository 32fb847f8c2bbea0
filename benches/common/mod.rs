//! What the HTTP benchmarks share: learners enrolled in a course through the
//! API, each with a session token.

use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use serde_json::json;

/// `n` learners (logins `{prefix}NNNN`, 11 digits) of one demo village,
/// made in the database `db` and enrolled in `course` through the API of the
/// server at `base` (which signs with `jwt`); their tokens.
pub async fn enrolled_learners(
    db: &DatabaseConnection,
    jwt: &SecretString,
    base: &str,
    course: &str,
    prefix: &str,
    n: usize,
) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for i in 0..n {
        let u = fuzhi::accounts::users::create(
            db,
            None,
            &fuzhi::accounts::users::NewUser {
                login: format!("{prefix}{i:04}"),
                display_name: format!("learner {i}"),
                password: "bench-password".into(),
                role: "learner".into(),
                area_code: Some("530627102001".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let t = fuzhi::accounts::tokens::issue(
            jwt,
            u.id,
            0,
            fuzhi::accounts::tokens::Purpose::Session,
            chrono::Duration::hours(2),
        );
        let r = http
            .post(format!("{base}/api/v1/courses/{course}/enroll"))
            .bearer_auth(&t)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        tokens.push(t);
    }
    tokens
}
