//! The trainer's forms in bulk: cohort enrolment by village with ticks
//! kept across pages, login slips for a class, and the new learner's village
//! picked by name.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

use super::{new_class, setup};
use crate::engine_test;
use crate::helpers::{COURSE, TOWNSHIP_A, TestApp, VILLAGE_A, VILLAGE_A2, between};

async fn cohort_enrolment_filters_by_village_and_keeps_ticks(app: TestApp) {
    let (p, t) = setup(&app).await;
    // The filter offers villages by name.
    let (_, html) = app.page(&t, "/teach/learners?lang=zh-CN").await;
    let select = between(
        &html,
        "<select id=\"village\" name=\"village\">",
        "</select>",
    )
    .expect("a village filter");
    assert!(
        select.contains(&format!("<option value=\"{VILLAGE_A}\" >新街村</option>")),
        "{select}"
    );
    assert!(!select.contains("黑树"), "{select}");
    // Only village A's learners.
    let (_, html) = app
        .page(
            &t,
            &format!("/teach/learners?village={VILLAGE_A}&lang=zh-CN"),
        )
        .await;
    assert!(html.contains(&format!("value=\"{}\"", p.learner)), "{html}");
    assert!(
        !html.contains(&format!("value=\"{}\"", p.learner_in)),
        "{html}"
    );
    assert!(
        html.contains(&format!("<option value=\"{VILLAGE_A}\" selected>")),
        "{html}"
    );

    // A learner ticked, then the list turned to another village: the tick is
    // kept as a hidden field, and counted.
    let (s, _, html) = app
        .post_form(
            &t,
            "/teach/learners?lang=zh-CN",
            &[
                ("village", VILLAGE_A2.to_string()),
                ("page", "1".to_string()),
                ("user", p.learner.to_string()),
                ("user", p.learner_out.to_string()),
            ],
        )
        .await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains(&format!(
            "<input type=\"hidden\" name=\"user\" value=\"{}\">",
            p.learner
        )),
        "{html}"
    );
    assert!(
        !html.contains(&format!("value=\"{}\"", p.learner_out)),
        "a learner outside the area is dropped: {html}"
    );
    assert!(html.contains("已勾选 1 人"), "{html}");
    // Back on village A, she is ticked.
    let (_, _, html) = app
        .post_form(
            &t,
            "/teach/learners?lang=en",
            &[
                ("village", VILLAGE_A.to_string()),
                ("page", "1".to_string()),
                ("user", p.learner.to_string()),
            ],
        )
        .await;
    assert!(
        html.contains(&format!(
            "value=\"{}\" id=\"u{}\" checked",
            p.learner, p.learner
        )),
        "{html}"
    );
    assert!(
        html.contains("1 ticked (kept when you turn pages)"),
        "{html}"
    );
    // "Clear ticks" clears them.
    let (_, _, html) = app
        .post_form(
            &t,
            "/teach/learners?lang=zh-CN",
            &[("user", p.learner.to_string()), ("clear", "1".to_string())],
        )
        .await;
    assert!(!html.contains("已勾选"), "{html}");
    // The kept tick and the one on the page enrol together.
    app.enroll_learners(&t, COURSE, &[p.learner, p.learner_in])
        .await;
    assert_eq!(app.count("enrollment").await, 2);
}
engine_test!(cohort_enrolment_filters_by_village_and_keeps_ticks);

async fn login_slips_print_name_and_login_never_a_pin(app: TestApp) {
    let (p, t) = setup(&app).await;
    // A learner registered with a PIN by the trainer.
    let (s, loc, body) = app
        .post_form(
            &t,
            "/admin/users",
            &[
                ("login", "13712345678".to_string()),
                ("display_name", "杨秀英".to_string()),
                ("password", "135790".to_string()),
                ("pin", "1".to_string()),
                ("role", "learner".to_string()),
                ("area_code", VILLAGE_A.to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let new: i64 = loc
        .trim_start_matches("/admin/users/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    app.enroll_learners(&t, COURSE, &[new, p.learner]).await;
    let id = new_class(&app, &t).await;
    let (_, roster) = app
        .page(&t, &format!("/teach/classes/{id}?lang=zh-CN"))
        .await;
    assert!(
        roster.contains(&format!("href=\"/teach/classes/{id}/slips\"")),
        "{roster}"
    );
    let (s, html) = app
        .page(&t, &format!("/teach/classes/{id}/slips?lang=zh-CN"))
        .await;
    assert_eq!(s, 200);
    let slips = between(&html, "<ul class=\"slips\">", "</ul>").expect("slips");
    assert_eq!(slips.matches("<li class=\"slip\">").count(), 2, "{slips}");
    assert!(
        slips.contains("杨秀英") && slips.contains("13712345678"),
        "{slips}"
    );
    assert!(slips.contains("新街村"), "{slips}");
    assert!(slips.contains("PIN：6 位数字"), "{slips}");
    assert!(slips.contains("忘了？请培训员"), "{slips}");
    assert!(!html.contains("135790"), "never the PIN: {html}");
    assert!(!html.contains("correct-horse"), "never a password: {html}");
    assert!(html.contains("@media print"), "print CSS: {html}");
    assert!(html.contains("data-print"), "a print button: {html}");
    // Only those who never signed in.
    let l = fuzhi::entities::app_user::Entity::find_by_id(p.learner)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    let mut am: fuzhi::entities::app_user::ActiveModel = l.into();
    am.last_login_at = Set(Some(chrono::Utc::now()));
    am.update(app.conn()).await.unwrap();
    let (_, html) = app
        .page(&t, &format!("/teach/classes/{id}/slips?new=1&lang=en"))
        .await;
    let slips = between(&html, "<ul class=\"slips\">", "</ul>").expect("slips");
    assert_eq!(slips.matches("<li class=\"slip\">").count(), 1, "{slips}");
    assert!(slips.contains("PIN: 6 digits"), "{slips}");
    assert!(!slips.contains("13900000001"), "{slips}");
}
engine_test!(login_slips_print_name_and_login_never_a_pin);

async fn a_new_learner_gets_her_village_picked_by_name(app: TestApp) {
    let (p, t) = setup(&app).await;
    let (_, html) = app.page(&t, "/admin/users/new?lang=zh-CN").await;
    let select = between(
        &html,
        "<select id=\"area_code\" name=\"area_code\">",
        "</select>",
    )
    .expect("a village picker");
    assert!(
        select.contains(&format!("<option value=\"{VILLAGE_A}\" >新街村</option>")),
        "{select}"
    );
    assert!(
        !select.contains("黑树"),
        "only the trainer's area: {select}"
    );
    assert!(
        !select.contains("selected"),
        "a township trainer's township is not a village: {select}"
    );
    assert!(
        !html.contains(&format!("value=\"{TOWNSHIP_A}\" inputmode")),
        "the township is not prefilled as a code: {html}"
    );
    // Picked by name: filed in the village.
    let (s, loc, body) = app
        .post_form(
            &t,
            "/admin/users",
            &[
                ("login", "13712340001".to_string()),
                ("display_name", "罗正华".to_string()),
                ("password", "135790".to_string()),
                ("pin", "1".to_string()),
                ("area_code", VILLAGE_A.to_string()),
                ("area_other", "".to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let id: i64 = loc
        .trim_start_matches("/admin/users/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let u = fuzhi::accounts::users::find(app.conn(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.area_code.as_deref(), Some(VILLAGE_A));
    // The typed code is the fallback, and wins when given.
    let (s, loc, body) = app
        .post_form(
            &t,
            "/admin/users",
            &[
                ("login", "13712340002".to_string()),
                ("display_name", "陈桂兰".to_string()),
                ("password", "135790".to_string()),
                ("pin", "1".to_string()),
                ("area_code", "".to_string()),
                ("area_other", VILLAGE_A2.to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let id: i64 = loc
        .trim_start_matches("/admin/users/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let u = fuzhi::accounts::users::find(app.conn(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.area_code.as_deref(), Some(VILLAGE_A2));
    // No village: refused, the form comes back with the picker.
    let (s, _, body) = app
        .post_form(
            &t,
            "/admin/users?lang=en",
            &[
                ("login", "13712340003".to_string()),
                ("display_name", "王德才".to_string()),
                ("password", "135790".to_string()),
                ("pin", "1".to_string()),
                ("area_code", "".to_string()),
            ],
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert!(body.contains("<select id=\"area_code\""), "{body}");
    assert!(
        body.contains("Choose the learner&#x27;s village."),
        "{body}"
    );
    let _ = p;
}
engine_test!(a_new_learner_gets_her_village_picked_by_name);
