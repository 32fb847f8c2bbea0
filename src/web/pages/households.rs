//! The household registry pages under `/office/households` (officials of the
//! area and admins): list, detail, create, edit, delete, members, incomes,
//! follow-ups, history and spreadsheet import. Health is shown only behind
//! `?health=1`, and each showing is written to the audit log.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Page, pager, redirect};
use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::households::bulk;
use crate::households::store::{
    self, FollowUpInput, HouseholdPatch, IncomeInput, ListQuery, MemberInput, NewHousehold,
};
use crate::households::vocab::{
    Cause, Health, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex,
};
use crate::policy::Action;
use crate::web::api::households::{IMPORT_LIMIT, key, read_body};
use crate::web::extract::{CurrentUser, Locale};

type State = web::Data<AppContext>;

fn zh(lang: &str) -> bool {
    lang == "zh-CN"
}

/// `[{code, label}]` of a vocabulary in the page's language.
fn options<T: Copy>(
    lang: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    zhl: fn(T) -> &'static str,
) -> Value {
    Value::Array(
        all.iter()
            .map(|v| {
                let label = if zh(lang) { zhl(*v) } else { code(*v) };
                json!({"code": code(*v), "label": label})
            })
            .collect(),
    )
}

fn cause_options(lang: &str) -> Value {
    Value::Array(
        Cause::ALL
            .iter()
            .map(|c| {
                let name = if zh(lang) { c.zh } else { c.en };
                json!({"code": c.code, "label": format!("{} {name}", c.code)})
            })
            .collect(),
    )
}

fn vocabularies(lang: &str) -> Value {
    json!({
        "kinds": options(lang, HouseholdKind::ALL, HouseholdKind::code, HouseholdKind::zh),
        "statuses": options(lang, HouseholdStatus::ALL, HouseholdStatus::code, HouseholdStatus::zh),
        "monitor_types": options(lang, MonitorType::ALL, MonitorType::code, MonitorType::zh),
        "relations": options(lang, Relation::ALL, Relation::code, Relation::zh),
        "sexes": options(lang, Sex::ALL, Sex::code, Sex::zh),
        "health": options(lang, Health::ALL, Health::code, Health::zh),
        "labour": options(lang, Labour::ALL, Labour::code, Labour::zh),
        "causes": cause_options(lang),
    })
}

/// A stored code as the page's language shows it.
fn label(lang: &str, code: &str) -> String {
    if !zh(lang) {
        if let Some(c) = Cause::by_code(code) {
            return c.en.to_owned();
        }
        return code.to_owned();
    }
    HouseholdKind::parse(code)
        .map(HouseholdKind::zh)
        .or_else(|| HouseholdStatus::parse(code).map(HouseholdStatus::zh))
        .or_else(|| MonitorType::parse(code).map(MonitorType::zh))
        .or_else(|| Relation::parse(code).map(Relation::zh))
        .or_else(|| Sex::parse(code).map(Sex::zh))
        .or_else(|| Health::parse(code).map(Health::zh))
        .or_else(|| Labour::parse(code).map(Labour::zh))
        .or_else(|| Cause::by_code(code).map(|c| c.zh))
        .unwrap_or(code)
        .to_owned()
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}

/// Field errors of a failed write as `[{field, message}]`, for the page.
fn error_list(e: &AppError) -> Option<Value> {
    match e {
        AppError::Validation { fields, .. } => Some(Value::Array(
            fields
                .iter()
                .map(|(k, v)| json!({"field": k, "message": v}))
                .collect(),
        )),
        AppError::Conflict(m) => Some(json!([{"field": "", "message": m}])),
        _ => None,
    }
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn year(errs: &mut BTreeMap<String, String>, field: &str, s: &Option<String>) -> Option<i32> {
    let s = opt(s)?;
    match s.parse() {
        Ok(y) => Some(y),
        Err(_) => {
            errs.insert(field.into(), format!("{s} is not a whole number"));
            None
        }
    }
}

// ---- list ---------------------------------------------------------------------------

pub async fn list(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let lang = locale.0;
    let res = store::list(&state.db, &user.actor, &q).await?;
    let (page, per_page) = q.page_params();
    let items: Vec<Value> = res
        .items
        .iter()
        .map(|h| {
            json!({
                "id": h.id, "registry_no": h.registry_no, "area_code": h.area_code,
                "area_name": h.area_name, "kind": label(lang, &h.kind),
                "status": label(lang, &h.status),
                "primary_cause": h.primary_cause.as_deref().map(|c| label(lang, c)),
                "head": h.head, "members": h.members, "trained": h.trained,
            })
        })
        .collect();
    let filters = json!({
        "area": q.area.clone().unwrap_or_default(),
        "status": q.status.clone().unwrap_or_default(),
        "cause": q.cause.clone().unwrap_or_default(),
        "trained": q.trained.clone().unwrap_or_default(),
        "q": q.q.clone().unwrap_or_default(),
    });
    let qs = serde_urlencoded::to_string([
        ("area", q.area.clone().unwrap_or_default()),
        ("status", q.status.clone().unwrap_or_default()),
        ("cause", q.cause.clone().unwrap_or_default()),
        ("trained", q.trained.clone().unwrap_or_default()),
        ("q", q.q.clone().unwrap_or_default()),
    ])
    .unwrap_or_default();
    let export_qs = serde_urlencoded::to_string([("area", q.area.clone().unwrap_or_default())])
        .unwrap_or_default();
    Page::new(&state, lang, Some(&user), "hh.title")
        .set("items", items)
        .set("pager", pager(page, per_page, res.total))
        .set("f", filters)
        .set("qs", qs)
        .set("export_qs", export_qs)
        .set("v", vocabularies(lang))
        .set("wide", true)
        .render(&state, "pages/households")
}

// ---- create and edit -------------------------------------------------------------------

/// The household form; `head_*` fields only when creating.
#[derive(Debug, Default, Deserialize)]
pub struct HouseholdForm {
    registry_no: Option<String>,
    area_code: Option<String>,
    village_group: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    monitor_type: Option<String>,
    identified_year: Option<String>,
    exited_year: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    primary_cause: Option<String>,
    other_cause_1: Option<String>,
    other_cause_2: Option<String>,
    head_name: Option<String>,
    head_id_number: Option<String>,
    head_ethnicity: Option<String>,
    head_education: Option<String>,
    head_health: Option<String>,
    head_labour: Option<String>,
}

impl HouseholdForm {
    fn others(&self) -> Vec<String> {
        [opt(&self.other_cause_1), opt(&self.other_cause_2)]
            .into_iter()
            .flatten()
            .collect()
    }

    /// What the form shows again: never the identity number.
    fn values(&self) -> Value {
        json!({
            "registry_no": self.registry_no, "area_code": self.area_code,
            "village_group": self.village_group, "kind": self.kind, "status": self.status,
            "monitor_type": self.monitor_type, "identified_year": self.identified_year,
            "exited_year": self.exited_year, "phone": self.phone, "address": self.address,
            "primary_cause": self.primary_cause, "other_cause_1": self.other_cause_1,
            "other_cause_2": self.other_cause_2, "head_name": self.head_name,
            "head_ethnicity": self.head_ethnicity, "head_education": self.head_education,
            "head_health": self.head_health, "head_labour": self.head_labour,
        })
    }
}

fn form_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    title: &str,
    id: Option<i64>,
    values: Value,
    errors: Value,
) -> Page {
    Page::new(state, lang, Some(user), title)
        .set("id", id)
        .set("values", values)
        .set("errors", errors)
        .set("v", vocabularies(lang))
}

pub async fn new_form(state: State, locale: Locale, user: CurrentUser) -> AppResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    let area = user
        .actor
        .area
        .as_ref()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    form_page(
        &state,
        locale.0,
        &user,
        "hh.new",
        None,
        HouseholdForm {
            area_code: Some(area),
            kind: Some("ordinary_poor".into()),
            status: Some("registered".into()),
            ..Default::default()
        }
        .values(),
        json!([]),
    )
    .render(&state, "pages/household_form")
}

pub async fn create(
    state: State,
    locale: Locale,
    user: CurrentUser,
    form: web::Form<HouseholdForm>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    let f = form.into_inner();
    let mut errs = BTreeMap::new();
    let new = NewHousehold {
        registry_no: f.registry_no.clone().unwrap_or_default(),
        area_code: f.area_code.clone().unwrap_or_default(),
        village_group: opt(&f.village_group),
        kind: opt(&f.kind),
        status: opt(&f.status),
        monitor_type: opt(&f.monitor_type),
        identified_year: year(&mut errs, "identified_year", &f.identified_year),
        exited_year: year(&mut errs, "exited_year", &f.exited_year),
        phone: opt(&f.phone),
        address: opt(&f.address),
        primary_cause: opt(&f.primary_cause),
        other_causes: f.others(),
        members: vec![MemberInput {
            name: f.head_name.clone().unwrap_or_default(),
            id_number: f.head_id_number.clone().unwrap_or_default(),
            relation: "head".into(),
            ethnicity: opt(&f.head_ethnicity),
            education: opt(&f.head_education),
            health: opt(&f.head_health),
            labour: opt(&f.head_labour),
            ..Default::default()
        }],
    };
    let result = if errs.is_empty() {
        let txn = crate::db::begin_write(&state.db).await?;
        match store::create(&txn, &user.actor, key(&state), &new).await {
            Ok(h) => {
                txn.commit().await?;
                Ok(h)
            }
            Err(e) => Err(e),
        }
    } else {
        Err(AppError::fields(errs))
    };
    match result {
        Ok(h) => Ok(redirect(&format!("/office/households/{}?saved=1", h.id))),
        Err(e) => match error_list(&e) {
            Some(list) => form_page(&state, locale.0, &user, "hh.new", None, f.values(), list)
                .render_status(&state, "pages/household_form", status_of(&e)),
            None => Err(e),
        },
    }
}

fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

pub async fn edit_form(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    store::find_in_scope(&state.db, &user.actor, id, Action::EditHouseholds).await?;
    let d = store::get(&state.db, &user.actor, id, false).await?;
    let h = &d.household;
    let values = json!({
        "registry_no": h.registry_no, "area_code": h.area_code,
        "village_group": h.village_group, "kind": h.kind, "status": h.status,
        "monitor_type": h.monitor_type, "identified_year": h.identified_year,
        "exited_year": h.exited_year, "phone": h.phone, "address": h.address,
        "primary_cause": d.primary_cause, "other_cause_1": d.other_causes.first(),
        "other_cause_2": d.other_causes.get(1),
    });
    form_page(
        &state,
        locale.0,
        &user,
        "hh.edit",
        Some(id),
        values,
        json!([]),
    )
    .render(&state, "pages/household_form")
}

pub async fn update(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<HouseholdForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let f = form.into_inner();
    let mut errs = BTreeMap::new();
    let patch = HouseholdPatch {
        registry_no: f.registry_no.clone(),
        area_code: f.area_code.clone(),
        village_group: Some(opt(&f.village_group)),
        kind: opt(&f.kind),
        status: opt(&f.status),
        monitor_type: Some(opt(&f.monitor_type)),
        identified_year: Some(year(&mut errs, "identified_year", &f.identified_year)),
        exited_year: Some(year(&mut errs, "exited_year", &f.exited_year)),
        phone: Some(opt(&f.phone)),
        address: Some(opt(&f.address)),
        primary_cause: Some(opt(&f.primary_cause)),
        other_causes: Some(f.others()),
    };
    let result = if errs.is_empty() {
        let txn = crate::db::begin_write(&state.db).await?;
        match store::update(&txn, &user.actor, id, &patch).await {
            Ok(h) => {
                txn.commit().await?;
                Ok(h)
            }
            Err(e) => Err(e),
        }
    } else {
        store::find_in_scope(&state.db, &user.actor, id, Action::EditHouseholds).await?;
        Err(AppError::fields(errs))
    };
    match result {
        Ok(h) => Ok(redirect(&format!("/office/households/{}?saved=1", h.id))),
        Err(e) => match error_list(&e) {
            Some(list) => form_page(
                &state,
                locale.0,
                &user,
                "hh.edit",
                Some(id),
                f.values(),
                list,
            )
            .render_status(&state, "pages/household_form", status_of(&e)),
            None => Err(e),
        },
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    confirm: Option<String>,
}

pub async fn delete(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<ConfirmForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    store::find_in_scope(&state.db, &user.actor, id, Action::EditHouseholds).await?;
    if form.confirm.as_deref() != Some("yes") {
        return Ok(redirect(&format!("/office/households/{id}/edit?confirm=1")));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    store::delete(&txn, &user.actor, id).await?;
    txn.commit().await?;
    Ok(redirect("/office/households?deleted=1"))
}

// ---- detail -----------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct ShowQuery {
    health: Option<String>,
    saved: Option<String>,
}

async fn detail_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    id: i64,
    sensitive: bool,
    flash: Option<String>,
    errors: Value,
) -> AppResult<Page> {
    let d = store::get(&state.db, &user.actor, id, sensitive).await?;
    let h = &d.household;
    let members: Vec<Value> = d
        .members
        .iter()
        .map(|m| {
            json!({
                "id": m.id, "name": m.name, "sex": label(lang, &m.sex), "birth_year": m.birth_year,
                "relation": label(lang, &m.relation), "ethnicity": m.ethnicity,
                "education": m.education, "labour": m.labour.as_deref().map(|l| label(lang, l)),
                "migrant_months": m.migrant_months, "id_last4": m.id_last4,
                "health": m.health.as_deref().map(|x| label(lang, x)),
                "learner": m.learner, "trained": m.trained,
            })
        })
        .collect();
    let incomes: Vec<Value> = d
        .incomes
        .iter()
        .map(|i| {
            json!({"year": i.year, "net": yuan(i.net_per_capita_fen), "wage": yuan(i.wage_fen),
                "business": yuan(i.business_fen), "transfer": yuan(i.transfer_fen),
                "property": yuan(i.property_fen), "costs": yuan(i.costs_fen),
                "verified": i.verified_at.is_some()})
        })
        .collect();
    let follow_ups: Vec<Value> = d
        .follow_ups
        .iter()
        .map(|f| {
            json!({"date": f.surveyed_at.format("%Y-%m-%d").to_string(), "months": f.months_after,
                "shop_active": f.shop_active, "orders": f.orders_30d,
                "sales": f.sales_30d_fen.map(yuan), "work_status": f.work_status, "notes": f.notes,
                "member_id": f.member_id})
        })
        .collect();
    let household = json!({
        "id": h.id, "registry_no": h.registry_no, "area_code": h.area_code,
        "area_name": d.area_name, "village_group": h.village_group,
        "kind": label(lang, &h.kind), "status": label(lang, &h.status),
        "monitor_type": h.monitor_type.as_deref().map(|m| label(lang, m)),
        "identified_year": h.identified_year, "exited_year": h.exited_year,
        "phone": h.phone, "address": h.address,
        "primary_cause": d.primary_cause.as_deref().map(|c| label(lang, c)),
        "other_causes": d.other_causes.iter().map(|c| label(lang, c)).collect::<Vec<_>>(),
    });
    // The household's skill profile: the best level per competence among its members.
    let skills: Vec<Value> = crate::reports::skills::household_profile(&state.db, h.id)
        .await?
        .into_iter()
        .map(|(c, level)| {
            json!({"competence": c, "level": state.views.tr(lang, &format!("dash.level_n.{level}"))})
        })
        .collect();
    Ok(Page::new(state, lang, Some(user), "hh.detail")
        .set("h", household)
        .set("skills", skills)
        .set("members", members)
        .set("incomes", incomes)
        .set("follow_ups", follow_ups)
        .set("sensitive", d.sensitive)
        .set("flash", flash)
        .set("errors", errors)
        .set("v", vocabularies(lang))
        .set("this_year", chrono::Utc::now().format("%Y").to_string())
        .set("wide", true))
}

pub async fn show(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<ShowQuery>,
) -> AppResult<HttpResponse> {
    let sensitive = q.health.as_deref() == Some("1");
    let flash = q
        .saved
        .as_ref()
        .map(|_| state.views.tr(locale.0, "hh.saved"));
    detail_page(
        &state,
        locale.0,
        &user,
        path.into_inner(),
        sensitive,
        flash,
        json!([]),
    )
    .await?
    .render(&state, "pages/household")
}

/// Re-renders the detail page with the errors of a failed form, or redirects.
async fn after_write<T>(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    id: i64,
    result: AppResult<T>,
) -> AppResult<HttpResponse> {
    match result {
        Ok(_) => Ok(redirect(&format!("/office/households/{id}?saved=1"))),
        Err(e) => match error_list(&e) {
            Some(list) => detail_page(state, lang, user, id, false, None, list)
                .await?
                .render_status(state, "pages/household", status_of(&e)),
            None => Err(e),
        },
    }
}

#[derive(Deserialize)]
pub struct MemberForm {
    name: Option<String>,
    id_number: Option<String>,
    relation: Option<String>,
    ethnicity: Option<String>,
    education: Option<String>,
    school_status: Option<String>,
    health: Option<String>,
    labour: Option<String>,
    migrant_months: Option<String>,
}

pub async fn add_member(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<MemberForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let f = form.into_inner();
    let mut errs = BTreeMap::new();
    let m = MemberInput {
        name: f.name.unwrap_or_default(),
        id_number: f.id_number.unwrap_or_default(),
        relation: f.relation.unwrap_or_default(),
        ethnicity: opt(&f.ethnicity),
        education: opt(&f.education),
        school_status: opt(&f.school_status),
        health: opt(&f.health),
        labour: opt(&f.labour),
        migrant_months: year(&mut errs, "migrant_months", &f.migrant_months),
        ..Default::default()
    };
    let result = if errs.is_empty() {
        let txn = crate::db::begin_write(&state.db).await?;
        let r = store::add_member(&txn, &user.actor, key(&state), id, &m).await;
        if r.is_ok() {
            txn.commit().await?;
        }
        r.map(|_| ())
    } else {
        store::find_in_scope(&state.db, &user.actor, id, Action::EditHouseholds).await?;
        Err(AppError::fields(errs))
    };
    after_write(&state, locale.0, &user, id, result).await
}

pub async fn remove_confirm(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (id, mid) = path.into_inner();
    let (h, m) =
        store::find_member(&state.db, &user.actor, id, mid, Action::EditHouseholds).await?;
    Page::new(&state, locale.0, Some(&user), "hh.remove_member")
        .set("h", json!({"id": h.id, "registry_no": h.registry_no}))
        .set(
            "m",
            json!({"id": m.id, "name": m.name, "birth_year": m.birth_year, "id_last4": m.id_last4}),
        )
        .render(&state, "pages/member_remove")
}

pub async fn remove_member(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(i64, i64)>,
    form: web::Form<ConfirmForm>,
) -> AppResult<HttpResponse> {
    let (id, mid) = path.into_inner();
    store::find_member(&state.db, &user.actor, id, mid, Action::EditHouseholds).await?;
    if form.confirm.as_deref() != Some("yes") {
        return Ok(redirect(&format!(
            "/office/households/{id}/members/{mid}/remove"
        )));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let r = store::remove_member(&txn, &user.actor, id, mid).await;
    if r.is_ok() {
        txn.commit().await?;
    }
    after_write(&state, locale.0, &user, id, r).await
}

#[derive(Deserialize)]
pub struct IncomeForm {
    year: Option<String>,
    wage: Option<String>,
    business: Option<String>,
    transfer: Option<String>,
    property: Option<String>,
    costs: Option<String>,
    net_per_capita: Option<String>,
    verified: Option<String>,
}

/// Yuan as typed ("1200.50") to fen.
fn fen(errs: &mut BTreeMap<String, String>, field: &str, s: &Option<String>) -> Option<i64> {
    let s = opt(s)?;
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let ok = !whole.is_empty()
        && whole
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit());
    let parsed = ok
        .then(|| {
            let w: i64 = whole.parse().ok()?;
            let f: i64 = format!("{frac:0<2}").parse().ok()?;
            Some(if w < 0 || whole.starts_with('-') {
                w * 100 - f
            } else {
                w * 100 + f
            })
        })
        .flatten();
    if parsed.is_none() {
        errs.insert(field.into(), format!("{s} is not an amount in yuan"));
    }
    parsed
}

pub async fn income(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<IncomeForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let f = form.into_inner();
    let mut errs = BTreeMap::new();
    let input = IncomeInput {
        year: year(&mut errs, "year", &f.year).unwrap_or(0),
        wage_fen: fen(&mut errs, "wage", &f.wage).unwrap_or(0),
        business_fen: fen(&mut errs, "business", &f.business).unwrap_or(0),
        transfer_fen: fen(&mut errs, "transfer", &f.transfer).unwrap_or(0),
        property_fen: fen(&mut errs, "property", &f.property).unwrap_or(0),
        costs_fen: fen(&mut errs, "costs", &f.costs).unwrap_or(0),
        net_per_capita_fen: fen(&mut errs, "net_per_capita", &f.net_per_capita),
        verified: f.verified.is_some(),
    };
    let result = if errs.is_empty() {
        let txn = crate::db::begin_write(&state.db).await?;
        let r = store::record_income(&txn, &user.actor, id, &input).await;
        if r.is_ok() {
            txn.commit().await?;
        }
        r.map(|_| ())
    } else {
        store::find_in_scope(&state.db, &user.actor, id, Action::EditHouseholds).await?;
        Err(AppError::fields(errs))
    };
    after_write(&state, locale.0, &user, id, result).await
}

#[derive(Deserialize)]
pub struct FollowUpForm {
    member_id: Option<String>,
    surveyed_at: Option<String>,
    months_after: Option<String>,
    shop_active: Option<String>,
    orders_30d: Option<String>,
    sales_30d: Option<String>,
    work_status: Option<String>,
    notes: Option<String>,
}

pub async fn follow_up(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<FollowUpForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let f = form.into_inner();
    let mut errs = BTreeMap::new();
    let input = FollowUpInput {
        member_id: year(&mut errs, "member_id", &f.member_id).map(i64::from),
        surveyed_at: opt(&f.surveyed_at),
        months_after: year(&mut errs, "months_after", &f.months_after).unwrap_or(0),
        shop_active: match opt(&f.shop_active).as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
        orders_30d: year(&mut errs, "orders_30d", &f.orders_30d),
        sales_30d_fen: fen(&mut errs, "sales_30d", &f.sales_30d),
        work_status: opt(&f.work_status),
        notes: opt(&f.notes),
    };
    let result = if errs.is_empty() {
        let txn = crate::db::begin_write(&state.db).await?;
        let r = store::record_follow_up(&txn, &user.actor, id, &input).await;
        if r.is_ok() {
            txn.commit().await?;
        }
        r.map(|_| ())
    } else {
        store::find_in_scope(&state.db, &user.actor, id, Action::EditHouseholds).await?;
        Err(AppError::fields(errs))
    };
    after_write(&state, locale.0, &user, id, result).await
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    page: Option<u64>,
}

pub async fn history(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<HistoryQuery>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let page = q.page.unwrap_or(1).max(1);
    let h = store::find_in_scope(&state.db, &user.actor, id, Action::ViewHouseholds).await?;
    let res = store::history(&state.db, &user.actor, id, page, 50).await?;
    let items: Vec<Value> = res
        .items
        .iter()
        .map(|e| {
            json!({"at": e.at.format("%Y-%m-%d %H:%M").to_string(), "action": e.action,
                "actor_id": e.actor_id, "reason": e.reason, "before": e.before_json,
                "after": e.after_json})
        })
        .collect();
    Page::new(&state, locale.0, Some(&user), "hh.history")
        .set("h", json!({"id": h.id, "registry_no": h.registry_no}))
        .set("items", items)
        .set("pager", pager(page, 50, res.total))
        .set("wide", true)
        .render(&state, "pages/household_history")
}

// ---- import ------------------------------------------------------------------------------

pub async fn import_form(
    state: State,
    locale: Locale,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    Page::new(&state, locale.0, Some(&user), "hh.import")
        .set("result", Value::Null)
        .set("errors", json!([]))
        .set("csv", "")
        .render(&state, "pages/household_import")
}

/// The uploaded file of a `multipart/form-data` body (field `file`), or the
/// pasted text (field `csv`) when no file was chosen.
fn multipart_file(content_type: &str, body: &[u8]) -> Option<Vec<u8>> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delim = format!("--{boundary}");
    let mut file = None;
    let mut text = None;
    for part in split(body, delim.as_bytes()).into_iter().skip(1) {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(end) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..end]).to_ascii_lowercase();
        let content = &part[end + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        if headers.contains("name=\"file\"") && !content.is_empty() {
            file = Some(content.to_vec());
        } else if headers.contains("name=\"csv\"") && !content.trim_ascii().is_empty() {
            text = Some(content.to_vec());
        }
    }
    file.or(text)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut hay: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = find(hay, delim) {
        out.push(&hay[..i]);
        hay = &hay[i + delim.len()..];
    }
    out.push(hay);
    out
}

pub async fn import(
    state: State,
    locale: Locale,
    user: CurrentUser,
    req: HttpRequest,
    body: web::Payload,
) -> crate::web::errors::WebResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    let bytes = read_body(body, IMPORT_LIMIT).await?;
    let ctype = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let file = if ctype.starts_with("multipart/form-data") {
        multipart_file(&ctype, &bytes)
    } else if ctype.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csv")
            .map(|(_, v)| v.into_owned().into_bytes())
            .filter(|v| !v.trim_ascii().is_empty())
    } else {
        Some(bytes)
    };
    let page = |result: Value, errors: Value, status: StatusCode| {
        Page::new(&state, locale.0, Some(&user), "hh.import")
            .set("result", result)
            .set("errors", errors)
            .set("csv", "")
            .render_status(&state, "pages/household_import", status)
            .map_err(crate::web::errors::WebError::from)
    };
    let Some(file) = file else {
        return page(
            Value::Null,
            json!([{"row": 0, "field": "", "message": state.views.tr(locale.0, "hh.import_empty")}]),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let scope = user.actor.scope_prefix().unwrap_or_default();
    let outcome =
        match bulk::parse_for(&state.db, Some(&user.actor), &scope, key(&state), &file).await {
            Ok(plan) => bulk::import_plan(&state.db, &plan, Some(&user.actor)).await,
            Err(e) => Err(e),
        };
    match outcome {
        Ok(done) => page(json!(done), json!([]), StatusCode::OK),
        Err(AppError::Import { errors, .. }) => {
            page(Value::Null, json!(errors), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}
