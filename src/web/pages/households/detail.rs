//! A household's page: its members, incomes, follow-ups and skills, and the
//! small forms on it (add or remove a member, record an income or a
//! follow-up), plus its change history.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::forms::{FollowUpForm, IncomeForm, MemberForm};
use super::{ConfirmForm, State, cause, error_list, label, vocabularies, yuan};
use crate::app::AppContext;
use crate::error::AppResult;
use crate::households::messages::{Problems, RegistryError, RegistryResult};
use crate::households::store::{self, FollowUpInput, IncomeInput, MemberInput};
use crate::households::vocab::{
    Health, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex,
};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};
use crate::web::pages::{Page, pager, redirect};

#[derive(Deserialize)]
pub struct ShowQuery {
    health: Option<String>,
    saved: Option<String>,
    /// The member a follow-up visit is due for (chosen in its form).
    member: Option<i64>,
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
                "id": m.member.id, "name": m.member.name, "sex": label::<Sex>(lang, &m.member.sex),
                "birth_year": m.member.birth_year, "relation": label::<Relation>(lang, &m.member.relation),
                "ethnicity": m.member.ethnicity, "education": m.member.education,
                "labour": m.member.labour.as_deref().map(|l| label::<Labour>(lang, l)),
                "migrant_months": m.member.migrant_months, "id_last4": m.member.id_last4,
                "health": m.member.health.as_deref().map(|x| label::<Health>(lang, x)),
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
        "kind": label::<HouseholdKind>(lang, h.kind.code()), "status": label::<HouseholdStatus>(lang, h.status.code()),
        "monitor_type": h.monitor_type.as_deref().map(|m| label::<MonitorType>(lang, m)),
        "identified_year": h.identified_year, "exited_year": h.exited_year,
        "phone": h.phone, "address": h.address,
        "primary_cause": d.primary_cause.as_deref().map(|c| cause(lang, c)),
        "other_causes": d.other_causes.iter().map(|c| cause(lang, c)).collect::<Vec<_>>(),
    });
    // The household's skill profile: the best level per competence among its
    // members, each competence by its title (one query for all of them).
    let profile = crate::reports::skills::household_profile(&state.db, h.id).await?;
    let titles: std::collections::HashMap<String, String> = if profile.is_empty() {
        Default::default()
    } else {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        crate::entities::competence::Entity::find()
            .filter(crate::entities::competence::Column::Code.is_in(profile.keys().cloned()))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|c| {
                let title = crate::learning::content::text(&c.title_json, lang, "zh-CN");
                (c.code, title)
            })
            .collect()
    };
    let skills: Vec<Value> = profile
        .into_iter()
        .map(|(c, level)| {
            let title = titles.get(&c).cloned().unwrap_or(c);
            json!({"competence": title, "level": state.views.tr(lang, &format!("dash.level_n.{level}"))})
        })
        .collect();
    Ok(Page::new(state, lang, Some(user), "hh.detail")
        .set("h", household)
        .set("skills", skills)
        .set("members", members)
        .set("incomes", incomes)
        .set("follow_ups", follow_ups)
        .set("pick_member", Value::Null)
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
    .set("pick_member", q.member)
    .render(&state, "pages/household")
}

/// Redirects after a write, or re-renders the detail page with its problems.
async fn after_write<T>(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    id: i64,
    result: RegistryResult<T>,
) -> AppResult<HttpResponse> {
    let e = match result {
        Ok(_) => return Ok(redirect(&format!("/office/households/{id}?saved=1"))),
        Err(e) => e,
    };
    match error_list(state, lang, &e) {
        Some((list, status)) => detail_page(state, lang, user, id, false, None, list)
            .await?
            .render_status(state, "pages/household", status),
        None => Err(e.into()),
    }
}

/// A form of the detail page that did not parse: 404 outside the actor's
/// area first, as the write would.
async fn refused<T>(
    state: &AppContext,
    user: &CurrentUser,
    id: i64,
    p: Problems,
) -> RegistryResult<T> {
    store::find_in_scope(&state.db, &user.actor, id, Action::EditHouseholds).await?;
    Err(RegistryError::Invalid(p))
}

pub async fn add_member(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<MemberForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let result = match MemberInput::try_from(form.into_inner()) {
        Ok(m) => store::add_member(&state.db, &user.actor, state.id_key(), id, &m)
            .await
            .map(|_| ()),
        Err(p) => refused(&state, &user, id, p).await,
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
    let r = store::remove_member(&state.db, &user.actor, id, mid).await;
    after_write(&state, locale.0, &user, id, r).await
}

pub async fn income(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<IncomeForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let result = match IncomeInput::try_from(form.into_inner()) {
        Ok(i) => store::record_income(&state.db, &user.actor, id, &i)
            .await
            .map(|_| ()),
        Err(p) => refused(&state, &user, id, p).await,
    };
    after_write(&state, locale.0, &user, id, result).await
}

pub async fn follow_up(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<FollowUpForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let result = match FollowUpInput::try_from(form.into_inner()) {
        Ok(f) => store::record_follow_up(&state.db, &user.actor, id, &f)
            .await
            .map(|_| ()),
        Err(p) => refused(&state, &user, id, p).await,
    };
    after_write(&state, locale.0, &user, id, result).await
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    #[serde(default, deserialize_with = "crate::paging::page")]
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
    let items = crate::web::pages::audit_view::readable(&state, locale.0, &res.items).await?;
    Page::new(&state, locale.0, Some(&user), "hh.history")
        .set("h", json!({"id": h.id, "registry_no": h.registry_no}))
        .set("items", items)
        .set("pager", pager(page, 50, res.total))
        .set("wide", true)
        .render(&state, "pages/household_history")
}
