//! The administrative tree: 12-digit division codes, their levels, containment
//! by code prefix, admin CRUD and the import of official division lists.
//! Owns the `area` table; never decides who may see an area (that is `policy`).

use std::collections::HashSet;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::entities::area;
use crate::error::{AppError, AppResult, RowError};

/// A 12-digit National Bureau of Statistics division code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province,
    Prefecture,
    County,
    Township,
    Village,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::Prefecture => "prefecture",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim() {
            "province" | "省" => Level::Province,
            "prefecture" | "市" | "地区" => Level::Prefecture,
            "county" | "县" | "区" => Level::County,
            "township" | "乡" | "镇" | "乡镇" => Level::Township,
            "village" | "村" => Level::Village,
            _ => return None,
        })
    }
    /// How many leading digits are significant at this level.
    pub fn digits(self) -> usize {
        match self {
            Level::Province => 2,
            Level::Prefecture => 4,
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
        }
    }
    pub fn child(self) -> Option<Level> {
        match self {
            Level::Province => Some(Level::Prefecture),
            Level::Prefecture => Some(Level::County),
            Level::County => Some(Level::Township),
            Level::Township => Some(Level::Village),
            Level::Village => None,
        }
    }
}

impl AreaCode {
    pub fn parse(s: &str) -> Result<AreaCode, String> {
        let s = s.trim();
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 12 digits".into());
        }
        if &s[..2] == "00" {
            return Err("province digits cannot be 00".into());
        }
        Ok(AreaCode(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The level a code's trailing zeros imply.
    pub fn level(&self) -> Level {
        let s = &self.0;
        if s[2..].bytes().all(|b| b == b'0') {
            Level::Province
        } else if s[4..].bytes().all(|b| b == b'0') {
            Level::Prefecture
        } else if s[6..].bytes().all(|b| b == b'0') {
            Level::County
        } else if s[9..].bytes().all(|b| b == b'0') {
            Level::Township
        } else {
            Level::Village
        }
    }
    /// The significant prefix: every code inside this area starts with it.
    pub fn prefix(&self) -> &str {
        &self.0[..self.level().digits()]
    }
    pub fn contains(&self, other: &str) -> bool {
        other.starts_with(self.prefix())
    }
    /// The code of the parent area, if any.
    pub fn parent(&self) -> Option<AreaCode> {
        let digits = match self.level() {
            Level::Province => return None,
            Level::Prefecture => 2,
            Level::County => 4,
            Level::Township => 6,
            Level::Village => 9,
        };
        Some(AreaCode(format!("{:0<12}", &self.0[..digits])))
    }
}

impl TryFrom<String> for AreaCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        AreaCode::parse(&s)
    }
}
impl From<AreaCode> for String {
    fn from(a: AreaCode) -> String {
        a.0
    }
}
impl std::fmt::Display for AreaCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `code LIKE 'prefix%'` on any column, index-friendly.
pub fn within<C: ColumnTrait>(col: C, area: &AreaCode) -> sea_orm::sea_query::SimpleExpr {
    col.starts_with(area.prefix())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewArea {
    pub code: String,
    pub name: String,
    pub level: Option<String>,
    pub parent_code: Option<String>,
}

/// Validates one area; `known` answers whether a parent code exists.
fn validate(
    a: &NewArea,
    known: &dyn Fn(&str) -> bool,
) -> Result<area::ActiveModel, Vec<(String, String)>> {
    let mut errs = Vec::new();
    let code = match AreaCode::parse(&a.code) {
        Ok(c) => Some(c),
        Err(e) => {
            errs.push(("code".to_string(), e));
            None
        }
    };
    let name = a.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errs.push(("name".into(), "must be 1 to 100 characters".into()));
    }
    let mut level = None;
    if let Some(c) = &code {
        level = Some(c.level());
        if let Some(l) = a.level.as_deref().filter(|l| !l.trim().is_empty()) {
            match Level::parse(l) {
                Some(l) if Some(l) == level => {}
                Some(_) => errs.push((
                    "level".into(),
                    format!("does not match the code, which is a {}", c.level().as_str()),
                )),
                None => errs.push((
                    "level".into(),
                    "must be province, prefecture, county, township or village".into(),
                )),
            }
        }
        let parent = c.parent();
        match (
            &parent,
            a.parent_code
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty()),
        ) {
            (Some(p), Some(given)) if given != p.as_str() => {
                errs.push(("parent_code".into(), format!("should be {p}")))
            }
            (Some(p), _) if !known(p.as_str()) => errs.push((
                "parent_code".into(),
                format!("parent area {p} does not exist"),
            )),
            _ => {}
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let code = code.expect("checked above");
    Ok(area::ActiveModel {
        parent_code: Set(code.parent().map(String::from)),
        level: Set(level.unwrap_or(Level::Village).as_str().to_string()),
        name: Set(name.to_string()),
        code: Set(code.0),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    })
}

/// Adds an area under an existing parent (callers check that the actor may
/// manage areas: `policy::Action::ManageAreas`).
pub async fn create(db: &impl ConnectionTrait, a: &NewArea) -> AppResult<area::Model> {
    let parent = a
        .code
        .trim()
        .get(..)
        .and_then(|c| AreaCode::parse(c).ok())
        .and_then(|c| c.parent());
    let parent_exists = match &parent {
        Some(p) => find(db, p.as_str()).await?.is_some(),
        None => true,
    };
    let am = validate(a, &|_| parent_exists)
        .map_err(|errs| AppError::fields(errs.into_iter().collect()))?;
    if find(db, a.code.trim()).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "area {} already exists",
            a.code.trim()
        )));
    }
    Ok(area::Entity::insert(am).exec_with_returning(db).await?)
}

pub async fn find(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<area::Model>> {
    Ok(area::Entity::find()
        .filter(area::Column::Code.eq(code))
        .one(db)
        .await?)
}

pub async fn rename(db: &impl ConnectionTrait, code: &str, name: &str) -> AppResult<area::Model> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field("name", "must be 1 to 100 characters"));
    }
    let Some(a) = find(db, code).await? else {
        return Err(AppError::NotFound);
    };
    let mut am: area::ActiveModel = a.into();
    am.name = Set(name.to_string());
    Ok(sea_orm::ActiveModelTrait::update(am, db).await?)
}

/// Deletes an area with no children (households keep their codes; the tree must stay whole).
pub async fn delete(db: &impl ConnectionTrait, code: &str) -> AppResult<()> {
    if find(db, code).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let children = area::Entity::find()
        .filter(area::Column::ParentCode.eq(code))
        .count(db)
        .await?;
    if children > 0 {
        return Err(AppError::Conflict(format!(
            "area {code} has {children} child areas; delete them first"
        )));
    }
    area::Entity::delete_many()
        .filter(area::Column::Code.eq(code))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn children(
    db: &impl ConnectionTrait,
    parent: Option<&str>,
) -> AppResult<Vec<area::Model>> {
    let q = area::Entity::find();
    let q = match parent {
        Some(p) => q.filter(area::Column::ParentCode.eq(p)),
        None => q.filter(area::Column::ParentCode.is_null()),
    };
    Ok(q.order_by_asc(area::Column::Code).all(db).await?)
}

/// The areas whose code starts with `prefix` (every area when it is empty),
/// each with its place in the tree as names (`泼机镇 › 大石头村`) below the
/// top of the list, in code order (a township before its villages): what a
/// picker shows instead of codes. One query.
pub async fn picker(db: &impl ConnectionTrait, prefix: &str) -> AppResult<Vec<(String, String)>> {
    let mut q = area::Entity::find();
    if !prefix.is_empty() {
        q = q.filter(area::Column::Code.starts_with(prefix));
    }
    let rows = q.order_by_asc(area::Column::Code).all(db).await?;
    let by_code: std::collections::HashMap<&str, &area::Model> =
        rows.iter().map(|a| (a.code.as_str(), a)).collect();
    Ok(rows
        .iter()
        .map(|a| {
            let mut path = vec![a.name.as_str()];
            let mut up = a.parent_code.as_deref();
            while let Some(p) = up.and_then(|c| by_code.get(c)) {
                path.push(p.name.as_str());
                up = p.parent_code.as_deref();
            }
            path.reverse();
            (a.code.clone(), path.join(" › "))
        })
        .collect())
}

/// Names of the given codes, in one query.
pub async fn names(
    db: &impl ConnectionTrait,
    codes: &[String],
) -> AppResult<std::collections::HashMap<String, String>> {
    if codes.is_empty() {
        return Ok(Default::default());
    }
    Ok(area::Entity::find()
        .filter(area::Column::Code.is_in(codes.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect())
}

/// The result of an import: how many areas were added and how many already existed.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub added: usize,
    pub unchanged: usize,
}

/// Imports `code,name,level,parent_code` CSV (header required) all-or-nothing:
/// every bad row is reported and nothing is written when there is one.
pub async fn import_csv(
    db: &(impl TransactionTrait<Transaction = sea_orm::DatabaseTransaction> + ConnectionTrait),
    data: &[u8],
) -> AppResult<ImportReport> {
    let text = String::from_utf8_lossy(data);
    let text = text.trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| AppError::BadRequest(format!("cannot read the header row: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(ci), Some(ni)) = (col("code"), col("name")) else {
        return Err(AppError::BadRequest(
            "the header row must have code and name columns".into(),
        ));
    };
    let (li, pi) = (col("level"), col("parent_code"));
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        match rec {
            Ok(r) => rows.push((
                row,
                NewArea {
                    code: r.get(ci).unwrap_or_default().to_string(),
                    name: r.get(ni).unwrap_or_default().to_string(),
                    level: li.and_then(|i| r.get(i)).map(str::to_string),
                    parent_code: pi.and_then(|i| r.get(i)).map(str::to_string),
                },
            )),
            Err(e) => errors.push(RowError {
                row,
                field: String::new(),
                message: e.to_string(),
            }),
        }
    }
    let txn = crate::db::begin_write(db).await?;
    let existing: HashSet<String> = area::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| a.code)
        .collect();
    let in_file: HashSet<String> = rows
        .iter()
        .map(|(_, a)| a.code.trim().to_string())
        .collect();
    let mut seen = HashSet::new();
    let mut new = Vec::new();
    let mut unchanged = 0;
    for (row, a) in &rows {
        let known = |p: &str| existing.contains(p) || in_file.contains(p);
        match validate(a, &known) {
            Ok(am) => {
                let code = a.code.trim().to_string();
                if !seen.insert(code.clone()) {
                    errors.push(RowError {
                        row: *row,
                        field: "code".into(),
                        message: format!("{code} appears twice in the file"),
                    });
                } else if existing.contains(&code) {
                    unchanged += 1;
                } else {
                    new.push(am);
                }
            }
            Err(errs) => errors.extend(errs.into_iter().map(|(field, message)| RowError {
                row: *row,
                field,
                message,
            })),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Import {
            message: format!("{} bad rows; nothing was imported", errors.len()),
            errors,
        });
    }
    let added = new.len();
    // Parents first, so that the tree is whole at every step.
    new.sort_by_key(|a| match &a.code {
        Set(c) => AreaCode::parse(c)
            .map(|c| c.level())
            .unwrap_or(Level::Village),
        _ => Level::Village,
    });
    for chunk in new.chunks(500) {
        area::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(ImportReport { added, unchanged })
}
