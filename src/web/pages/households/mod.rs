//! The household registry pages under `/office/households` (officials of the
//! area and admins): the list and the household form here, the detail page
//! with members, incomes, follow-ups and history in `detail`, spreadsheet
//! import in `import`. Handlers parse the form (`forms`), call one registry
//! function and render; a refusal re-renders the form in the person's
//! language. Health is shown only behind `?health=1`, and each showing is
//! written to the audit log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

mod detail;
mod forms;
mod import;

pub use detail::{add_member, follow_up, history, income, remove_confirm, remove_member, show};
pub use forms::{FollowUpForm, HouseholdForm, IncomeForm, MemberForm};
pub use import::{import, import_confirm, import_form};

use super::{Page, pager, redirect};
use crate::app::AppContext;
use crate::error::AppResult;
use crate::households::messages::{Msg, RegistryError};
use crate::households::store::{self, HouseholdPatch, ListQuery, NewHousehold};
use crate::households::vocab::{
    Cause, Health, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex, Vocabulary,
};
use crate::policy::Action;
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
/// The label of a stored `code` of vocabulary `V` in `lang`: the Chinese
/// label of the national form, or the code in words for English.
fn label<V: Vocabulary>(lang: &str, code: &str) -> String {
    if !zh(lang) {
        return code.replace('_', " ");
    }
    V::parse(code).map_or_else(|| code.to_owned(), |v| v.zh().to_owned())
}

/// The label of a poverty cause (致贫原因) in `lang`.
fn cause(lang: &str, code: &str) -> String {
    match Cause::by_code(code) {
        Some(c) if zh(lang) => c.zh.to_owned(),
        Some(c) => c.en.to_owned(),
        None => code.to_owned(),
    }
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}

/// A registry message in the page's language.
fn say(state: &AppContext, lang: &str, m: &Msg) -> String {
    m.fill(&state.views.tr(lang, m.key))
}

/// The problems of a refused write as `[{field, message}]` for the page, with
/// the status to answer; `None` for errors the page does not show in place.
fn error_list(state: &AppContext, lang: &str, e: &RegistryError) -> Option<(Value, StatusCode)> {
    match e {
        RegistryError::Invalid(p) => Some((
            Value::Array(
                p.iter()
                    .map(|(k, m)| {
                        json!({
                            "field": crate::localize::field_label(state.views.catalog(), lang, k),
                            "message": state.views.localize(lang, &say(state, lang, m)),
                        })
                    })
                    .collect(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        RegistryError::Conflict(m) | RegistryError::Elsewhere(m, _) => Some((
            json!([{"field": "", "message": say(state, lang, m)}]),
            StatusCode::CONFLICT,
        )),
        RegistryError::Other(_) => None,
    }
}

// ---- list ---------------------------------------------------------------------------

/// The areas in the official's scope as `[{code, label, selected}]` for a
/// picker: names from the township down to the village, never a code to type.
pub async fn area_options(
    state: &AppContext,
    user: &CurrentUser,
    selected: Option<&str>,
) -> AppResult<Value> {
    let prefix = user.actor.scope_prefix().unwrap_or_default();
    let selected = selected.map(str::trim).unwrap_or("");
    Ok(Value::Array(
        crate::areas::picker(&state.db, &prefix)
            .await?
            .into_iter()
            .map(
                |(code, label)| json!({"selected": code == selected, "code": code, "label": label}),
            )
            .collect(),
    ))
}

/// Households on one page of the list.
const PAGE_SIZE: u64 = 20;

pub async fn list(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let lang = locale.0;
    // A page of 20: about ten screens of cards on a phone (the API keeps 50).
    let asked_per_page = q.per_page;
    let mut q = q.into_inner();
    q.per_page.get_or_insert(PAGE_SIZE);
    let res = store::list(&state.db, &user.actor, &q).await?;
    let (page, per_page) = q.page_params();
    let items: Vec<Value> = res
        .items
        .iter()
        .map(|h| {
            json!({
                "id": h.id, "registry_no": h.registry_no, "area_code": h.area_code,
                "area_name": h.area_name, "kind": label::<HouseholdKind>(lang, h.kind.code()),
                "status": label::<HouseholdStatus>(lang, h.status.code()),
                "primary_cause": h.primary_cause.as_deref().map(|c| cause(lang, c)),
                "head": h.head, "members": h.members, "trained": h.trained,
            })
        })
        .collect();
    let filters = json!({
        "area": q.area.clone().unwrap_or_default(),
        "status": q.status.clone().unwrap_or_default(),
        "cause": q.cause.clone().unwrap_or_default(),
        "trained": q.trained.clone().unwrap_or_default(),
        "reached": q.reached.clone().unwrap_or_default(),
        "q": q.q.clone().unwrap_or_default(),
    });
    let mut qs = serde_urlencoded::to_string([
        ("area", q.area.clone().unwrap_or_default()),
        ("status", q.status.clone().unwrap_or_default()),
        ("cause", q.cause.clone().unwrap_or_default()),
        ("trained", q.trained.clone().unwrap_or_default()),
        ("reached", q.reached.clone().unwrap_or_default()),
        ("q", q.q.clone().unwrap_or_default()),
    ])
    .unwrap_or_default();
    if let Some(n) = asked_per_page {
        qs.push_str(&format!("&per_page={n}"));
    }
    let export_qs = serde_urlencoded::to_string([("area", q.area.clone().unwrap_or_default())])
        .unwrap_or_default();
    // Numbers refused in an area below this official's, for her to sort out.
    let mut conflicts: Vec<Value> = store::clashes_visible_to(&state.db, &user.actor, 20)
        .await?
        .into_iter()
        .filter_map(|e| {
            let mut v: Value = serde_json::from_str(e.after_json.as_deref()?).ok()?;
            v["at"] = json!(state.settings.local_time(e.at));
            Some(v)
        })
        .collect();
    // People read the areas' names; the codes stay in a title.
    let codes: Vec<String> = conflicts
        .iter()
        .flat_map(|v| {
            ["wanted_area", "existing_area"].map(|k| v[k].as_str().unwrap_or("").to_owned())
        })
        .collect();
    let names = crate::areas::names(&state.db, &codes).await?;
    for v in &mut conflicts {
        for k in ["wanted_area", "existing_area"] {
            let code = v[k].as_str().unwrap_or("").to_owned();
            v[format!("{k}_name")] = json!(names.get(&code).cloned().unwrap_or(code));
        }
    }
    let areas = area_options(&state, &user, q.area.as_deref()).await?;
    Page::new(&state, lang, Some(&user), "hh.title")
        .set("items", items)
        .set("conflicts", conflicts)
        .set("pager", pager(page, per_page, res.total))
        .set("f", filters)
        .set("qs", qs)
        .set("export_qs", export_qs)
        .set("v", vocabularies(lang))
        .set("areas", areas)
        .set("wide", true)
        .render(&state, "pages/households")
}

// ---- create and edit -------------------------------------------------------------------

/// The household form, with the villages of the official's scope to pick
/// from (by name; a household belongs to a village).
async fn form_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    title: &str,
    id: Option<i64>,
    values: Value,
    errors: Value,
) -> AppResult<Page> {
    let selected = values["area_code"].as_str().map(str::to_owned);
    let villages: Vec<Value> = match area_options(state, user, selected.as_deref()).await? {
        Value::Array(all) => all
            .into_iter()
            .filter(|o| {
                o["code"]
                    .as_str()
                    .and_then(|c| crate::areas::AreaCode::parse(c).ok())
                    .is_some_and(|c| c.level() == crate::areas::Level::Village)
            })
            .collect(),
        _ => vec![],
    };
    Ok(Page::new(state, lang, Some(user), title)
        .set("id", id)
        .set("values", values)
        .set("errors", errors)
        .set("villages", villages)
        .set("v", vocabularies(lang)))
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
        HouseholdForm::blank(area).values(),
        json!([]),
    )
    .await?
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
    let result = match NewHousehold::try_from(&f) {
        Ok(new) => store::create(&state.db, &user.actor, state.id_key(), &new).await,
        Err(p) => Err(RegistryError::Invalid(p)),
    };
    let e = match result {
        Ok(h) => return Ok(redirect(&format!("/office/households/{}?saved=1", h.id))),
        Err(e) => e,
    };
    match error_list(&state, locale.0, &e) {
        Some((list, status)) => {
            form_page(&state, locale.0, &user, "hh.new", None, f.values(), list)
                .await?
                .render_status(&state, "pages/household_form", status)
        }
        None => Err(e.into()),
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
    .await?
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
    let result = match HouseholdPatch::try_from(&f) {
        Ok(patch) => store::update(&state.db, &user.actor, id, &patch).await,
        Err(p) => {
            store::find_in_scope(&state.db, &user.actor, id, Action::EditHouseholds).await?;
            Err(RegistryError::Invalid(p))
        }
    };
    let e = match result {
        Ok(h) => return Ok(redirect(&format!("/office/households/{}?saved=1", h.id))),
        Err(e) => e,
    };
    match error_list(&state, locale.0, &e) {
        Some((list, status)) => form_page(
            &state,
            locale.0,
            &user,
            "hh.edit",
            Some(id),
            f.values(),
            list,
        )
        .await?
        .render_status(&state, "pages/household_form", status),
        None => Err(e.into()),
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
    store::delete(&state.db, &user.actor, id).await?;
    Ok(redirect("/office/households?deleted=1"))
}
