//! Who runs the site, as people check it on an official page: the
//! organiser (主办单位), its address and contact, the ICP filing number
//! (备案号), and the organiser's seal printed on certificates.
//!
//! Each text starts from the configuration (`[site]` in `fuzhi.toml`,
//! `FUZHI_SITE__*`; empty by default, so nothing untrue is shown) and an
//! admin may set it on `/admin/settings`, which stores it in `site_setting`
//! and wins over the configuration from then on (an empty value included).
//! The seal is a PNG or SVG image an admin uploads, judged by its bytes.
//!
//! Every page shows these in its footer, so they are held in memory
//! (`Cache`): loaded when the server starts, replaced at once by the process
//! that saves them, and read again by every process every 30 seconds.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit;
use crate::entities::{site_file, site_setting};
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

/// The largest seal image accepted, in bytes.
pub const SEAL_LIMIT: usize = 200 * 1024;

/// The name of the seal in `site_file`.
const SEAL: &str = "seal";

/// How often each process reads the settings again.
pub const REFRESH: Duration = Duration::from_secs(30);

/// The texts as the configuration gives them (`[site]`, `FUZHI_SITE__*`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct SiteSettings {
    /// 主办单位: the body that runs the training, as on its seal.
    pub organiser: String,
    pub address: String,
    /// A telephone number or email people may write to.
    pub contact: String,
    /// The ICP filing number (备案号), e.g. `滇ICP备2026000001号-1`.
    pub icp: String,
}

/// One text field of [`SiteSettings`], by its stored name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Organiser,
    Address,
    Contact,
    Icp,
}

impl Field {
    pub const ALL: [Field; 4] = [Field::Organiser, Field::Address, Field::Contact, Field::Icp];

    pub fn name(self) -> &'static str {
        match self {
            Field::Organiser => "organiser",
            Field::Address => "address",
            Field::Contact => "contact",
            Field::Icp => "icp",
        }
    }

    /// The longest value, in characters.
    fn max_chars(self) -> usize {
        match self {
            Field::Organiser | Field::Contact => 100,
            Field::Address => 200,
            Field::Icp => 40,
        }
    }

    fn get(self, s: &SiteSettings) -> &str {
        match self {
            Field::Organiser => &s.organiser,
            Field::Address => &s.address,
            Field::Contact => &s.contact,
            Field::Icp => &s.icp,
        }
    }

    fn set(self, s: &mut SiteSettings, v: String) {
        match self {
            Field::Organiser => s.organiser = v,
            Field::Address => s.address = v,
            Field::Contact => s.contact = v,
            Field::Icp => s.icp = v,
        }
    }
}

/// What pages show: the texts in effect and the seal's version, if any.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Trust {
    #[serde(flatten)]
    pub texts: SiteSettings,
    /// The seal's ETag (its address carries it, so a new seal is fetched).
    pub seal: Option<String>,
}

impl Trust {
    /// The seal's address, when there is one.
    pub fn seal_url(&self) -> Option<String> {
        self.seal.as_ref().map(|e| format!("/site/seal?v={e}"))
    }
}

/// The settings in effect, shared by every request of a process.
#[derive(Debug, Default)]
pub struct Cache(RwLock<Arc<Trust>>);

impl Cache {
    pub fn current(&self) -> Arc<Trust> {
        self.0.read().map(|t| t.clone()).unwrap_or_default()
    }

    fn put(&self, t: Trust) {
        if let Ok(mut w) = self.0.write() {
            *w = Arc::new(t);
        }
    }

    /// Reads the settings from the database (over `defaults`) into memory.
    pub async fn reload(
        &self,
        db: &impl ConnectionTrait,
        defaults: &SiteSettings,
    ) -> AppResult<Arc<Trust>> {
        let t = load(db, defaults).await?;
        self.put(t);
        Ok(self.current())
    }
}

/// The settings in effect: each stored value over the configuration's.
pub async fn load(db: &impl ConnectionTrait, defaults: &SiteSettings) -> AppResult<Trust> {
    let mut texts = defaults.clone();
    for row in site_setting::Entity::find().all(db).await? {
        if let Some(f) = Field::ALL.iter().find(|f| f.name() == row.name) {
            f.set(&mut texts, row.value);
        }
    }
    let seal = site_file::Entity::find_by_id(SEAL.to_string())
        .one(db)
        .await?
        .map(|f| f.etag);
    Ok(Trust { texts, seal })
}

/// Why each field is refused, as locale keys (`site.err.*`).
pub fn check(values: &SiteSettings) -> BTreeMap<String, &'static str> {
    let mut errors = BTreeMap::new();
    for f in Field::ALL {
        let v = f.get(values);
        if v.chars().count() > f.max_chars() {
            errors.insert(f.name().to_string(), "site.err.too_long");
        } else if v.chars().any(char::is_control) {
            errors.insert(f.name().to_string(), "site.err.control");
        }
    }
    let icp = values.icp.trim();
    // 滇ICP备2026000001号, or …号-1 for one site of the filing.
    if !icp.is_empty() && !errors.contains_key("icp") && !icp_looks_right(icp) {
        errors.insert("icp".into(), "site.err.icp");
    }
    errors
}

fn icp_looks_right(icp: &str) -> bool {
    let Some((before, after)) = icp.split_once("ICP备") else {
        return false;
    };
    let Some((digits, rest)) = after.split_once('号') else {
        return false;
    };
    let site_ok = rest.is_empty()
        || rest
            .strip_prefix('-')
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    before.chars().count() == 1
        && !before.is_ascii()
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && site_ok
}

/// Stores the texts an admin set (all of them), audited.
pub async fn save(
    db: &impl ConnectionTrait,
    actor: &Actor,
    defaults: &SiteSettings,
    values: SiteSettings,
) -> AppResult<()> {
    actor.require(Action::ManageSite)?;
    let values = SiteSettings {
        organiser: values.organiser.trim().to_string(),
        address: values.address.trim().to_string(),
        contact: values.contact.trim().to_string(),
        icp: values.icp.trim().to_string(),
    };
    let errors = check(&values);
    if !errors.is_empty() {
        return Err(AppError::fields(
            errors
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect(),
        ));
    }
    let before = load(db, defaults).await?.texts;
    let now = Utc::now();
    for f in Field::ALL {
        let am = site_setting::ActiveModel {
            name: Set(f.name().to_string()),
            value: Set(f.get(&values).to_string()),
            updated_at: Set(now),
        };
        site_setting::Entity::insert(am)
            .on_conflict(
                OnConflict::column(site_setting::Column::Name)
                    .update_columns([site_setting::Column::Value, site_setting::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    audit::record(
        db,
        audit::Action::Update,
        audit::Entry {
            actor_id: Some(actor.id),
            entity: "site_setting",
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&values).ok(),
            ..Default::default()
        },
    )
    .await
}

/// What kind of image the bytes are, judged by their content: `image/png`
/// (the signature, an `IHDR` chunk first and `IEND` last) or
/// `image/svg+xml` (an SVG that only draws, as course images must be).
pub fn image_kind(bytes: &[u8]) -> Result<&'static str, &'static str> {
    if bytes.is_empty() {
        return Err("site.err.seal_empty");
    }
    if bytes.len() > SEAL_LIMIT {
        return Err("site.err.seal_size");
    }
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) {
        let ihdr = bytes.get(8..16) == Some(b"\0\0\0\x0dIHDR".as_slice());
        let iend = bytes.ends_with(b"\0\0\0\0IEND\xae\x42\x60\x82");
        return if ihdr && iend {
            Ok("image/png")
        } else {
            Err("site.err.seal_kind")
        };
    }
    match crate::courses::svg::check(bytes) {
        Ok(()) => Ok("image/svg+xml"),
        Err(_) => Err("site.err.seal_kind"),
    }
}

/// Stores the organiser's seal (replacing any), audited.
pub async fn set_seal(db: &impl ConnectionTrait, actor: &Actor, bytes: Vec<u8>) -> AppResult<()> {
    actor.require(Action::ManageSite)?;
    let mime = image_kind(&bytes).map_err(|key| AppError::field("seal", key))?;
    let etag = hex::encode(&Sha256::digest(&bytes)[..12]);
    let size = bytes.len();
    let am = site_file::ActiveModel {
        name: Set(SEAL.to_string()),
        mime: Set(mime.to_string()),
        etag: Set(etag.clone()),
        content: Set(bytes),
        updated_at: Set(Utc::now()),
    };
    site_file::Entity::insert(am)
        .on_conflict(
            OnConflict::column(site_file::Column::Name)
                .update_columns([
                    site_file::Column::Mime,
                    site_file::Column::Etag,
                    site_file::Column::Content,
                    site_file::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    audit::record(
        db,
        audit::Action::Update,
        audit::Entry {
            actor_id: Some(actor.id),
            entity: "site_seal",
            after: Some(serde_json::json!({"mime": mime, "bytes": size, "etag": etag})),
            ..Default::default()
        },
    )
    .await
}

/// Removes the seal, audited.
pub async fn remove_seal(db: &impl ConnectionTrait, actor: &Actor) -> AppResult<()> {
    actor.require(Action::ManageSite)?;
    site_file::Entity::delete_by_id(SEAL.to_string())
        .exec(db)
        .await?;
    audit::record(
        db,
        audit::Action::Delete,
        audit::Entry {
            actor_id: Some(actor.id),
            entity: "site_seal",
            ..Default::default()
        },
    )
    .await
}

/// The seal image, if one was uploaded.
pub async fn seal(db: &impl ConnectionTrait) -> AppResult<Option<site_file::Model>> {
    Ok(site_file::Entity::find_by_id(SEAL.to_string())
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icp_numbers_have_the_filing_form() {
        assert!(icp_looks_right("滇ICP备2026000001号"));
        assert!(icp_looks_right("滇ICP备2026000001号-1"));
        assert!(!icp_looks_right("ICP备2026000001号"));
        assert!(!icp_looks_right("滇ICP备号"));
        assert!(!icp_looks_right("滇ICP备2026x号"));
        assert!(!icp_looks_right("滇ICP备2026000001号-"));
        assert!(!icp_looks_right("12345"));
    }

    #[test]
    fn a_seal_is_judged_by_its_bytes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0; 17]);
        png.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
        assert_eq!(image_kind(&png), Ok("image/png"));
        assert_eq!(
            image_kind(br#"<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>"#),
            Ok("image/svg+xml")
        );
        assert_eq!(image_kind(b"<html>hi</html>"), Err("site.err.seal_kind"));
        assert_eq!(
            image_kind(b"\x89PNG\r\n\x1a\n<html>"),
            Err("site.err.seal_kind")
        );
        assert_eq!(
            image_kind(br#"<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>"#),
            Err("site.err.seal_kind")
        );
        assert_eq!(
            image_kind(&vec![b' '; SEAL_LIMIT + 1]),
            Err("site.err.seal_size")
        );
        assert_eq!(image_kind(b""), Err("site.err.seal_empty"));
    }
}
