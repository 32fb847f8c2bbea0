//! Creating learner accounts in bulk from a CSV file, all or nothing.

use super::create::{check, insert};
use super::inputs::NewUser;
use crate::accounts::Login;
use crate::error::{AppError, AppResult, RowError};
use crate::policy::{Action, Actor};

/// The most learners one file may create (a village's class is a few dozen).
pub const MAX_ROWS: usize = 2000;
/// The most columns a row may have.
const MAX_COLUMNS: usize = 50;

/// Creates learner accounts from CSV (`name,phone,pin[,area_code][,member_id]`,
/// Chinese headers 姓名,手机号,PIN,行政区划代码,成员编号 also accepted),
/// all-or-nothing: one bad row and nothing is created; every bad row is listed.
pub async fn import_learners(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    data: &[u8],
) -> AppResult<usize> {
    actor.require(Action::CreateLearner)?;
    let text = String::from_utf8_lossy(data);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| AppError::BadRequest(format!("cannot read the header row: {e}")))?
        .clone();
    let col = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let (Some(ni), Some(pi), Some(ki)) = (
        col(&["name", "display_name", "姓名"]),
        col(&["phone", "login", "手机号", "手机号码"]),
        col(&["pin", "password", "密码", "PIN码", "PIN", "6位PIN"]),
    ) else {
        return Err(AppError::BadRequest(
            "the header row must have name, phone and pin columns".into(),
        ));
    };
    let ai = col(&["area_code", "行政区划代码", "村代码"]);
    let mi = col(&["member_id", "成员编号"]);
    let default_area = actor
        .area
        .as_ref()
        .filter(|a| a.level() == crate::areas::Level::Village)
        .map(|a| a.to_string());
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        if i >= MAX_ROWS || rec.as_ref().is_ok_and(|r| r.len() > MAX_COLUMNS) {
            // Counted as the file is read, before a row is kept.
            return Err(AppError::Import {
                message: format!(
                    "at most {MAX_ROWS} learners of at most {MAX_COLUMNS} columns are imported at once"
                ),
                errors: vec![RowError {
                    row,
                    field: String::new(),
                    message: format!(
                        "the file has more than {MAX_ROWS} rows or a row of more than {MAX_COLUMNS} columns; split it into smaller files / 文件超过 {MAX_ROWS} 行或一行超过 {MAX_COLUMNS} 列，请拆分"
                    ),
                }],
            });
        }
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    row,
                    field: String::new(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or_default().to_string();
        let area = Some(get(ai))
            .filter(|s| !s.is_empty())
            .or_else(|| default_area.clone());
        let member_id = match get(mi).as_str() {
            "" => None,
            s => match s.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.push(RowError {
                        row,
                        field: "member_id".into(),
                        message: "must be a number".into(),
                    });
                    None
                }
            },
        };
        let new = NewUser {
            login: get(Some(pi)),
            display_name: get(Some(ni)),
            password: get(Some(ki)),
            pin: true,
            role: "learner".into(),
            area_code: area,
            member_id,
            ..Default::default()
        };
        match Login::parse(&new.login) {
            Ok(l) if !seen.insert(l.as_str().to_string()) => errors.push(RowError {
                row,
                field: "phone".into(),
                message: "appears twice in the file".into(),
            }),
            _ => {}
        }
        if new.area_code.is_none() {
            errors.push(RowError {
                row,
                field: "area_code".into(),
                message: "is needed (the learner's village)".into(),
            });
        }
        rows.push((row, new));
    }
    // Checked and hashed before the write transaction begins (the hashes
    // in parallel on the blocking pool): the transaction only reads and
    // inserts, and holds SQLite's write lock for milliseconds, not seconds.
    let mut checked = Vec::with_capacity(rows.len());
    for (row, new) in &rows {
        match check(Some(actor), new) {
            Ok(c) => checked.push((*row, c, new.password.clone())),
            Err(e) => errors.extend(row_errors(*row, e)?),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(AppError::Import {
            message: format!("{} problems; no account was created", errors.len()),
            errors,
        });
    }
    let hashes = futures_util::future::join_all(
        checked
            .iter()
            .map(|(_, _, pw)| crate::accounts::password::hash(pw.clone())),
    )
    .await;
    let mut ready = Vec::with_capacity(checked.len());
    for ((row, c, _), h) in checked.into_iter().zip(hashes) {
        ready.push((row, c, h?));
    }
    let txn = crate::db::begin_write(db).await?;
    let mut created = 0;
    for (row, c, hash) in &ready {
        match insert(&txn, Some(actor), c, hash.clone()).await {
            Ok(_) => created += 1,
            Err(e) => errors.extend(row_errors(*row, e)?),
        }
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        // Logins taken outside the actor's area: audited after the rollback
        // (one row each, which counts against her daily allowance), and
        // answered without saying which rows once there are more than a few.
        let outside: Vec<usize> = errors
            .iter()
            .filter(|e| e.message == super::create::OUTSIDE_MESSAGE)
            .map(|e| e.row)
            .collect();
        for (_, new) in rows.iter().filter(|(r, _)| outside.contains(r)) {
            if let Ok(login) = Login::parse(&new.login)
                && let Some(other) = super::list::find_by_login(db, login.as_str()).await?
            {
                super::create::audit_outside(db, actor, &other, &login).await?;
            }
        }
        if outside.len() > 3 {
            errors.retain(|e| e.message != super::create::OUTSIDE_MESSAGE);
            errors.push(RowError {
                row: 0,
                field: "phone".into(),
                message: format!(
                    "{} phone numbers cannot be used here; an administrator can help ({} 个号码不能在此使用，请联系管理员)",
                    outside.len(),
                    outside.len()
                ),
            });
        }
        errors.sort_by_key(|e| e.row);
        return Err(AppError::Import {
            message: format!("{} problems; no account was created", errors.len()),
            errors,
        });
    }
    txn.commit().await?;
    Ok(created)
}

/// A failed row's errors as import rows; an error that is not about the row
/// (the database) ends the import.
fn row_errors(row: usize, e: AppError) -> AppResult<Vec<RowError>> {
    Ok(match e {
        AppError::Validation { fields, .. } => fields
            .into_iter()
            .map(|(field, message)| RowError {
                row,
                field,
                message,
            })
            .collect(),
        AppError::Conflict(m) => vec![RowError {
            row,
            field: "phone".into(),
            message: m,
        }],
        AppError::NotFound | AppError::Forbidden => vec![RowError {
            row,
            field: "area_code".into(),
            message: "is not an area you serve".into(),
        }],
        e => return Err(e),
    })
}
