//! Demo data for `serve --demo`: the areas of 镇雄县 (Zhenxiong county, 昭通市)
//! with villages under two townships, and one account per role and level.
//! Idempotent: what exists is left alone, so a second start adds nothing.
//! The logins are listed in the README.

use crate::accounts::users::{self, NewUser};
use crate::areas;
use crate::error::AppResult;
use crate::web::AppState;

pub const AREAS: &str = include_str!("areas.csv");

pub const ADMIN: (&str, &str) = ("admin", "fuzhi-admin-2026");
pub const STAFF_PASSWORD: &str = "fuzhi-demo-2026";
pub const LEARNER_PIN: &str = "246810";

/// `(login, display name, role, area)` of the demo staff.
pub const STAFF: &[(&str, &str, &str, &str)] = &[
    (
        "gov.zhaotong",
        "昭通市乡村振兴局 赵敏",
        "official",
        "530600000000",
    ),
    (
        "gov.zhenxiong",
        "镇雄县乡村振兴局 陈刚",
        "official",
        "530627000000",
    ),
    ("gov.poji", "泼机镇 刘芳", "official", "530627102000"),
    ("gov.xinjie", "新街村 村委 王强", "official", "530627102001"),
    ("gov.heishu", "黑树镇 张丽", "official", "530627103000"),
    ("trainer.li", "培训员 李娜", "trainer", "530627102000"),
    ("trainer.wang", "培训员 王磊", "trainer", "530627103000"),
];

/// `(phone, name, village)` of the demo learners.
pub const LEARNERS: &[(&str, &str, &str)] = &[
    ("13800000001", "杨秀英", "530627102001"),
    ("13800000002", "罗正华", "530627102001"),
    ("13800000003", "陈桂兰", "530627102002"),
    ("13800000004", "王德才", "530627102002"),
    ("13800000005", "李春梅", "530627102003"),
    ("13800000006", "张永贵", "530627102004"),
    ("13800000007", "刘玉珍", "530627103001"),
    ("13800000008", "赵明亮", "530627103001"),
    ("13800000009", "黄小燕", "530627103002"),
    ("13800000010", "周建国", "530627103003"),
    ("13800000011", "吴丽萍", "530627103004"),
    ("13800000012", "徐光荣", "530627103005"),
];

pub async fn seed(state: &AppState) -> AppResult<()> {
    let db = &state.db;
    let report = areas::import_csv(db, AREAS.as_bytes()).await?;
    users::ensure_admin(db, ADMIN.0, ADMIN.1).await?;
    let mut added = 0;
    for (login, name, role, area) in STAFF {
        if users::find_by_login(db, login).await?.is_none() {
            users::create(
                db,
                None,
                &NewUser {
                    login: login.to_string(),
                    display_name: name.to_string(),
                    password: STAFF_PASSWORD.into(),
                    role: role.to_string(),
                    area_code: Some(area.to_string()),
                    ..Default::default()
                },
            )
            .await?;
            added += 1;
        }
    }
    for (phone, name, village) in LEARNERS {
        if users::find_by_login(db, phone).await?.is_none() {
            users::create(
                db,
                None,
                &NewUser {
                    login: phone.to_string(),
                    display_name: name.to_string(),
                    password: LEARNER_PIN.into(),
                    pin: true,
                    role: "learner".into(),
                    area_code: Some(village.to_string()),
                    ..Default::default()
                },
            )
            .await?;
            added += 1;
        }
    }
    tracing::info!(
        areas_added = report.added,
        users_added = added,
        "demo data ready"
    );
    Ok(())
}
