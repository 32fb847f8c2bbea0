//! Security: accounts. Sign-in guessing and lockouts (findings 1, 12, 13),
//! what staff learn of accounts outside their area (14), who may write which
//! field of a user (7, 15), where a sign-in may send the browser (8), and
//! the limits on reset mails and on ID-number checks through imports (17, 19).

use futures_util::future::join_all;

use crate::engine_test;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, VILLAGE_A, VILLAGE_A2};

const PHONE: &str = "13912340000";
const PIN: &str = "482916";

/// An app behind a reverse proxy on 127.0.0.1 (the test client's address),
/// so that `X-Forwarded-For` stands for distinct clients.
fn behind_proxy(s: &mut fuzhi::config::Settings) {
    s.trusted_proxies = vec!["127.0.0.1".into()];
}

async fn pin_learner(app: &TestApp, phone: &str, area: &str) -> i64 {
    fuzhi::accounts::users::create(
        app.conn(),
        None,
        &fuzhi::accounts::users::NewUser {
            login: phone.into(),
            display_name: "李四".into(),
            password: PIN.into(),
            pin: true,
            role: "learner".into(),
            area_code: Some(area.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

/// One API sign-in from `addr` with `client` (its cookies).
async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    addr: &str,
    login: &str,
    secret: &str,
) -> (u16, Value) {
    let res = client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", addr)
        .json(&json!({"login": login, "password": secret}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Sign-ins sent all at once; their statuses, in the order given.
async fn burst(app: &TestApp, tries: &[(String, String)], login: &str) -> Vec<u16> {
    join_all(tries.iter().map(|(addr, secret)| {
        let client = crate::helpers::client();
        async move { sign_in(app, &client, addr, login, secret).await.0 }
    }))
    .await
}

fn wrong_pins(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{:06}", 100_000 + i))
        .filter(|p| p != PIN)
        .collect()
}

// ---- 1. PIN guessing by parallel sign-ins -----------------------------------------

async fn parallel_pin_guesses_are_counted_before_they_are_checked(app: TestApp) {
    app.seed_areas().await;
    pin_learner(&app, PHONE, VILLAGE_A).await;
    // The owner signed in on her phone before (it keeps a device cookie).
    let phone = crate::helpers::client();
    assert_eq!(
        sign_in(&app, &phone, "198.51.100.20", PHONE, PIN).await.0,
        200
    );

    // 200 wrong PINs at once from one address: only the free tries are checked.
    let one: Vec<(String, String)> = wrong_pins(200)
        .into_iter()
        .map(|p| ("203.0.113.5".to_string(), p))
        .collect();
    let statuses = burst(&app, &one, PHONE).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let free = app.state.settings.login_max_failures_pin as usize;
    assert!(
        checked <= free,
        "{checked} of 200 were checked: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(app.audit_count("sign_in_failed").await, checked as i64);

    // From 200 addresses, half through a second process, with the right PIN
    // in the middle of the burst: nothing is checked, the right PIN included.
    let sibling = app.sibling().await;
    let mut many: Vec<(String, String)> = wrong_pins(200)
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("10.{}.{}.9", i / 250, i % 250), p))
        .collect();
    many.insert(100, ("10.9.9.9".into(), PIN.into()));
    let statuses = join_all(many.iter().enumerate().map(|(i, (addr, secret))| {
        let client = crate::helpers::client();
        let url = if i % 2 == 0 {
            app.url("/api/v1/auth/login")
        } else {
            sibling.url("/api/v1/auth/login")
        };
        async move {
            client
                .post(url)
                .header("x-forwarded-for", addr)
                .json(&json!({"login": PHONE, "password": secret}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    }))
    .await;
    assert_eq!(
        statuses[100], 429,
        "the right PIN in the burst does not get in"
    );
    assert!(statuses.iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(app.audit_count("sign_in_failed").await, checked as i64);

    // After the wait, one more guess, whatever the burst: the waits grow.
    let mut waits = Vec::new();
    for round in 0..8 {
        let (status, _) =
            sign_in(&app, &crate::helpers::client(), "10.8.0.1", PHONE, "000000").await;
        let res = crate::helpers::client()
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", "10.8.0.2")
            .json(&json!({"login": PHONE, "password": "000001"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429, "round {round}: first status {status}");
        let wait: i64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        waits.push(wait);
        let before = app.audit_count("sign_in_failed").await;
        let tries: Vec<(String, String)> = wrong_pins(50)
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("10.7.{round}.{i}"), p))
            .collect();
        app.state.limiter.clock.advance(wait + 1);
        let statuses = burst(&app, &tries, PHONE).await;
        let checked = statuses.iter().filter(|s| **s == 401).count();
        assert_eq!(checked, 1, "one guess per wait: {statuses:?}");
        assert_eq!(app.audit_count("sign_in_failed").await, before + 1);
    }
    assert!(
        // (Retry-After may lose a second to the clock's tick.)
        waits.windows(2).all(|w| w[0] <= w[1] + 1),
        "waits grow: {waits:?}"
    );
    assert!(
        *waits.last().unwrap() <= 15 * 60,
        "and are bounded, so that the owner waits at most 15 minutes: {waits:?}"
    );
    assert!(
        *waits.last().unwrap() >= 15 * 60 - 1,
        "one guess in 15 minutes under a long attack: {waits:?}"
    );

    // The owner on her own phone is not slowed down, and is told.
    let (status, body) = sign_in(&app, &phone, "198.51.100.20", PHONE, PIN).await;
    assert_eq!(status, 200, "the owner's device signs in during the attack");
    assert!(
        body["failed_attempts"].as_u64().unwrap() >= 10,
        "she is told of the wrong PINs: {body}"
    );
    // Her trainer's area has the notice.
    assert!(app.audit_count("sign_in_locked").await >= 1);
    // A forged device cookie is a stranger.
    let forged = reqwest::Client::builder()
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(
                "cookie",
                "fuzhi_device=1-0123456789abcdef-00000000000000000000000000000000"
                    .parse()
                    .unwrap(),
            );
            h
        })
        .build()
        .unwrap();
    assert_eq!(
        sign_in(&app, &forged, "198.51.100.21", PHONE, PIN).await.0,
        429
    );
}
engine_test!(
    parallel_pin_guesses_are_counted_before_they_are_checked,
    settings = behind_proxy
);

// ---- 12. a village behind one address ----------------------------------------------

async fn a_village_behind_one_address_keeps_signing_in(app: TestApp) {
    let p = app.people().await;
    let _ = p;
    pin_learner(&app, PHONE, VILLAGE_A).await;
    pin_learner(&app, "13912340001", VILLAGE_A2).await;
    let village = "203.0.113.50";
    let c = crate::helpers::client();
    // An attacker in the village centre sprays wrong sign-ins over many logins.
    for i in 0..60 {
        let (s, _) = sign_in(
            &app,
            &c,
            village,
            &format!("nobody{i:03}"),
            "wrong-password",
        )
        .await;
        assert!([401, 429].contains(&s), "{s}");
    }
    // Everyone else there still signs in with the right credentials, first try.
    for (login, secret) in [
        (PHONE, PIN),
        ("official1", PASSWORD),
        ("trainer1", PASSWORD),
        ("13900000002", PASSWORD),
    ] {
        let (s, _) = sign_in(&app, &crate::helpers::client(), village, login, secret).await;
        assert_eq!(s, 200, "{login} behind the busy address");
    }
    // The attacker there gets one guess an account, not a budget.
    assert_eq!(
        sign_in(&app, &c, village, "13912340001", "000000").await.0,
        401
    );
    for guess in ["000001", "000002", PIN] {
        assert_eq!(
            sign_in(&app, &c, village, "13912340001", guess).await.0,
            429,
            "a second guess from the busy address"
        );
    }
}
engine_test!(
    a_village_behind_one_address_keeps_signing_in,
    settings = behind_proxy
);

// ---- 13. which phone numbers are accounts ----------------------------------------------

async fn unknown_accounts_answer_like_real_ones(app: TestApp) {
    app.people().await;
    pin_learner(&app, PHONE, VILLAGE_A).await;
    let c = crate::helpers::client();
    let mut answers = Vec::new();
    for login in [PHONE, "13912349999", "official1", "nosuchofficial"] {
        let mut seq = Vec::new();
        let mut times = Vec::new();
        for i in 0..13 {
            let t = std::time::Instant::now();
            let res = c
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", format!("198.18.0.{}", answers.len()))
                .json(&json!({"login": login, "password": format!("{:06}", 900_000 + i)}))
                .send()
                .await
                .unwrap();
            // Within a second or two (the clock may tick between the two runs).
            let retry = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap().div_ceil(5));
            seq.push((res.status().as_u16(), retry));
            if res.status() == 401 {
                times.push(t.elapsed());
            }
        }
        times.sort();
        answers.push((login, seq, times[times.len() / 2]));
    }
    assert_eq!(
        answers[0].1, answers[1].1,
        "a learner's phone and an unknown one"
    );
    assert_eq!(
        answers[2].1, answers[3].1,
        "a staff login and an unknown one"
    );
    // The unknown one is checked against a hash as slowly as a real one.
    for pair in answers.chunks(2) {
        let (real, unknown) = (pair[0].2, pair[1].2);
        assert!(
            unknown * 3 > real && real * 3 > unknown,
            "{}: {real:?}, {}: {unknown:?}",
            pair[0].0,
            pair[1].0
        );
    }
}
engine_test!(
    unknown_accounts_answer_like_real_ones,
    settings = behind_proxy
);

// ---- 7. mass assignment of user fields, 15. emptying a learner's area ---------------

/// A one-member household in `area`; the member's id.
async fn member_in(app: &TestApp, admin: i64, area: &str, n: u16) -> i64 {
    let admin = fuzhi::accounts::users::find(app.conn(), admin)
        .await
        .unwrap()
        .unwrap();
    let admin = fuzhi::accounts::users::actor_of(&admin);
    let key = app.state.secrets.id_hmac.clone();
    let key = secrecy::ExposeSecret::expose_secret(&key)
        .as_bytes()
        .to_vec();
    let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let id = fuzhi::households::NationalId::synthetic("530627", d, n).unwrap();
    let h = fuzhi::households::store::create(
        app.conn(),
        &admin,
        &key,
        &fuzhi::households::store::NewHousehold {
            registry_no: format!("SEC-{n}"),
            area_code: area.into(),
            primary_cause: Some("01".into()),
            members: vec![fuzhi::households::store::MemberInput {
                name: format!("成员{n}"),
                id_number: id.expose().to_owned(),
                relation: "head".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    fuzhi::households::store::get(app.conn(), &admin, h.id, false)
        .await
        .unwrap()
        .members[0]
        .id
}

async fn patch(app: &TestApp, token: &str, id: i64, body: Value) -> (u16, Value) {
    app.patch_json(&format!("/api/v1/users/{id}"), token, body)
        .await
}

async fn member_of(app: &TestApp, user: i64) -> Option<i64> {
    fuzhi::accounts::users::find(app.conn(), user)
        .await
        .unwrap()
        .unwrap()
        .member_id
}

async fn a_learner_cannot_link_herself_to_a_household_member(app: TestApp) {
    let p = app.people().await;
    let here = member_in(&app, p.admin, VILLAGE_A, 11).await;
    let elsewhere = member_in(&app, p.admin, crate::helpers::VILLAGE_B, 12).await;
    // The learner on herself, the trainer on a learner of her area: no link,
    // to a member of any area, and the field is named.
    for (who, target) in [(p.learner, p.learner), (p.trainer, p.learner_in)] {
        let token = app.token(who).await;
        for m in [here, elsewhere] {
            let (s, body) = patch(&app, &token, target, json!({"member_id": m})).await;
            assert_eq!(s, 422, "{body}");
            assert!(body.to_string().contains("member_id"), "{body}");
            assert_eq!(member_of(&app, target).await, None);
        }
        // Nor by creating an account.
        let (s, body) = app
            .post_json(
                "/api/v1/users",
                &token,
                json!({"login": "13700000077", "display_name": "x", "password": "135790",
                       "pin": true, "role": "learner", "area_code": VILLAGE_A, "member_id": here}),
            )
            .await;
        assert!([403, 422].contains(&s), "{s} {body}");
    }
    // An official links within her area; a member elsewhere answers like one
    // that does not exist.
    let official = app.token(p.official).await;
    let (s, a) = patch(&app, &official, p.learner, json!({"member_id": elsewhere})).await;
    assert_eq!(s, 422);
    let (s, b) = patch(&app, &official, p.learner, json!({"member_id": 999_999})).await;
    assert_eq!(s, 422);
    assert_eq!(a, b, "the same answer for a member elsewhere and none");
    let (s, body) = patch(&app, &official, p.learner, json!({"member_id": here})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(member_of(&app, p.learner).await, Some(here));
    // A member linked already is not taken over.
    let (s, _) = patch(&app, &official, p.learner_in, json!({"member_id": here})).await;
    assert_eq!(s, 409);
    // Sending back what is there is not a write.
    let learner = app.token(p.learner).await;
    let (s, body) = patch(
        &app,
        &learner,
        p.learner,
        json!({"member_id": here, "display_name": "王五"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
}
engine_test!(a_learner_cannot_link_herself_to_a_household_member);

/// Every field of the user body, for every role, against `fields::WRITABLE`.
async fn every_user_field_is_written_only_by_the_roles_listed(app: TestApp) {
    use fuzhi::accounts::Role;
    use fuzhi::accounts::users::fields::{Field, Target, may_write};
    let p = app.people().await;
    let here = member_in(&app, p.admin, VILLAGE_A, 21).await;
    let mut n = 0;
    for (role, actor) in [
        (Role::Learner, None),
        (Role::Trainer, Some(p.trainer)),
        (Role::Official, Some(p.official)),
        (Role::Admin, Some(p.admin)),
    ] {
        for field in Field::ALL {
            n += 1;
            // A fresh learner in village A each time; the learner acts on herself.
            let target = app
                .user(&format!("137000001{n:02}"), "learner", Some(VILLAGE_A))
                .await;
            let (who, t) = match actor {
                None => (target, Target::Own),
                Some(a) => (a, Target::Managed),
            };
            let value = match field {
                Field::DisplayName => json!("新名字"),
                Field::Email => json!("new@example.com"),
                Field::Role => json!("trainer"),
                Field::AreaCode => json!(VILLAGE_A2),
                Field::Disabled => json!(true),
                Field::MemberId => json!(here),
            };
            if field == Field::MemberId {
                // One account per member: free it first.
                use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
                for u in fuzhi::entities::app_user::Entity::find()
                    .all(app.conn())
                    .await
                    .unwrap()
                {
                    if u.member_id.is_some() {
                        let mut am: fuzhi::entities::app_user::ActiveModel = u.into();
                        am.member_id = Set(None);
                        am.update(app.conn()).await.unwrap();
                    }
                }
            }
            let token = app.token(who).await;
            let (s, body) = patch(&app, &token, target, json!({field.name(): value})).await;
            let allowed = may_write(role, t, field);
            if allowed {
                assert_eq!(s, 200, "{role:?} {field:?}: {body}");
            } else {
                assert_eq!(s, 422, "{role:?} {field:?}: {body}");
                assert!(
                    body["error"]["fields"][field.name()].is_string(),
                    "{role:?} {field:?}: {body}"
                );
            }
        }
    }
    // What the table says, in words.
    assert!(!may_write(Role::Learner, Target::Own, Field::MemberId));
    assert!(!may_write(Role::Trainer, Target::Managed, Field::MemberId));
    assert!(may_write(Role::Official, Target::Managed, Field::MemberId));
    assert!(!may_write(Role::Learner, Target::Own, Field::AreaCode));
}
engine_test!(every_user_field_is_written_only_by_the_roles_listed);

async fn staff_cannot_empty_a_learners_area(app: TestApp) {
    let p = app.people().await;
    for who in [p.trainer, p.official, p.admin] {
        let token = app.token(who).await;
        for empty in ["", "  "] {
            let (s, body) = patch(&app, &token, p.learner, json!({"area_code": empty})).await;
            assert_eq!(s, 422, "{body}");
            assert!(body["error"]["fields"]["area_code"].is_string(), "{body}");
        }
    }
    let u = fuzhi::accounts::users::find(app.conn(), p.learner)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.area_code.as_deref(), Some(VILLAGE_A));
    // Nor by creating a learner without one, or making a staff member a learner without one.
    let admin = app.token(p.admin).await;
    let (s, body) = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({"login": "13700000088", "display_name": "x", "password": "135790",
                   "pin": true, "role": "learner"}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let (s, body) = patch(&app, &admin, p.admin, json!({"role": "learner"})).await;
    assert!([422].contains(&s), "{s} {body}");
}
engine_test!(staff_cannot_empty_a_learners_area);

// ---- 8. open redirect after sign-in by dot segments ---------------------------------

/// Where a browser on `page` goes for `Location: location`: this site or not.
fn stays_here(location: &str) -> bool {
    let base = url::Url::parse("http://fuzhi.invalid/a/b").unwrap();
    // Browsers also treat `\` as `/` and drop tabs and newlines.
    let cleaned: String = location
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    base.join(&cleaned)
        .is_ok_and(|u| u.origin() == base.origin())
        && !cleaned.starts_with("//")
}

fn check_next(next: &str) -> Result<(), String> {
    let Some(out) = fuzhi::web::pages::safe_next(Some(next)) else {
        return Ok(());
    };
    if !out.starts_with('/') || !stays_here(&out) {
        return Err(format!("{next:?} -> {out:?} leaves the site"));
    }
    // Decoded once more (a proxy or a later step may), it still stays here.
    let decoded: String = {
        let b = out.as_bytes();
        let mut v = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%'
                && i + 2 < b.len()
                && let Ok(x) = u8::from_str_radix(&out[i + 1..i + 3], 16)
            {
                v.push(x);
                i += 3;
                continue;
            }
            v.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&v).into_owned()
    };
    if !stays_here(&decoded) {
        return Err(format!(
            "{next:?} -> {out:?} leaves the site once decoded ({decoded:?})"
        ));
    }
    if fuzhi::web::pages::safe_next(Some(&out)).as_deref() != Some(out.as_str()) {
        return Err(format!("{next:?} -> {out:?} is not kept as it is"));
    }
    Ok(())
}

#[test]
fn dot_segment_variants_are_refused() {
    for next in [
        "/.//evil.example",
        "/././/evil.example/x",
        "/x/..//evil.example",
        "/x/../..//evil.example",
        "/%2e//evil.example",
        "/%2E%2E//evil.example",
        "/.%2e//evil.example",
        "/%2e/%2fevil.example",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%5Cevil.example",
        "/.%5Cevil.example",
        "/./%09/evil.example",
    ] {
        check_next(next).unwrap();
        assert!(
            fuzhi::web::pages::safe_next(Some(next))
                .is_none_or(|o| !o.contains("evil.example") || o.starts_with("/x")),
            "{next:?} -> {:?}",
            fuzhi::web::pages::safe_next(Some(next))
        );
    }
    assert_eq!(
        fuzhi::web::pages::safe_next(Some("/a/./b/../c?x=1")).as_deref(),
        Some("/a/c?x=1")
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    #[test]
    fn generated_next_paths_stay_on_this_site(parts in proptest::collection::vec(
        proptest::sample::select(vec![
            "/", "//", ".", "..", "%2e", "%2E", "%2e%2e", "%2f", "%2F", "\\", "%5c", "%5C",
            "evil.example", "@", ":", "%09", "\t", "%00", "%252f", "?", "#", "a", "http:", "%3a",
        ]),
        0..8,
    )) {
        let next = format!("/{}", parts.concat());
        proptest::prop_assert!(check_next(&next).is_ok(), "{}", check_next(&next).unwrap_err());
    }
}

async fn sign_in_with_dot_segments_stays_here(app: TestApp) {
    app.people().await;
    for next in [
        "/.//evil.example",
        "/x/..//evil.example/",
        "/%2e%2e//evil.example",
    ] {
        let client = crate::helpers::client();
        let page = client
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let pre = crate::helpers::between(&page, "name=\"csrf\" value=\"", "\"").unwrap();
        let res = client
            .post(app.url("/login"))
            .form(&[
                ("csrf", pre.as_str()),
                ("login", "official1"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/", "next={next:?}");
        let res = client
            .get(app.url("/login"))
            .query(&[("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/", "signed in, next={next:?}");
    }
}
engine_test!(sign_in_with_dot_segments_stays_here);

// ---- 17. reset mails without limit ---------------------------------------------------

async fn reset(app: &TestApp, addr: &str, login: &str) -> u16 {
    app.client
        .post(app.url("/api/v1/auth/reset-request"))
        .header("x-forwarded-for", addr)
        .json(&json!({"login": login}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn reset_mails_are_limited_per_account_and_address(app: TestApp) {
    app.seed_areas().await;
    for login in ["mailtrainer", "mailtrainer2"] {
        fuzhi::accounts::users::create(
            app.conn(),
            None,
            &fuzhi::accounts::users::NewUser {
                login: login.into(),
                display_name: "T".into(),
                email: Some(format!("{login}@example.com")),
                password: PASSWORD.into(),
                role: "trainer".into(),
                area_code: Some(VILLAGE_A.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let limit = fuzhi::accounts::signin::RESET_MAILS_PER_LOGIN as i64;
    // From one address, then from many: one account gets at most its few mails.
    for i in 0..20 {
        assert_eq!(reset(&app, "203.0.113.70", "mailtrainer").await, 202);
        assert_eq!(
            reset(&app, &format!("10.70.0.{i}"), "mailtrainer").await,
            202
        );
    }
    assert_eq!(app.count("mail_outbox").await, limit);
    // An unknown login answers the same, as often.
    for i in 0..20 {
        assert_eq!(
            reset(&app, &format!("10.71.0.{i}"), "nosuchtrainer").await,
            202
        );
    }
    // One address asking for many logins is held off too.
    for i in 0..fuzhi::accounts::signin::RESET_REQUESTS_PER_ADDRESS {
        reset(&app, "203.0.113.71", &format!("nobody{i:03}")).await;
    }
    assert_eq!(reset(&app, "203.0.113.71", "mailtrainer2").await, 202);
    assert_eq!(
        app.count("mail_outbox").await,
        limit,
        "no mail past the address's limit"
    );
    // Another address still gets the account its mail.
    assert_eq!(reset(&app, "203.0.113.72", "mailtrainer2").await, 202);
    assert_eq!(app.count("mail_outbox").await, limit + 1);
}
engine_test!(
    reset_mails_are_limited_per_account_and_address,
    settings = behind_proxy
);

// ---- 14. whether a login exists in another area ---------------------------------------

async fn create_learner(app: &TestApp, token: &str, login: &str) -> (u16, Value) {
    app.post_json(
        "/api/v1/users",
        token,
        json!({"login": login, "display_name": "新学员", "password": "135790", "pin": true,
               "role": "learner", "area_code": VILLAGE_A}),
    )
    .await
}

async fn import_csv(app: &TestApp, token: &str, csv: String) -> (u16, Value) {
    app.import(token, "/api/v1/users/import", "text/csv", csv)
        .await
}

async fn staff_learn_nothing_of_logins_outside_their_area(app: TestApp) {
    let p = app.people().await;
    let trainer = app.token(p.trainer).await;
    // Inside her area: the plain answer.
    let (s, inside) = create_learner(&app, &trainer, "13900000002").await;
    assert_eq!(s, 409, "{inside}");
    // Outside: a learner of another township, a staff login: one answer that
    // says neither where nor whose, and an audit row where both are seen.
    let (s, learner_b) = create_learner(&app, &trainer, "13900000003").await;
    assert_eq!(s, 409, "{learner_b}");
    let (s, staff) = create_learner(&app, &trainer, "official1").await;
    assert_eq!(s, 409, "{staff}");
    assert_eq!(learner_b, staff, "the same answer whoever holds the login");
    for word in ["13900000003", "already taken", "530627103", "黑树"] {
        assert!(
            !learner_b.to_string().contains(word),
            "{word} in {learner_b}"
        );
    }
    assert_ne!(inside, learner_b);
    assert_eq!(app.audit_count("conflict").await, 2);
    // In bulk: an import that creates nothing says how many, not which.
    let mut csv = "name,phone,pin,area_code\n".to_string();
    for login in [
        "13900000003",
        "admin1",
        "official1",
        "trainer1",
        "13912345678",
    ] {
        csv.push_str(&format!("某人,{login},135790,{VILLAGE_A}\n"));
    }
    let (s, body) = import_csv(&app, &trainer, csv).await;
    assert_eq!(s, 422, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("4 phone numbers cannot be used here"),
        "{body}"
    );
    for row in [2, 3, 4, 5] {
        assert!(
            !text.contains(&format!("\"row\":{row}")),
            "row {row} named: {body}"
        );
    }
    assert_eq!(
        app.audit_count("conflict").await,
        6,
        "audited after the rollback"
    );
    assert_eq!(app.count("app_user").await, 6, "nothing created");
    // Probing has a daily allowance; past it, creating is refused whatever the login.
    for i in 0..20 {
        create_learner(
            &app,
            &trainer,
            if i % 2 == 0 { "admin1" } else { "13900000003" },
        )
        .await;
    }
    let (s, body) = create_learner(&app, &trainer, "13912345679").await;
    assert_eq!(s, 422, "{body}");
    assert!(body["error"]["fields"]["login"].is_string(), "{body}");
    // Other staff are not concerned.
    let official = app.token(p.official).await;
    let (s, body) = create_learner(&app, &official, "13912345679").await;
    assert_eq!(s, 201, "{body}");
}
engine_test!(staff_learn_nothing_of_logins_outside_their_area);

// ---- 19. probing the cross-area ID check through imports ------------------------------

fn synthetic_id(n: u16) -> String {
    let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    fuzhi::households::NationalId::synthetic("530627", d, n)
        .unwrap()
        .expose()
        .to_owned()
}

async fn import_households(app: &TestApp, token: &str, ids: &[String], tag: &str) -> (u16, Value) {
    let mut csv = "户编号,行政区划代码,主要致贫原因,姓名,身份证号,与户主关系\n".to_string();
    for (i, id) in ids.iter().enumerate() {
        csv.push_str(&format!("P-{tag}-{i},{VILLAGE_A},07,张三,{id},户主\n"));
    }
    app.import(token, "/api/v1/households/import", "text/csv", csv)
        .await
}

async fn id_numbers_of_other_areas_cannot_be_probed_in_bulk(app: TestApp) {
    let p = app.people().await;
    // Ten people registered in township B.
    for n in 31..41 {
        member_in(&app, p.admin, crate::helpers::VILLAGE_B, n).await;
    }
    let held: Vec<String> = (31..41).map(synthetic_id).collect();
    let official = app.token(p.official).await;
    let (s, body) = import_households(&app, &official, &held, "a").await;
    assert_eq!(s, 422, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("10 ID or registry numbers cannot be used here"),
        "{body}"
    );
    for row in 2..12 {
        assert!(
            !text.contains(&format!("\"row\":{row}")),
            "row {row} named: {body}"
        );
    }
    // One audit row for the batch (besides the clash rows for the wider area).
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let batch = fuzhi::entities::change_event::Entity::find()
        .filter(fuzhi::entities::change_event::Column::Entity.eq("household_import"))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(batch, 1);
    // A daily allowance: past it, imports are refused before any lookup,
    // whatever the file holds.
    let mut refused_at = None;
    for round in 0..20 {
        let (s, _) = import_households(&app, &official, &held, &format!("r{round}")).await;
        if s == 400 {
            refused_at = Some(round);
            break;
        }
        assert_eq!(s, 422);
    }
    assert!(refused_at.is_some_and(|r| r <= 10), "{refused_at:?}");
    let fresh: Vec<String> = (60..62).map(synthetic_id).collect();
    let (s, body) = import_households(&app, &official, &fresh, "fresh").await;
    assert_eq!(s, 400, "{body}");
    // A few mistakes are still named row by row.
    let other = app
        .user("official2", "official", Some(crate::helpers::TOWNSHIP_A))
        .await;
    let other = app.token(other).await;
    let (s, body) = import_households(&app, &other, &held[..2], "few").await;
    assert_eq!(s, 422);
    assert!(body.to_string().contains("\"row\":2"), "{body}");
}
engine_test!(id_numbers_of_other_areas_cannot_be_probed_in_bulk);
