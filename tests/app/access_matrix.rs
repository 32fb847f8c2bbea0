//! The authorization matrix: every signed-in route × every role × a target
//! inside and outside the caller's area. A route without a row fails the test.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};

use fuzhi::web::routes::{Access, ROUTES};
use reqwest::Method;

use crate::engine_test;
use crate::helpers::{COURSE, People, TestApp, VILLAGE_A2, VILLAGE_B};

/// Roles in column order.
const ROLES: [&str; 5] = ["anon", "learner", "trainer", "official", "admin"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    In,
    Out,
}

enum Body {
    None,
    Json(serde_json::Value),
    Form(Vec<(&'static str, String)>),
    Csv(String),
    Bytes(&'static str, Vec<u8>),
}

struct Row {
    method: &'static str,
    path: &'static str,
    /// Expected status per role (ROLES order), target inside / outside scope.
    inside: [u16; 5],
    outside: [u16; 5],
    body: fn(Scope, u32) -> Body,
}

const fn same(s: [u16; 5]) -> ([u16; 5], [u16; 5]) {
    (s, s)
}

static N: AtomicU32 = AtomicU32::new(0);

fn village(s: Scope) -> &'static str {
    if s == Scope::In {
        VILLAGE_A2
    } else {
        VILLAGE_B
    }
}

fn rows() -> Vec<Row> {
    let r = |method, path, (inside, outside): ([u16; 5], [u16; 5]), body| Row {
        method,
        path,
        inside,
        outside,
        body,
    };
    let none: fn(Scope, u32) -> Body = |_, _| Body::None;
    // Pages send the anonymous to the sign-in page (303), and refuse their
    // form posts for want of a CSRF token (403); the API says 401.
    vec![
        r(
            "POST",
            "/logout",
            same([403, 303, 303, 303, 303]),
            |_, _| Body::Form(vec![]),
        ),
        r("GET", "/admin", same([303, 403, 200, 200, 200]), none),
        r("GET", "/teach", same([303, 403, 200, 403, 200]), none),
        r("GET", "/office", same([303, 403, 303, 200, 200]), none),
        r(
            "GET",
            "/office/follow-ups",
            same([303, 403, 403, 200, 200]),
            none,
        ),
        r("GET", "/admin/users", same([303, 403, 200, 200, 200]), none),
        r(
            "GET",
            "/admin/users/new",
            same([303, 403, 200, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/admin/users",
            ([403, 403, 303, 303, 303], [403, 403, 404, 404, 303]),
            |s, n| {
                Body::Form(vec![
                    ("login", format!("1370000{n:04}")),
                    ("display_name", "新学员".into()),
                    ("password", "135790".into()),
                    ("pin", "1".into()),
                    ("role", "learner".into()),
                    ("area_code", village(s).into()),
                ])
            },
        ),
        r(
            "GET",
            "/admin/users/import",
            same([303, 403, 200, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/admin/users/import",
            ([403, 403, 200, 200, 200], [403, 403, 422, 422, 200]),
            |s, n| {
                Body::Form(vec![(
                    "csv",
                    format!(
                        "name,phone,pin,area_code\n新学员,1360000{n:04},135790,{}\n",
                        village(s)
                    ),
                )])
            },
        ),
        r(
            "GET",
            "/admin/users/{id}",
            ([303, 403, 200, 200, 200], [303, 403, 404, 404, 200]),
            none,
        ),
        r(
            "POST",
            "/admin/users/{id}",
            ([403, 403, 303, 303, 303], [403, 403, 404, 404, 303]),
            |_, n| Body::Form(vec![("display_name", format!("改名 {n}"))]),
        ),
        r(
            "POST",
            "/admin/users/{id}/password",
            ([403, 403, 303, 303, 303], [403, 403, 404, 404, 303]),
            |_, _| Body::Form(vec![("password", "new-pass-123".into())]),
        ),
        r("GET", "/admin/audit", same([303, 403, 403, 403, 200]), none),
        // Reports: `?area=` is the official's township (inside) or township B
        // (outside, 404 as if it did not exist); see `report_path`.
        r(
            "GET",
            "/office/dashboard",
            ([303, 403, 403, 200, 200], [303, 403, 403, 404, 200]),
            none,
        ),
        r(
            "GET",
            "/api/v1/reports/summary",
            ([401, 403, 403, 200, 200], [401, 403, 403, 404, 200]),
            none,
        ),
        r(
            "GET",
            "/api/v1/reports/export",
            ([401, 403, 403, 200, 200], [401, 403, 403, 404, 200]),
            none,
        ),
        r("GET", "/admin/mail", same([303, 403, 403, 403, 200]), none),
        // No failed mail has this id: the admin gets 404, everyone else is refused first.
        r(
            "POST",
            "/admin/mail/{id}/retry",
            same([403, 403, 403, 403, 404]),
            |_, _| Body::Form(vec![]),
        ),
        r("GET", "/admin/areas", same([303, 403, 403, 403, 200]), none),
        // Who runs the site: admins only, whatever the area; the seal and
        // the privacy notice are public (certificates show the seal).
        r("GET", "/privacy", same([200, 200, 200, 200, 200]), none),
        r(
            "GET",
            "/admin/settings",
            same([303, 403, 403, 403, 200]),
            none,
        ),
        r(
            "POST",
            "/admin/settings",
            same([403, 403, 403, 403, 303]),
            |_, _| {
                Body::Form(vec![
                    ("organiser", "镇雄县乡村振兴局".into()),
                    ("icp", "滇ICP备2026000001号-1".into()),
                ])
            },
        ),
        r(
            "POST",
            "/admin/settings/seal",
            same([403, 403, 403, 403, 303]),
            |_, _| {
                let mut b = b"--mx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"seal.svg\"\r\n\r\n".to_vec();
                b.extend_from_slice(
                    br#"<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>"#,
                );
                b.extend_from_slice(b"\r\n--mx--\r\n");
                Body::Bytes("multipart/form-data; boundary=mx", b)
            },
        ),
        r("GET", "/site/seal", same([200, 200, 200, 200, 200]), none),
        r(
            "GET",
            "/admin/settings/seal/remove",
            same([303, 403, 403, 403, 200]),
            none,
        ),
        r(
            "POST",
            "/admin/settings/seal/remove",
            same([403, 403, 403, 403, 303]),
            |_, _| Body::Form(vec![("confirm", "yes".into())]),
        ),
        r(
            "POST",
            "/admin/areas",
            same([403, 403, 403, 403, 303]),
            |_, n| {
                Body::Form(vec![
                    ("code", format!("530627102{:03}", 100 + n % 800)),
                    ("name", format!("测试村{n}")),
                ])
            },
        ),
        r(
            "POST",
            "/admin/areas/{code}",
            same([403, 403, 403, 403, 303]),
            |_, n| Body::Form(vec![("name", format!("新名{n}"))]),
        ),
        r(
            "POST",
            "/api/v1/auth/logout",
            same([401, 204, 204, 204, 204]),
            none,
        ),
        r("GET", "/api/v1/me", same([401, 200, 200, 200, 200]), none),
        r(
            "GET",
            "/api/v1/users",
            same([401, 403, 200, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/api/v1/users",
            ([401, 403, 201, 201, 201], [401, 403, 404, 404, 201]),
            |s, n| {
                Body::Json(
                    serde_json::json!({"login": format!("1350000{n:04}"), "display_name": "新学员",
                "password": "135790", "pin": true, "role": "learner", "area_code": village(s)}),
                )
            },
        ),
        r(
            "POST",
            "/api/v1/users/import",
            ([401, 403, 200, 200, 200], [401, 403, 422, 422, 200]),
            |s, n| {
                Body::Csv(format!(
                    "name,phone,pin,area_code\n新学员,1340000{n:04},135790,{}\n",
                    village(s)
                ))
            },
        ),
        r(
            "GET",
            "/api/v1/users/{id}",
            ([401, 403, 200, 200, 200], [401, 403, 404, 404, 200]),
            none,
        ),
        r(
            "GET",
            "/learners/{id}/courses",
            ([303, 403, 200, 200, 200], [303, 403, 404, 404, 200]),
            none,
        ),
        r(
            "GET",
            "/learners/{id}/courses/{slug}",
            ([303, 403, 200, 200, 200], [303, 403, 404, 404, 200]),
            none,
        ),
        r(
            "POST",
            "/learners/{id}/courses/{slug}",
            ([403, 403, 303, 303, 303], [403, 403, 404, 404, 303]),
            |_, n| {
                let to = if n % 2 == 0 { "paused" } else { "enrolled" };
                Body::Form(vec![("state", to.into()), ("confirm", "yes".into())])
            },
        ),
        r(
            "PATCH",
            "/api/v1/users/{id}/enrollments/{slug}",
            ([401, 403, 200, 200, 200], [401, 403, 404, 404, 200]),
            |_, n| {
                let to = if n % 2 == 0 { "paused" } else { "enrolled" };
                Body::Json(serde_json::json!({ "state": to }))
            },
        ),
        r(
            "PATCH",
            "/api/v1/users/{id}",
            ([401, 403, 200, 200, 200], [401, 403, 404, 404, 200]),
            |_, n| Body::Json(serde_json::json!({"display_name": format!("改名 {n}")})),
        ),
        r(
            "POST",
            "/api/v1/users/{id}/password",
            ([401, 403, 204, 204, 204], [401, 403, 404, 404, 204]),
            |_, _| Body::Json(serde_json::json!({"password": "new-pass-123"})),
        ),
        r(
            "GET",
            "/api/v1/areas",
            same([401, 200, 200, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/api/v1/areas",
            same([401, 403, 403, 403, 201]),
            |_, n| {
                Body::Json(
                    serde_json::json!({"code": format!("530627103{:03}", 100 + n % 800), "name": format!("测试村{n}")}),
                )
            },
        ),
        r(
            "GET",
            "/api/v1/audit",
            same([401, 403, 403, 403, 200]),
            none,
        ),
        // learning (rows run in order: enrollments come before sign-offs)
        r(
            "GET",
            "/courses/{slug}",
            same([303, 200, 200, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/courses/{slug}/enroll",
            same([403, 303, 403, 403, 403]),
            |_, _| Body::Form(vec![]),
        ),
        r(
            "POST",
            "/courses/{slug}/skip-pre",
            same([403, 303, 403, 403, 403]),
            |_, _| Body::Form(vec![]),
        ),
        r(
            "GET",
            "/courses/{slug}/lessons/{lesson}",
            same([303, 200, 200, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/courses/{slug}/lessons/{lesson}/done",
            same([403, 303, 403, 403, 403]),
            |_, _| Body::Form(vec![]),
        ),
        r(
            "GET",
            "/courses/{slug}/quiz/{quiz}",
            same([303, 200, 200, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/courses/{slug}/quiz/{quiz}",
            same([403, 200, 403, 403, 403]),
            |_, _| {
                Body::Form(vec![
                    ("q.q1", "a".into()),
                    ("attempt_id", uuid::Uuid::new_v4().to_string()),
                ])
            },
        ),
        r("GET", "/me", same([303, 200, 200, 200, 200]), none),
        r(
            "GET",
            "/api/v1/courses",
            same([401, 200, 200, 200, 200]),
            none,
        ),
        r(
            "GET",
            "/api/v1/courses/{slug}",
            same([401, 200, 200, 200, 200]),
            none,
        ),
        r(
            "GET",
            "/api/v1/courses/{slug}/lessons/{lesson}",
            same([401, 200, 200, 200, 200]),
            none,
        ),
        r(
            "GET",
            "/api/v1/courses/{slug}/quizzes/{quiz}",
            same([401, 200, 200, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/api/v1/courses/{slug}/enroll",
            ([401, 403, 200, 403, 200], [401, 403, 404, 403, 200]),
            |_, _| Body::Json(serde_json::json!({"user_ids": ["{target}"]})),
        ),
        r(
            "POST",
            "/api/v1/courses/{slug}/quizzes/{quiz}/attempts",
            same([401, 200, 403, 403, 403]),
            |_, _| Body::Json(serde_json::json!({"answers": {}})),
        ),
        r(
            "POST",
            "/api/v1/events",
            same([401, 200, 403, 403, 403]),
            |_, _| Body::Json(serde_json::json!([])),
        ),
        r(
            "GET",
            "/api/v1/me/progress",
            same([401, 200, 403, 403, 403]),
            none,
        ),
        r(
            "POST",
            "/api/v1/tasks/signoff",
            ([401, 403, 201, 403, 201], [401, 403, 404, 403, 201]),
            |_, _| {
                Body::Json(
                    serde_json::json!({"user_id": "{target}", "course": COURSE, "task": "wifi-connected", "level": 1}),
                )
            },
        ),
        r(
            "POST",
            "/api/v1/sessions",
            ([401, 403, 201, 403, 201], [401, 403, 404, 403, 201]),
            |s, _| {
                Body::Json(
                    serde_json::json!({"course": COURSE, "place": "活动室", "held_at": "2026-12-01T09:00", "area_code": village(s)}),
                )
            },
        ),
        r(
            "POST",
            "/api/v1/sessions/{id}/attendance",
            ([401, 403, 200, 403, 200], [401, 403, 404, 403, 200]),
            |_, _| Body::Json(serde_json::json!([])),
        ),
        r(
            "POST",
            "/api/v1/certificates/{code}/revoke",
            ([401, 403, 204, 403, 204], [401, 403, 404, 403, 204]),
            |_, _| Body::Json(serde_json::json!({"reason": "测试"})),
        ),
        // households (officials of the area and admins; member links too: an official's act)
        r(
            "GET",
            "/api/v1/households",
            same([401, 403, 403, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/api/v1/households",
            ([401, 403, 403, 201, 201], [401, 403, 403, 404, 201]),
            |s, n| Body::Json(hh_body(&format!("MX-A{n}"), village(s), &hh_id(1961, n))),
        ),
        r(
            "GET",
            "/api/v1/households/export",
            same([401, 403, 403, 200, 200]),
            none,
        ),
        r(
            "GET",
            "/api/v1/households/template.csv",
            same([401, 403, 403, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/api/v1/households/import",
            ([401, 403, 403, 200, 200], [401, 403, 403, 422, 200]),
            |s, n| Body::Csv(hh_csv(&format!("MX-B{n}"), village(s), &hh_id(1962, n))),
        ),
        r(
            "GET",
            "/api/v1/households/{id}",
            ([401, 403, 403, 200, 200], [401, 403, 403, 404, 200]),
            none,
        ),
        r(
            "PATCH",
            "/api/v1/households/{id}",
            ([401, 403, 403, 200, 200], [401, 403, 403, 404, 200]),
            |_, _| Body::Json(serde_json::json!({"phone": "13800000000"})),
        ),
        r(
            "DELETE",
            "/api/v1/households/{id}",
            ([401, 403, 403, 204, 204], [401, 403, 403, 404, 204]),
            none,
        ),
        r(
            "GET",
            "/api/v1/households/{id}/history",
            ([401, 403, 403, 200, 200], [401, 403, 403, 404, 200]),
            none,
        ),
        r(
            "POST",
            "/api/v1/households/{id}/follow-ups",
            ([401, 403, 403, 201, 201], [401, 403, 403, 404, 201]),
            |_, _| Body::Json(serde_json::json!({"months_after": 3})),
        ),
        r(
            "POST",
            "/api/v1/households/{id}/incomes",
            ([401, 403, 403, 200, 200], [401, 403, 403, 404, 200]),
            |_, _| Body::Json(serde_json::json!({"year": 2024, "wage_fen": 100})),
        ),
        r(
            "GET",
            "/office/households",
            same([303, 403, 403, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/office/households",
            ([403, 403, 403, 303, 303], [403, 403, 403, 404, 303]),
            |s, n| {
                Body::Form(vec![
                    ("registry_no", format!("MX-C{n}")),
                    ("area_code", village(s).into()),
                    ("primary_cause", "07".into()),
                    ("head_name", "张三".into()),
                    ("head_id_number", hh_id(1963, n)),
                ])
            },
        ),
        r(
            "GET",
            "/office/households/new",
            same([303, 403, 403, 200, 200]),
            none,
        ),
        r(
            "GET",
            "/office/households/import",
            same([303, 403, 403, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/office/households/import",
            ([403, 403, 403, 200, 200], [403, 403, 403, 422, 200]),
            |s, n| {
                Body::Form(vec![(
                    "csv",
                    hh_csv(&format!("MX-D{n}"), village(s), &hh_id(1964, n)),
                )])
            },
        ),
        r(
            "POST",
            "/office/households/import/confirm",
            // The digest is not the preview's: refused as changed since (409),
            // once the caller may import into the file's village at all.
            ([403, 403, 403, 409, 409], [403, 403, 403, 422, 409]),
            |s, n| {
                use base64::Engine as _;
                let csv = hh_csv(&format!("MX-U{n}"), village(s), &hh_id(1966, n));
                Body::Form(vec![
                    ("csv", base64::engine::general_purpose::STANDARD.encode(csv)),
                    ("digest", "0".into()),
                ])
            },
        ),
        r(
            "GET",
            "/office/households/{id}",
            ([303, 403, 403, 200, 200], [303, 403, 403, 404, 200]),
            none,
        ),
        r(
            "POST",
            "/office/households/{id}",
            ([403, 403, 403, 303, 303], [403, 403, 403, 404, 303]),
            |_, _| {
                Body::Form(vec![
                    ("primary_cause", "07".into()),
                    ("phone", "13800000001".into()),
                ])
            },
        ),
        r(
            "GET",
            "/office/households/{id}/edit",
            ([303, 403, 403, 200, 200], [303, 403, 403, 404, 200]),
            none,
        ),
        r(
            "POST",
            "/office/households/{id}/delete",
            ([403, 403, 403, 303, 303], [403, 403, 403, 404, 303]),
            |_, _| Body::Form(vec![("confirm", "yes".into())]),
        ),
        r(
            "GET",
            "/office/households/{id}/history",
            ([303, 403, 403, 200, 200], [303, 403, 403, 404, 200]),
            none,
        ),
        r(
            "POST",
            "/office/households/{id}/members",
            ([403, 403, 403, 303, 303], [403, 403, 403, 404, 303]),
            |_, n| {
                Body::Form(vec![
                    ("name", "新成员".into()),
                    ("id_number", hh_id(1965, n)),
                    ("relation", "child".into()),
                ])
            },
        ),
        r(
            "GET",
            "/office/households/{id}/members/{mid}/remove",
            ([303, 403, 403, 200, 200], [303, 403, 403, 404, 200]),
            none,
        ),
        r(
            "POST",
            "/office/households/{id}/members/{mid}/remove",
            ([403, 403, 403, 303, 303], [403, 403, 403, 404, 303]),
            |_, _| Body::Form(vec![("confirm", "yes".into())]),
        ),
        r(
            "POST",
            "/office/households/{id}/incomes",
            ([403, 403, 403, 303, 303], [403, 403, 403, 404, 303]),
            |_, _| Body::Form(vec![("year", "2024".into()), ("wage", "1200.50".into())]),
        ),
        r(
            "POST",
            "/office/households/{id}/follow-ups",
            ([403, 403, 403, 303, 303], [403, 403, 403, 404, 303]),
            |_, _| Body::Form(vec![("months_after", "6".into())]),
        ),
        r(
            "GET",
            "/office/members",
            same([303, 403, 200, 200, 200]),
            none,
        ),
        r(
            "POST",
            "/office/members/search",
            same([403, 403, 200, 200, 200]),
            |_, n| Body::Form(vec![("id_number", hh_id(1966, n))]),
        ),
        r(
            "POST",
            "/office/members/{id}/link",
            ([403, 403, 403, 303, 303], [403, 403, 403, 404, 303]),
            |s, _| {
                Body::Form(vec![(
                    "login",
                    if s == Scope::In {
                        "13900000002"
                    } else {
                        "13900000003"
                    }
                    .into(),
                )])
            },
        ),
        r(
            "POST",
            "/office/members/{id}/learner",
            ([403, 403, 403, 303, 303], [403, 403, 403, 404, 303]),
            |_, n| {
                Body::Form(vec![
                    ("phone", format!("1330000{n:04}")),
                    ("pin", "135790".into()),
                ])
            },
        ),
        // end households
        // trainer pages
        r(
            "GET",
            "/teach/learners",
            same([303, 403, 200, 403, 200]),
            none,
        ),
        r(
            "POST",
            "/teach/learners",
            same([403, 403, 200, 403, 200]),
            |_, _| Body::Form(vec![("user", "{target}".into()), ("page", "1".into())]),
        ),
        r(
            "POST",
            "/teach/learners/enroll",
            ([403, 403, 303, 403, 303], [403, 403, 404, 403, 303]),
            |_, _| Body::Form(vec![("course", COURSE.into()), ("user", "{target}".into())]),
        ),
        r(
            "GET",
            "/teach/signoff",
            same([303, 403, 200, 403, 200]),
            none,
        ),
        r(
            "POST",
            "/teach/signoff",
            ([403, 403, 303, 403, 303], [403, 403, 404, 403, 303]),
            |_, _| {
                Body::Form(vec![
                    ("user_id", "{target}".into()),
                    ("course", COURSE.into()),
                    ("task", "wifi-connected".into()),
                    ("level", "2".into()),
                ])
            },
        ),
        // Without a course the page sends the trainer to her start page.
        r(
            "GET",
            "/teach/signoff/bulk",
            same([303, 403, 303, 403, 303]),
            none,
        ),
        r(
            "POST",
            "/teach/signoff/bulk",
            ([403, 403, 303, 403, 303], [403, 403, 404, 403, 303]),
            |_, _| {
                Body::Form(vec![
                    ("user", "{target}".into()),
                    ("course", COURSE.into()),
                    ("task", "wifi-connected".into()),
                    ("level", "2".into()),
                ])
            },
        ),
        r(
            "GET",
            "/teach/classes",
            same([303, 403, 200, 403, 200]),
            none,
        ),
        r(
            "POST",
            "/teach/classes",
            ([403, 403, 303, 403, 303], [403, 403, 404, 403, 303]),
            |s, _| {
                Body::Form(vec![
                    ("course", COURSE.into()),
                    ("place", "活动室".into()),
                    ("held_at", "2026-12-01T09:00".into()),
                    ("area_code", village(s).into()),
                ])
            },
        ),
        r(
            "GET",
            "/teach/classes/{id}",
            ([303, 403, 200, 403, 200], [303, 403, 404, 403, 200]),
            none,
        ),
        r(
            "POST",
            "/teach/classes/{id}",
            ([403, 403, 303, 403, 303], [403, 403, 404, 403, 303]),
            |_, _| Body::Form(vec![]),
        ),
        r(
            "GET",
            "/teach/classes/{id}/signoff",
            ([303, 403, 200, 403, 200], [303, 403, 404, 403, 200]),
            none,
        ),
        r(
            "GET",
            "/teach/classes/{id}/slips",
            ([303, 403, 200, 403, 200], [303, 403, 404, 403, 200]),
            none,
        ),
        // Authoring: inside, a course the trainer started; outside, another
        // trainer's. Officials and learners never author.
        r(
            "GET",
            "/teach/courses",
            same([303, 403, 200, 403, 200]),
            none,
        ),
        r(
            "GET",
            "/teach/courses/new",
            same([303, 403, 200, 403, 200]),
            none,
        ),
        r(
            "POST",
            "/teach/courses",
            same([403, 403, 303, 403, 303]),
            |_, n| {
                let mut f = course_meta();
                f.push(("slug", format!("matrix-{n}")));
                Body::Form(f)
            },
        ),
        r("GET", "/teach/courses/{slug}", AUTHOR_GET, none),
        r("POST", "/teach/courses/{slug}", AUTHOR_POST, |_, _| {
            Body::Form(course_meta())
        }),
        r(
            "POST",
            "/teach/courses/{slug}/lessons",
            AUTHOR_POST,
            |_, n| {
                Body::Form(vec![
                    ("lesson_slug", format!("extra-{n}")),
                    ("lesson_title", "加一课".into()),
                ])
            },
        ),
        r(
            "GET",
            "/teach/courses/{slug}/lessons/{lesson}",
            AUTHOR_GET,
            none,
        ),
        r(
            "POST",
            "/teach/courses/{slug}/lessons/{lesson}",
            AUTHOR_POST,
            |_, _| {
                Body::Form(vec![
                    ("action", "save".into()),
                    ("minutes", "8".into()),
                    ("competence", "it.connect".into()),
                    ("title.zh-CN", "连上网络".into()),
                    (
                        "body.zh-CN",
                        "# 连网\n\n![无线网](media/01-wifi-toggle.svg)".into(),
                    ),
                    ("title.en", "Getting online".into()),
                    (
                        "body.en",
                        "# Online\n\n![Wi-Fi](media/01-wifi-toggle.svg)".into(),
                    ),
                ])
            },
        ),
        r(
            "GET",
            "/teach/courses/{slug}/quizzes/{quiz}",
            AUTHOR_GET,
            none,
        ),
        r(
            "POST",
            "/teach/courses/{slug}/quizzes/{quiz}",
            AUTHOR_POST,
            |_, _| {
                let mut f: Vec<(&'static str, String)> = vec![
                    ("kind", "single".into()),
                    ("competence", "it.connect".into()),
                    ("points", "1".into()),
                    ("correct", "a".into()),
                ];
                for lang in ["zh-CN", "en"] {
                    f.extend(
                        match lang {
                            "zh-CN" => [
                                ("prompt.zh-CN", "问"),
                                ("choice.a.zh-CN", "甲"),
                                ("choice.b.zh-CN", "乙"),
                                ("explain.zh-CN", "因为"),
                            ],
                            _ => [
                                ("prompt.en", "Q"),
                                ("choice.a.en", "A"),
                                ("choice.b.en", "B"),
                                ("explain.en", "Because"),
                            ],
                        }
                        .map(|(k, v)| (k, v.to_string())),
                    );
                }
                Body::Form(f)
            },
        ),
        r(
            "POST",
            "/teach/courses/{slug}/quizzes/{quiz}/batch",
            AUTHOR_POST,
            |_, _| {
                Body::Form(
                    [
                        ("q1.kind", "single"),
                        ("q1.competence", "it.connect"),
                        ("q1.correct", "b"),
                        ("q1.prompt.zh-CN", "村里的无线网叫什么？"),
                        ("q1.prompt.en", "What is the village Wi-Fi called?"),
                        ("q1.choice.a.zh-CN", "蓝牙"),
                        ("q1.choice.a.en", "Bluetooth"),
                        ("q1.choice.b.zh-CN", "无线网"),
                        ("q1.choice.b.en", "Wi-Fi"),
                        ("q1.explain.zh-CN", "因为"),
                        ("q1.explain.en", "Because"),
                    ]
                    .iter()
                    .map(|(k, v)| (*k, v.to_string()))
                    .collect(),
                )
            },
        ),
        // Before the lesson moves: the check keeps its name.
        r(
            "POST",
            "/teach/courses/{slug}/quizzes/{quiz}/audio/{qid}/{target}/{lang}",
            AUTHOR_POST,
            |_, _| {
                let tone = include_bytes!("../fixtures/narration/tone.opus");
                let mut b = b"--mx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.opus\"\r\n\r\n".to_vec();
                b.extend_from_slice(tone);
                b.extend_from_slice(b"\r\n--mx--\r\n");
                Body::Bytes("multipart/form-data; boundary=mx", b)
            },
        ),
        r(
            "POST",
            "/teach/courses/{slug}/quizzes/{quiz}/audio/{qid}/{target}/{lang}/remove",
            AUTHOR_POST,
            |_, _| Body::Form(vec![]),
        ),
        r("GET", "/teach/courses/{slug}/tasks", AUTHOR_GET, none),
        // Item analysis: the course's authors and admins; the figures of
        // someone else's course are a 404 like the course itself.
        r("GET", "/teach/courses/{slug}/items", AUTHOR_GET, none),
        r(
            "GET",
            "/teach/courses/{slug}/items/export",
            AUTHOR_GET,
            none,
        ),
        r(
            "POST",
            "/teach/courses/{slug}/tasks",
            AUTHOR_POST,
            |_, n| {
                Body::Form(vec![
                    ("new", "1".into()),
                    ("id", format!("task-{n}")),
                    ("competence", "it.connect".into()),
                    ("required", "1".into()),
                    ("title.zh-CN", "连上村里的无线网".into()),
                    ("title.en", "Join the village Wi-Fi".into()),
                    ("evidence.zh-CN", "培训员看到已连接".into()),
                    ("evidence.en", "Trainer sees it connected".into()),
                ])
            },
        ),
        // After the quiz rows: moving renames the lesson check.
        r(
            "POST",
            "/teach/courses/{slug}/lessons/{lesson}/move",
            AUTHOR_POST,
            |_, _| Body::Form(vec![("dir", "down".into())]),
        ),
        r(
            "POST",
            "/teach/courses/{slug}/publish",
            AUTHOR_POST,
            |_, _| Body::Form(vec![]),
        ),
        r("GET", "/teach/courses/{slug}/publish", AUTHOR_GET, none),
        r("GET", "/teach/courses/{slug}/preview", AUTHOR_GET, none),
        r("GET", "/teach/courses/{slug}/archive", AUTHOR_GET, none),
        r(
            "POST",
            "/teach/courses/{slug}/archive",
            AUTHOR_POST,
            |_, _| Body::Form(vec![("confirm", "yes".into())]),
        ),
        r(
            "POST",
            "/teach/courses/{slug}/lessons/{lesson}/pictures",
            AUTHOR_POST,
            |_, _| {
                Body::Bytes(
                    "multipart/form-data; boundary=mx",
                    multipart_file(&[("alt", "一张图")], "p.png", &crate::helpers::small_png()),
                )
            },
        ),
        r(
            "POST",
            "/teach/courses/{slug}/lessons/{lesson}/videos",
            AUTHOR_POST,
            |_, _| {
                Body::Bytes(
                    "multipart/form-data; boundary=mx",
                    multipart_file(&[("alt", "演示")], "v.mp4", crate::helpers::CLIP),
                )
            },
        ),
        r(
            "POST",
            "/teach/courses/{slug}/lessons/{lesson}/captions",
            AUTHOR_POST,
            |_, _| {
                Body::Bytes(
                    "multipart/form-data; boundary=mx",
                    multipart_file(
                        &[
                            ("video", "media/wifi-and-data-video-1.mp4"),
                            ("text", "0:01 打开相机"),
                        ],
                        "",
                        b"",
                    ),
                )
            },
        ),
        r("GET", "/teach/courses/{slug}/videos/{id}", AUTHOR_GET, none),
        r(
            "POST",
            "/teach/courses/{slug}/lessons/{lesson}/narration/{lang}",
            AUTHOR_POST,
            |_, _| {
                let tone = include_bytes!("../fixtures/narration/tone.opus");
                let mut b = b"--mx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.opus\"\r\n\r\n".to_vec();
                b.extend_from_slice(tone);
                b.extend_from_slice(b"\r\n--mx--\r\n");
                Body::Bytes("multipart/form-data; boundary=mx", b)
            },
        ),
        r(
            "POST",
            "/teach/courses/{slug}/lessons/{lesson}/narration/{lang}/remove",
            AUTHOR_POST,
            |_, _| Body::Form(vec![("confirm", "yes".into())]),
        ),
        r(
            "POST",
            "/teach/courses/{slug}/lessons/{lesson}/tracks",
            AUTHOR_POST,
            |_, _| {
                let tone = include_bytes!("../fixtures/narration/tone.opus");
                let mut b = b"--mx\r\nContent-Disposition: form-data; name=\"variety\"\r\n\r\nzhenxiong\r\n--mx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.opus\"\r\n\r\n".to_vec();
                b.extend_from_slice(tone);
                b.extend_from_slice(b"\r\n--mx--\r\n");
                Body::Bytes("multipart/form-data; boundary=mx", b)
            },
        ),
        r(
            "POST",
            "/teach/courses/{slug}/lessons/{lesson}/tracks/{track}/remove",
            AUTHOR_POST,
            |_, _| Body::Form(vec![("confirm", "yes".into())]),
        ),
        // offline: anyone signed in picks low-data mode for her phone; only
        // an enrolled learner saves a course.
        r(
            "POST",
            "/me/low-data",
            same([403, 303, 303, 303, 303]),
            |_, _| Body::Form(vec![("on", "1".into())]),
        ),
        r(
            "GET",
            "/api/v1/courses/{slug}/offline",
            same([401, 200, 403, 403, 403]),
            none,
        ),
    ]
}

const AUTHOR_GET: ([u16; 5], [u16; 5]) = ([303, 403, 200, 403, 200], [303, 403, 404, 403, 200]);
const AUTHOR_POST: ([u16; 5], [u16; 5]) = ([403, 403, 303, 403, 303], [403, 403, 404, 403, 303]);

/// Valid course details for the shipped course's copies (both languages,
/// every competence its lessons use).
fn course_meta() -> Vec<(&'static str, String)> {
    let mut f: Vec<(&'static str, String)> = vec![
        ("category", "it".into()),
        ("level", "1".into()),
        ("pass_mark", "80".into()),
        ("hours", "3".into()),
        ("lang_en", "1".into()),
        ("title.zh-CN", "智能手机入门（副本）".into()),
        ("title.en", "Smartphone basics (copy)".into()),
        ("summary.zh-CN", "连网、上网、装软件。".into()),
        ("summary.en", "Get online, browse, install apps.".into()),
    ];
    for c in ["it.connect", "it.apps", "it.files", "it.troubleshoot"] {
        f.push(("competence", c.into()));
    }
    f
}

// households: bodies and targets

fn hh_id(year: i32, n: u32) -> String {
    let d = chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    fuzhi::households::NationalId::synthetic("530627", d, (n % 900) as u16 + 1)
        .unwrap()
        .expose()
        .to_owned()
}

fn hh_body(no: &str, area: &str, id: &str) -> serde_json::Value {
    serde_json::json!({"registry_no": no, "area_code": area, "primary_cause": "07",
        "members": [{"name": "张三", "id_number": id, "relation": "head"}]})
}

fn hh_csv(no: &str, area: &str, id: &str) -> String {
    format!(
        "户编号,行政区划代码,主要致贫原因,姓名,身份证号,与户主关系\n{no},{area},07,张三,{id},户主\n"
    )
}

/// The path of a household route: a fresh household (and member) for the
/// routes that delete, a standing one otherwise.
fn household_path(fx: &Fixture, method: &str, path: &str, i_scope: usize) -> Option<String> {
    let fresh = matches!(
        (method, path),
        ("DELETE", "/api/v1/households/{id}")
            | ("POST", "/office/households/{id}/delete")
            | ("POST", "/office/households/{id}/members/{mid}/remove")
            | ("POST", "/office/members/{id}/learner")
    );
    let (h, m) = if fresh {
        let k = fx.fresh_next[i_scope].fetch_add(1, Ordering::Relaxed) as usize;
        fx.fresh[i_scope][k]
    } else {
        fx.households[i_scope]
    };
    if path.starts_with("/office/members/") {
        Some(path.replace("{id}", &m.to_string()))
    } else if path.starts_with("/api/v1/households/") || path.starts_with("/office/households/") {
        Some(
            path.replace("{id}", &h.to_string())
                .replace("{mid}", &m.to_string()),
        )
    } else {
        None
    }
}

/// Households inside and outside township A: a standing one each, and a pool
/// of two-member households for the routes that delete.
async fn household_fixture(
    app: &TestApp,
    admin: &fuzhi::policy::Actor,
) -> ([(i64, i64); 2], [Vec<(i64, i64)>; 2]) {
    let key = app.state.secrets.id_hmac.clone();
    let key = secrecy::ExposeSecret::expose_secret(&key)
        .as_bytes()
        .to_vec();
    let mut n = 0u32;
    let mut make = async |area: &str, members: usize| {
        let ms: Vec<fuzhi::households::store::MemberInput> = (0..members)
            .map(|i| {
                n += 1;
                fuzhi::households::store::MemberInput {
                    name: format!("固定{n}"),
                    id_number: hh_id(1950, n),
                    relation: if i == 0 { "head" } else { "child" }.into(),
                    ..Default::default()
                }
            })
            .collect();
        let h = fuzhi::households::store::create(
            app.conn(),
            admin,
            &key,
            &fuzhi::households::store::NewHousehold {
                registry_no: format!("FX-{n}"),
                area_code: area.into(),
                primary_cause: Some("01".into()),
                members: ms,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let d = fuzhi::households::store::get(app.conn(), admin, h.id, false)
            .await
            .unwrap();
        (h.id, d.members.last().unwrap().id)
    };
    let standing = [make(VILLAGE_A2, 1).await, make(VILLAGE_B, 1).await];
    let mut fresh = [Vec::new(), Vec::new()];
    for (i, area) in [VILLAGE_A2, VILLAGE_B].into_iter().enumerate() {
        for _ in 0..25 {
            fresh[i].push(make(area, 2).await);
        }
    }
    (standing, fresh)
}

/// Report routes name their area in the query: the official's township
/// inside, township B outside.
fn report_path(path: &str, area: &str) -> Option<String> {
    match path {
        "/office/dashboard" | "/api/v1/reports/summary" => Some(format!("{path}?area={area}")),
        "/api/v1/reports/export" => Some(format!("{path}?area={area}&format=csv")),
        _ => None,
    }
}

#[test]
fn every_signed_in_route_has_a_row() {
    let have: HashSet<(String, String)> = rows()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    for (method, path, access) in ROUTES {
        if *access == Access::SignedIn {
            assert!(
                have.contains(&(method.to_uppercase(), path.to_string())),
                "route {method} {path} has no row in the authorization matrix"
            );
        }
    }
    assert_eq!(have.len(), rows().len(), "duplicate rows");
}

async fn authorization_matrix(app: TestApp) {
    let p: People = app.people().await;
    let fx = fixture(&app, &p).await;
    let ids = [
        None,
        Some(p.learner),
        Some(p.trainer),
        Some(p.official),
        Some(p.admin),
    ];
    let mut failures = Vec::new();
    for row in rows() {
        for scope in [Scope::In, Scope::Out] {
            for (i, role) in ROLES.iter().enumerate() {
                let target = if scope == Scope::In {
                    p.learner_in
                } else {
                    p.learner_out
                };
                let area = if scope == Scope::In {
                    "530627102000"
                } else {
                    "530627103000"
                };
                let i_scope = if scope == Scope::In { 0 } else { 1 };
                let path = if let Some(p) = household_path(&fx, row.method, row.path, i_scope) {
                    p
                } else if let Some(p) = report_path(row.path, area) {
                    p
                } else if row.path.starts_with("/api/v1/sessions/")
                    || row.path.starts_with("/teach/classes/")
                {
                    row.path.replace("{id}", &fx.sessions[i_scope].to_string())
                } else if row.path.ends_with("/videos/{id}") {
                    row.path.replace("{id}", &fx.videos[i_scope].to_string())
                } else if row.path.starts_with("/api/v1/certificates/") {
                    row.path.replace("{code}", &fx.certificates[i_scope])
                } else {
                    row.path
                        .replace("{id}", &target.to_string())
                        .replace("{code}", area)
                };
                let path = if path.starts_with("/teach/courses/{slug}") {
                    path.replace("{slug}", &fx.authored[i_scope])
                } else {
                    path
                };
                let path = path
                    .replace("{slug}", COURSE)
                    .replace("{lesson}", "wifi-and-data")
                    .replace("{quiz}", "01-wifi-and-data")
                    .replace("{lang}", "en")
                    .replace("{track}", "zhenxiong")
                    .replace("{qid}", "q1")
                    .replace("{target}", "prompt");
                let n = N.fetch_add(1, Ordering::Relaxed);
                let mut req = app.client.request(
                    Method::from_bytes(row.method.as_bytes()).unwrap(),
                    app.url(&path),
                );
                if let Some(id) = ids[i] {
                    req = req.bearer_auth(app.token(id).await);
                }
                req = match (row.body)(scope, n) {
                    Body::None => req,
                    Body::Json(v) => {
                        let v: serde_json::Value = serde_json::from_str(
                            &v.to_string().replace("\"{target}\"", &target.to_string()),
                        )
                        .unwrap();
                        req.json(&v)
                    }
                    Body::Form(f) => {
                        let f: Vec<(&str, String)> = f
                            .into_iter()
                            .map(|(k, v)| {
                                (
                                    k,
                                    if v == "{target}" {
                                        target.to_string()
                                    } else {
                                        v
                                    },
                                )
                            })
                            .collect();
                        req.form(&f)
                    }
                    Body::Csv(c) => req.header("content-type", "text/csv").body(c),
                    Body::Bytes(ct, b) => req.header("content-type", ct).body(b),
                };
                let got = req.send().await.unwrap().status().as_u16();
                if row.method == "POST" && row.path.ends_with("/videos") {
                    crate::helpers::videos_settled(&app).await;
                }
                let want = if scope == Scope::In {
                    row.inside[i]
                } else {
                    row.outside[i]
                };
                if got != want {
                    failures.push(format!(
                        "{} {path} as {role} ({}): got {got}, want {want}",
                        row.method,
                        if scope == Scope::In {
                            "inside"
                        } else {
                            "outside"
                        }
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{}",
        failures.join("\n")
    );
}
engine_test!(authorization_matrix);

/// Course content, class sessions and certificates inside and outside township A.
struct Fixture {
    sessions: [i64; 2],
    certificates: [String; 2],
    households: [(i64, i64); 2],
    fresh: [Vec<(i64, i64)>; 2],
    /// Per test run (each engine has its own fixture), the next fresh household.
    fresh_next: [AtomicU32; 2],
    /// Courses started by the trainer (inside) and by another trainer (outside).
    authored: [String; 2],
    /// A video job of each authored course.
    videos: [i64; 2],
}

/// A multipart body (boundary `mx`) with these text fields and, when
/// `name` is not empty, a file.
fn multipart_file(fields: &[(&str, &str)], name: &str, file: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--mx\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if !name.is_empty() {
        b.extend_from_slice(
            format!(
                "--mx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(file);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(b"--mx--\r\n");
    b
}

async fn fixture(app: &TestApp, p: &People) -> Fixture {
    app.import_course(COURSE).await;
    let admin = fuzhi::accounts::users::find(app.conn(), p.admin)
        .await
        .unwrap()
        .unwrap();
    let admin = fuzhi::accounts::users::actor_of(&admin);
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let mut sessions = [0; 2];
    let mut certificates = [String::new(), String::new()];
    for (i, (area, learner)) in [
        ("530627102001", p.learner_in),
        ("530627103001", p.learner_out),
    ]
    .into_iter()
    .enumerate()
    {
        let s = fuzhi::learning::classes::NewSession {
            course: COURSE.into(),
            place: "村委会".into(),
            held_at: "2026-12-01T09:00".into(),
            area_code: Some(area.into()),
            expected: vec![],
        };
        sessions[i] = fuzhi::learning::classes::create(app.conn(), &app.state.content, &admin, &s)
            .await
            .unwrap()
            .id;
        let model = fuzhi::accounts::users::find(app.conn(), learner)
            .await
            .unwrap()
            .unwrap();
        fuzhi::learning::enroll::enroll(
            app.conn(),
            &app.state.content,
            &admin,
            &model,
            COURSE,
            None,
        )
        .await
        .unwrap();
        certificates[i] = fuzhi::learning::certificates::issue(app.conn(), learner, &info)
            .await
            .unwrap();
    }
    let (households, fresh) = household_fixture(app, &admin).await;
    let other = app
        .user("trainer-out", "trainer", Some("530627103000"))
        .await;
    let (_, shipped) = crate::helpers::shipped();
    let mut authored = [String::new(), String::new()];
    let mut videos = [0i64; 2];
    for (i, owner) in [p.trainer, other].into_iter().enumerate() {
        let mut c = shipped
            .iter()
            .find(|c| c.course.slug == COURSE)
            .unwrap()
            .course
            .clone();
        c.clear_sources();
        c.slug = format!("authored-{i}");
        fuzhi::courses::edit::add_video(
            &mut c,
            "wifi-and-data",
            "演示",
            crate::helpers::video_files(),
        )
        .unwrap();
        fuzhi::catalog::store::import_course(
            app.conn(),
            &c,
            Some(owner),
            fuzhi::catalog::store::Origin::Import,
        )
        .await
        .unwrap();
        videos[i] = crate::helpers::video_job(app, &c.slug, owner).await;
        authored[i] = c.slug;
    }
    Fixture {
        authored,
        videos,
        sessions,
        certificates,
        households,
        fresh,
        fresh_next: [AtomicU32::new(0), AtomicU32::new(0)],
    }
}
