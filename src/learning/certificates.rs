//! Certificates: a short, unguessable, printable code; public verification
//! that shows only the holder's display name, the course, what it attests
//! (study hours, competences), who issued it (the holder's county and the
//! platform), the date and whether it is valid; revocation with a reason.

use chrono::Utc;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde::Serialize;

use super::content::CourseInfo;
use crate::entities::{app_user, certificate, competence, course};
use crate::error::{AppError, AppResult};

/// Crockford's base32 without I, L, O, U: easy to read aloud and type.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `XXXXX-XXXXX`: 50 random bits.
pub fn new_code() -> String {
    let mut rng = rand::rng();
    let s: String = (0..10)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &s[..5], &s[5..])
}

/// Normalises a typed code (case, spaces, look-alike letters).
pub fn normalize(code: &str) -> String {
    let c: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            x => x,
        })
        .collect();
    if c.len() == 10 {
        format!("{}-{}", &c[..5], &c[5..])
    } else {
        c
    }
}

/// Issues the learner's certificate for a course (the code of the one issued
/// before, if there is one), and queues the mail that tells her, in the
/// caller's transaction: a typed message the mail worker renders when it
/// sends it.
pub async fn issue(db: &impl ConnectionTrait, user: i64, course: &CourseInfo) -> AppResult<String> {
    let slug = &course.course.slug;
    if let Some(code) = code_of(db, user, slug).await? {
        return Ok(code);
    }
    let u = app_user::Entity::find_by_id(user)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let code = new_code();
    certificate::ActiveModel {
        code: Set(code.clone()),
        user_id: Set(user),
        course_slug: Set(slug.clone()),
        course_version: Set(course.course.version),
        holder_name: Set(u.display_name.clone()),
        issued_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if let Some(email) = &u.email {
        let message = crate::mail::Message::Certificate {
            to: email.clone(),
            lang: u.locale.clone(),
            name: u.display_name.clone(),
            course: super::content::text(&course.course.title_json, &u.locale, "zh-CN"),
            code: code.clone(),
        };
        crate::mail::enqueue_message(db, &message).await?;
    }
    Ok(code)
}

/// The code of the learner's certificate for a course, if one was issued.
pub async fn code_of(
    db: &impl ConnectionTrait,
    user: i64,
    course: &str,
) -> AppResult<Option<String>> {
    Ok(certificate::Entity::find()
        .filter(certificate::Column::UserId.eq(user))
        .filter(certificate::Column::CourseSlug.eq(course))
        .one(db)
        .await?
        .map(|c| c.code))
}

/// What anyone may see about a certificate.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub code: String,
    pub holder: String,
    pub course: String,
    pub course_title: serde_json::Value,
    pub issued_at: String,
    /// The same moment, for a page to show in local time.
    #[serde(skip)]
    pub issued: chrono::DateTime<Utc>,
    pub valid: bool,
    pub revoked_at: Option<String>,
    /// The course's study hours (学时).
    pub hours: f64,
    /// The competences the course attests, with their titles by language.
    pub competences: Vec<AttestedCompetence>,
    /// The county (else the nearest named area above the holder's) whose
    /// training issued it.
    pub issuer_area: Option<String>,
}

/// A competence a certificate attests.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttestedCompetence {
    pub code: String,
    pub title: serde_json::Value,
}

/// The name of the county an area lies in (else of the nearest named area
/// above it, or its own when it is above a county).
async fn county_of(db: &impl ConnectionTrait, code: Option<&str>) -> AppResult<Option<String>> {
    use crate::areas::{AreaCode, Level};
    let Some(mut at) = code.and_then(|c| AreaCode::parse(c).ok()) else {
        return Ok(None);
    };
    while at.level() > Level::County {
        match at.parent() {
            Some(p) => at = p,
            None => break,
        }
    }
    loop {
        if let Some(a) = crate::areas::find(db, at.as_str()).await? {
            return Ok(Some(a.name));
        }
        match at.parent() {
            Some(p) => at = p,
            None => return Ok(None),
        }
    }
}

/// The certificate with a code as typed (normalised first).
async fn find(db: &impl ConnectionTrait, code: &str) -> AppResult<certificate::Model> {
    certificate::Entity::find()
        .filter(certificate::Column::Code.eq(normalize(code)))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn verify(db: &impl ConnectionTrait, code: &str) -> AppResult<Verification> {
    let c = find(db, code).await?;
    let row = course::Entity::find()
        .filter(course::Column::Slug.eq(c.course_slug.as_str()))
        .filter(course::Column::Version.eq(c.course_version))
        .one(db)
        .await?;
    let title = row
        .as_ref()
        .map(|c| serde_json::from_str(&c.title_json).unwrap_or_default())
        .unwrap_or_default();
    let codes: Vec<String> = row
        .as_ref()
        .map(|r| {
            r.competences
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let titles = competence::Entity::find()
        .filter(competence::Column::Code.is_in(codes.clone()))
        .all(db)
        .await?;
    let competences = codes
        .into_iter()
        .map(|code| AttestedCompetence {
            title: titles
                .iter()
                .find(|t| t.code == code)
                .and_then(|t| serde_json::from_str(&t.title_json).ok())
                .unwrap_or_else(|| serde_json::json!({})),
            code,
        })
        .collect();
    let holder_area = app_user::Entity::find_by_id(c.user_id)
        .one(db)
        .await?
        .and_then(|u| u.area_code);
    Ok(Verification {
        issued: c.issued_at,
        hours: row
            .as_ref()
            .map_or(0.0, |r| f64::from(r.hours_tenths) / 10.0),
        competences,
        issuer_area: county_of(db, holder_area.as_deref()).await?,
        code: c.code,
        holder: c.holder_name,
        course: c.course_slug,
        course_title: title,
        issued_at: c.issued_at.format("%Y-%m-%d").to_string(),
        valid: c.revoked_at.is_none(),
        revoked_at: c.revoked_at.map(|t| t.format("%Y-%m-%d").to_string()),
    })
}

/// Revokes a certificate with a reason, audited in the same transaction.
pub async fn revoke(
    db: &DatabaseConnection,
    actor: &crate::policy::Actor,
    code: &str,
    reason: &str,
) -> AppResult<()> {
    let c = find(db, code).await?;
    let holder = app_user::Entity::find_by_id(c.user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    actor.require_user(
        crate::policy::Action::RevokeCertificates,
        holder.id,
        crate::accounts::Role::Learner,
        holder.area_code.as_deref(),
    )?;
    if actor.id == holder.id {
        return Err(AppError::Forbidden);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::field(
            "reason",
            "say why the certificate is revoked",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let mut am: certificate::ActiveModel = c.clone().into();
    am.revoked_at = Set(Some(Utc::now()));
    am.revoke_reason = Set(Some(reason.to_string()));
    am.revoked_by = Set(Some(actor.id));
    am.update(&txn).await?;
    crate::audit::record(
        &txn,
        crate::audit::Action::Update,
        crate::audit::Entry {
            actor_id: Some(actor.id),
            entity: "certificate",
            entity_id: Some(c.code),
            area_code: holder.area_code,
            reason: Some(reason.to_string()),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
