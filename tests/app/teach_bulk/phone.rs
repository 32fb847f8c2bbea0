//! At a phone's width (390 px) the class's bulk pages fit the screen: the
//! login slips, the sign-off list with a tap target per learner, and the
//! roll call's "everyone came".

use serde_json::json;

use crate::helpers::{COURSE, Engine, TestApp};
use crate::support::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_pages_fit_a_phone() {
    let app = TestApp::spawn_with(Engine::Sqlite, |s| {
        s.courses_dir = Some(crate::helpers::repo_path("courses"));
    })
    .await
    .unwrap();
    fuzhi::demo::seed(&app.state).await.unwrap();
    let v: serde_json::Value = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"login": "trainer.li", "password": fuzhi::demo::STAFF_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    // Every learner of the township in the course, then a class there.
    let (_, list) = app
        .get_json("/api/v1/users?role=learner&per_page=100", &token)
        .await;
    let learners: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    app.enroll_learners(&token, COURSE, &learners).await;
    let res = app
        .client
        .post(app.url("/teach/classes"))
        .bearer_auth(&token)
        .form(&[
            ("course", COURSE),
            ("place", "泼机镇新街村村委会活动室"),
            ("held_at", "2026-12-03T14:30"),
            ("area_code", "530627102000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let class = res.headers()["location"].to_str().unwrap().to_string();

    let b = Browser::start(true).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "trainer.li").await;
    b.fill("#password", fuzhi::demo::STAFF_PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_signed_in().await;
    let check = |what: &'static str| {
        format!(
            "const w = window.innerWidth;
             const els = [...document.querySelectorAll('{what}')];
             return [document.documentElement.scrollWidth <= w, els.length,
                     els.every(e => {{ const r = e.getBoundingClientRect();
                                      return r.left >= 0 && r.right <= w && r.height >= 44; }}),
                     els.length ? parseFloat(getComputedStyle(els[0]).fontSize) : 0];"
        )
    };
    // Roll call: "everyone came" is a full tap target.
    b.goto(&app.url(&format!("{class}?lang=zh-CN"))).await;
    b.wait_text("全部到了").await;
    let fit = b
        .client
        .execute(&check("button[name=all]"), vec![])
        .await
        .unwrap();
    assert_eq!(fit[0], json!(true), "the roll call is wider than the phone");
    assert_eq!(fit[1], json!(1), "{fit}");
    assert_eq!(
        fit[2],
        json!(true),
        "'everyone came' is off screen or small: {fit}"
    );
    // Sign-off: one tap target per learner.
    b.goto(&app.url(&format!("{class}/signoff?lang=zh-CN")))
        .await;
    b.wait_text("全部勾选").await;
    let fit = b
        .client
        .execute(&check("ul.picks label.choice"), vec![])
        .await
        .unwrap();
    assert_eq!(
        fit[0],
        json!(true),
        "the sign-off page is wider than the phone"
    );
    assert!(fit[1].as_u64().unwrap() >= 2, "{fit}");
    assert_eq!(
        fit[2],
        json!(true),
        "a learner's tick is off screen or small: {fit}"
    );
    // Slips: one column, readable.
    b.goto(&app.url(&format!("{class}/slips?lang=zh-CN"))).await;
    b.wait_text("忘了？").await;
    let fit = b.client.execute(&check("li.slip"), vec![]).await.unwrap();
    assert_eq!(fit[0], json!(true), "the slips are wider than the phone");
    assert!(fit[1].as_u64().unwrap() >= 2, "{fit}");
    assert_eq!(fit[2], json!(true), "a slip is off screen: {fit}");
    assert!(
        fit[3].as_f64().unwrap() >= 16.0,
        "slips too small to read: {fit}"
    );
    b.close().await;
    app.finish().await;
}

/// Picks the `<option>` of `select` whose text is `label`, as a person does.
async fn pick(b: &Browser, select: &str, label: &str) {
    let found = b
        .client
        .execute(
            "const s = document.querySelector(arguments[0]);
             const o = [...s.options].find(o => o.textContent.trim() === arguments[1]);
             if (!o) return false;
             s.value = o.value;
             s.dispatchEvent(new Event('change', {bubbles: true}));
             return true;",
            vec![json!(select), json!(label)],
        )
        .await
        .unwrap();
    assert_eq!(found, json!(true), "no option {label:?} in {select}");
}

/// A trainer's class day on a 390 px phone, every step in the browser: she
/// registers a villager by picking her village by name, enrols her, holds a
/// class there, takes the roll with "everyone came", and signs off a task
/// for the whole class on one page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainer_registers_and_signs_off_a_class_from_a_phone() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    let b = Browser::start(true).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "trainer1").await;
    b.fill("#password", crate::helpers::PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_signed_in().await;

    // A new learner, her village picked by its name.
    b.goto(&app.url("/admin/users/new?lang=zh-CN")).await;
    b.fill("#display_name", "罗正华").await;
    b.fill("#login", "13712340009").await;
    pick(&b, "#area_code", "新街村").await;
    b.fill("#password", "135790").await;
    // A villager signs in with a PIN: the box is ticked (she may find it so).
    let ticked = b
        .client
        .execute(
            "const c = document.querySelector(\"form[action='/admin/users'] input[name=pin]\");
             if (!c.checked) c.click();
             return c.checked;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ticked, json!(true));
    b.click("form[action='/admin/users'] button[type=submit]")
        .await;
    let page = b.wait_text("罗正华").await;
    assert!(
        page.contains("13712340009") && !page.contains("class=\"err\""),
        "{page}"
    );
    let new = fuzhi::entities::app_user::Entity::find()
        .filter(fuzhi::entities::app_user::Column::Login.eq("13712340009"))
        .one(app.conn())
        .await
        .unwrap()
        .expect("the learner was created");
    assert_eq!(new.area_code.as_deref(), Some(crate::helpers::VILLAGE_A));

    // Enrolled with a class-mate, from the learners page.
    b.goto(&app.url("/teach/learners?lang=zh-CN")).await;
    for id in [new.id, p.learner] {
        b.click(&format!("#u{id}")).await;
    }
    b.click("form[action='/teach/learners/enroll'] button.btn[type=submit]")
        .await;
    b.wait_text("已为 2 位学员报名").await;

    // A class in her village; the roll: everyone came.
    b.goto(&app.url("/teach/classes?lang=zh-CN")).await;
    pick(&b, "#area_code", "新街村").await;
    b.fill("#place", "新街村村委会").await;
    b.client
        .execute(
            "document.getElementById('held_at').value = '2026-12-20T09:00';",
            vec![],
        )
        .await
        .unwrap();
    b.click("form[action='/teach/classes'] button[type=submit]")
        .await;
    let page = b.wait_text("罗正华").await;
    assert!(page.contains("全部到了"), "{page}");
    b.click("button[name=all][value=present]").await;
    b.wait_text("已保存").await;

    // One task for the whole class, on one page.
    b.click("a[href$='/signoff']").await;
    b.wait_text("罗正华").await;
    let wide = b
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, json!(false), "the sign-off page scrolls sideways");
    b.click("input[name=level][value='2']").await;
    b.click("form[action='/teach/signoff/bulk'] button[type=submit]")
        .await;
    b.wait_text("罗正华").await;
    b.close().await;

    let signed: Vec<i64> = fuzhi::entities::task_signoff::Entity::find()
        .all(app.conn())
        .await
        .unwrap()
        .iter()
        .map(|s| s.user_id)
        .collect();
    assert!(
        signed.contains(&new.id) && signed.contains(&p.learner),
        "{signed:?}"
    );
}
