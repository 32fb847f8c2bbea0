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
    let mut form = vec![("course", COURSE.to_string())];
    for u in list["items"].as_array().unwrap() {
        form.push(("user", u["id"].as_i64().unwrap().to_string()));
    }
    let res = app
        .client
        .post(app.url("/teach/learners/enroll"))
        .bearer_auth(&token)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
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
