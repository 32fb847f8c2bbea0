//! The officials' follow-up to-do: the start page shows the first visits
//! due and links to the full list, by page; the household's follow-up form
//! has the member due chosen, and never defaults to the whole household.

use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, VILLAGE_A2, between};

/// `n` completers of three and a half months ago, each a member of her own
/// household in village A2: (household, member) ids.
async fn completers(app: &TestApp, admin: i64, n: u32) -> Vec<(i64, i64)> {
    let key = app.state.secrets.id_hmac.clone();
    let key = secrecy::ExposeSecret::expose_secret(&key)
        .as_bytes()
        .to_vec();
    let admin = fuzhi::accounts::users::find(app.conn(), admin)
        .await
        .unwrap()
        .unwrap();
    let admin = fuzhi::accounts::users::actor_of(&admin);
    let done = chrono::Utc::now() - chrono::Duration::days(105);
    let mut out = Vec::new();
    for i in 1..=n {
        let born = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let id_number = fuzhi::households::NationalId::synthetic("530627", born, i as u16)
            .unwrap()
            .expose()
            .to_owned();
        let h = fuzhi::households::store::create(
            app.conn(),
            &admin,
            &key,
            &fuzhi::households::store::NewHousehold {
                registry_no: format!("FU-{i}"),
                area_code: VILLAGE_A2.into(),
                primary_cause: Some("01".into()),
                members: vec![fuzhi::households::store::MemberInput {
                    name: format!("回访{i:02}"),
                    id_number,
                    relation: "head".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let d = fuzhi::households::store::get(app.conn(), &admin, h.id, false)
            .await
            .unwrap();
        let member = d.members[0].member.id;
        let user = fuzhi::accounts::users::create(
            app.conn(),
            None,
            &fuzhi::accounts::users::NewUser {
                login: format!("1351234{i:04}"),
                display_name: format!("回访{i:02}"),
                password: "135790".into(),
                pin: true,
                role: "learner".into(),
                area_code: Some(VILLAGE_A2.into()),
                member_id: Some(member),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        fuzhi::entities::enrollment::ActiveModel {
            user_id: Set(user.id),
            course_slug: Set(COURSE.into()),
            cohort: Set(None),
            state: Set(fuzhi::entities::enrollment::EnrollmentState::Completed),
            area_code: Set(Some(VILLAGE_A2.into())),
            household_id: Set(Some(h.id)),
            pre_done: Set(true),
            enrolled_at: Set(done - chrono::Duration::days(30)),
            completed_at: Set(Some(done)),
            enrolled_by: Set(None),
            ..Default::default()
        }
        .insert(app.conn())
        .await
        .unwrap();
        out.push((h.id, member));
    }
    out
}

async fn the_follow_up_todo_links_every_visit_due_and_asks_for_the_member(app: TestApp) {
    let p = app.people().await;
    let due = completers(&app, p.admin, 9).await;
    let o = app.token(p.official).await;
    let (s, html) = app.page(&o, "/office?lang=zh-CN").await;
    assert_eq!(s, 200);
    let list = between(&html, "<h2 id=\"due\">", "<h2>").expect("the visits due");
    // Eight shown, each opening the form with her chosen; a link to all nine.
    assert_eq!(list.matches("?member=").count(), 8, "{list}");
    assert!(
        list.contains("<a href=\"/office/follow-ups\">查看全部 9 人</a>"),
        "{list}"
    );
    let (_, en) = app.page(&o, "/office?lang=en").await;
    assert!(en.contains(">See all 9</a>"), "{en}");

    let (s, html) = app.page(&o, "/office/follow-ups?lang=zh-CN").await;
    assert_eq!(s, 200);
    for (h, m) in &due {
        assert!(
            html.contains(&format!(
                "href=\"/office/households/{h}?member={m}#follow-up\""
            )),
            "{h}/{m}: {html}"
        );
    }
    assert!(html.contains("龙井村"), "the village by name: {html}");
    assert!(html.contains("第 1 / 1 页"), "a pager: {html}");
    assert!(html.contains("共 9"), "{html}");

    // The form: the member due chosen; without one, "choose", not the household.
    let (h, m) = due[0];
    let (_, html) = app
        .page(&o, &format!("/office/households/{h}?member={m}&lang=zh-CN"))
        .await;
    let select = between(&html, "<select id=\"f_member\"", "</select>").expect("a member picker");
    assert!(
        select.contains(&format!("<option value=\"{m}\" selected>")),
        "{select}"
    );
    assert!(
        select.contains("<option value=\"household\">全户</option>"),
        "{select}"
    );
    assert!(html.contains("id=\"follow-up\" open"), "{html}");
    let (_, html) = app
        .page(&o, &format!("/office/households/{h}?lang=zh-CN"))
        .await;
    let select = between(&html, "<select id=\"f_member\"", "</select>").unwrap();
    assert!(
        select.contains("<option value=\"\" selected>请选择</option>"),
        "{select}"
    );
    // Left on "choose": refused by field, nothing recorded.
    let path = format!("/office/households/{h}/follow-ups?lang=zh-CN");
    let (s, _, body) = app
        .post_form(
            &o,
            &path,
            &[
                ("member_id", "".to_string()),
                ("months_after", "3".to_string()),
            ],
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(app.count("follow_up").await, 0);
    // Her visit recorded: eight left.
    let (s, _, body) = app
        .post_form(
            &o,
            &path,
            &[
                ("member_id", m.to_string()),
                ("months_after", "3".to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (_, html) = app.page(&o, "/office/follow-ups?lang=zh-CN").await;
    assert!(html.contains("共 8"), "{html}");
    assert!(!html.contains(&format!("?member={m}#")), "{html}");
}
engine_test!(the_follow_up_todo_links_every_visit_due_and_asks_for_the_member);
