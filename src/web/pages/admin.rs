//! People and areas pages: `/admin/users` (admins: everyone; trainers and
//! officials: the learners of their area), `/admin/audit`, `/admin/areas`, and
//! the landing pages of each role.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use sea_orm::{ActiveEnum, Iterable};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Page, pager, redirect};
use crate::accounts::users::{self, NewUser, UserChange, UserQuery, UserView};
use crate::app::AppContext;
use crate::areas::{self, NewArea};
use crate::audit;
use crate::entities::mail_outbox::MailState;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};
use crate::web::upload::Upload;

type State = web::Data<AppContext>;

pub async fn landing(state: State, locale: Locale, user: CurrentUser) -> AppResult<HttpResponse> {
    if user.actor.role == crate::accounts::Role::Learner {
        return Err(AppError::Forbidden);
    }
    let role = user.actor.role.as_str();
    Page::new(&state, locale.0, Some(&user), &format!("landing.{role}"))
        .set("role", role)
        .render(&state, "pages/landing")
}

pub async fn users_list(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<UserQuery>,
) -> AppResult<HttpResponse> {
    let (items, total) = users::list(&state.db, &user.actor, &q).await?;
    let (page, per_page) = users::page_params(q.page, q.per_page);
    let codes: Vec<String> = items.iter().filter_map(|u| u.area_code.clone()).collect();
    let names = crate::areas::names(&state.db, &codes).await?;
    // People read the area's name; its code stays in the cell's title.
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|u| {
            let mut v = serde_json::to_value(UserView::from(u)).unwrap_or_default();
            v["area_name"] = json!(u.area_code.as_ref().and_then(|c| names.get(c)));
            v
        })
        .collect();
    Page::new(&state, locale.0, Some(&user), "users.title")
        .set("items", items)
        .set("pager", pager(page, per_page, total))
        .set("q", q.q.clone().unwrap_or_default())
        .set("role", q.role.clone().unwrap_or_default())
        .set("is_admin", user.actor.is_admin())
        .set("wide", true)
        .render(&state, "pages/users")
}

/// The new-user form: the village is picked by name among the townships and
/// villages of the creator's area; a typed area code is the fallback.
async fn user_form_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    values: serde_json::Value,
    errors: serde_json::Value,
) -> AppResult<Page> {
    let chosen = values["area_code"].as_str().map(str::to_string);
    let villages = super::teach::area_groups(state, lang, user, chosen.as_deref()).await?;
    // A code the list does not hold stays in the fallback field.
    let listed = villages.iter().any(|g| {
        g["options"]
            .as_array()
            .is_some_and(|o| o.iter().any(|o| o["selected"] == true))
    });
    let other = chosen.filter(|c| !c.is_empty() && !listed);
    // Each field's message in the page's language.
    let errors = match errors {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let said = v.as_str().map(|t| state.views.localize(lang, t));
                    (k, said.map_or(v, serde_json::Value::from))
                })
                .collect(),
        ),
        other => other,
    };
    Ok(Page::new(state, lang, Some(user), "users.new")
        .set("values", values)
        .set("errors", errors)
        .set("villages", villages)
        .set("area_other", other)
        .set("is_admin", user.actor.is_admin()))
}

pub async fn user_new(state: State, locale: Locale, user: CurrentUser) -> AppResult<HttpResponse> {
    user.actor.require(Action::CreateLearner)?;
    // A village trainer's own village is the likely one; a township's is not
    // a village, so nothing is chosen for her.
    let own = user
        .actor
        .area
        .as_ref()
        .filter(|a| a.level() == crate::areas::Level::Village)
        .map(|a| a.as_str().to_string());
    user_form_page(&state, locale.0, &user, json!({"login": "", "display_name": "", "email": "", "role": "learner", "pin": true, "area_code": own}), json!({}))
        .await?
        .render(&state, "pages/user_new")
}

#[derive(Deserialize)]
pub struct NewUserForm {
    login: String,
    display_name: String,
    email: Option<String>,
    password: String,
    pin: Option<String>,
    role: Option<String>,
    /// The village picked by name (its code).
    area_code: Option<String>,
    /// A typed area code, for an area the list does not hold.
    area_other: Option<String>,
}

/// The page's form gives the same service input as the API's JSON body.
impl From<NewUserForm> for NewUser {
    fn from(f: NewUserForm) -> NewUser {
        NewUser {
            login: f.login,
            display_name: f.display_name,
            email: f.email,
            password: f.password,
            pin: f.pin.is_some(),
            role: f.role.unwrap_or_else(|| "learner".into()),
            area_code: f
                .area_other
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .or(f.area_code),
            ..Default::default()
        }
    }
}

pub async fn user_create(
    state: State,
    locale: Locale,
    user: CurrentUser,
    form: web::Form<NewUserForm>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::CreateLearner)?;
    let new = NewUser::from(form.into_inner());
    let no_area = new.area_code.as_deref().is_none_or(|c| c.trim().is_empty());
    let result = if new.role == "learner" && no_area {
        // Asked here, before the area is checked against the creator's.
        let why = state.views.tr(locale.0, "users.err.village");
        Err(AppError::field("area_code", why))
    } else {
        users::create_and_welcome(&state, &user.actor, &new).await
    };
    let (errors, status) = match result {
        Ok(u) => return Ok(redirect(&format!("/admin/users/{}?created=1", u.id))),
        Err(AppError::Validation { fields, .. }) => {
            (json!(fields), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(AppError::Conflict(m)) => (json!({"login": m}), StatusCode::CONFLICT),
        Err(e) => return Err(e),
    };
    let values = json!({"login": new.login, "display_name": new.display_name, "email": new.email,
        "role": new.role, "pin": new.pin, "area_code": new.area_code});
    user_form_page(&state, locale.0, &user, values, errors)
        .await?
        .render_status(&state, "pages/user_new", status)
}

#[derive(Deserialize)]
pub struct Flash {
    created: Option<String>,
    saved: Option<String>,
    confirm: Option<String>,
}

/// The edit page of a user the actor manages.
async fn user_edit_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    id: i64,
    flash: Option<String>,
    errors: serde_json::Value,
) -> AppResult<Page> {
    let u = users::get_managed(&state.db, &user.actor, id, Action::ManageUser).await?;
    Ok(Page::new(state, lang, Some(user), "users.edit")
        .set("u", UserView::from(&u))
        .set("is_admin", user.actor.is_admin())
        .set("self_edit", u.id == user.actor.id)
        .set("flash", flash)
        .set("errors", errors))
}

pub async fn user_show(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let flash = if q.created.is_some() {
        Some(state.views.tr(locale.0, "users.created"))
    } else if q.saved.is_some() {
        Some(state.views.tr(locale.0, "users.saved"))
    } else {
        None
    };
    user_edit_page(&state, locale.0, &user, path.into_inner(), flash, json!({}))
        .await?
        .set("confirm_needed", q.confirm.is_some())
        .render(&state, "pages/user_edit")
}

#[derive(Deserialize)]
pub struct EditForm {
    display_name: Option<String>,
    email: Option<String>,
    role: Option<String>,
    area_code: Option<String>,
    disabled: Option<String>,
    intent: Option<String>,
    confirm: Option<String>,
}

/// The page's form gives the same service input as the API's JSON body.
impl From<EditForm> for UserChange {
    fn from(f: EditForm) -> UserChange {
        match f.intent.as_deref() {
            Some("disable") => UserChange {
                disabled: Some(true),
                ..Default::default()
            },
            Some("enable") => UserChange {
                disabled: Some(false),
                ..Default::default()
            },
            _ => UserChange {
                display_name: f.display_name,
                email: f.email,
                role: f.role,
                area_code: f.area_code,
                disabled: f.disabled.map(|d| d == "on"),
                member_id: None,
            },
        }
    }
}

pub async fn user_update(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<EditForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let form = form.into_inner();
    // Disabling signs the person out everywhere: the box must be ticked.
    if form.intent.as_deref() == Some("disable") && form.confirm.as_deref() != Some("yes") {
        return Ok(redirect(&format!("/admin/users/{id}?confirm=1")));
    }
    let change = UserChange::from(form);
    match users::update(&state.db, &user.actor, id, &change).await {
        Ok(_) => {
            state.sessions.refresh(&state.db).await?;
            Ok(redirect(&format!("/admin/users/{id}?saved=1")))
        }
        Err(AppError::Validation { fields, .. }) => {
            let fields: std::collections::BTreeMap<_, _> = fields
                .into_iter()
                .map(|(k, v)| (k, state.views.localize(locale.0, &v)))
                .collect();
            user_edit_page(&state, locale.0, &user, id, None, json!(fields))
                .await?
                .render_status(&state, "pages/user_edit", StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

/// A new password (or PIN): the page's form and the API's JSON body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordForm {
    pub password: String,
}

pub async fn user_password(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<PasswordForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    users::reset_password(&state.db, &user.actor, id, &form.password).await?;
    state.sessions.refresh(&state.db).await?;
    Ok(redirect(&format!("/admin/users/{id}?saved=1")))
}

pub async fn users_import_form(
    state: State,
    locale: Locale,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::CreateLearner)?;
    import_page(&state, locale.0, &user, serde_json::Value::Null)
}

fn import_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    result: serde_json::Value,
) -> AppResult<HttpResponse> {
    Page::new(state, lang, Some(user), "users.import")
        .set("result", result)
        .set("csv", "")
        .render(state, "pages/users_import")
}

/// A CSV file or pasted text (see `Upload`).
pub async fn users_import(
    state: State,
    locale: Locale,
    user: CurrentUser,
    upload: Upload<1>,
) -> crate::web::errors::WebResult<HttpResponse> {
    user.actor.require(Action::CreateLearner)?;
    let csv = upload.read().await?.unwrap_or_default();
    let created = users::import_learners(&state.db, &user.actor, &csv).await?;
    Ok(import_page(
        &state,
        locale.0,
        &user,
        json!({"created": created}),
    )?)
}

pub async fn audit_list(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let res = q.list(&state.db, &user.actor).await?;
    let (page, per_page) = users::page_params(q.page, q.per_page);
    let items = super::audit_view::readable(&state, locale.0, &res.items).await?;
    let actions: Vec<Value> = [
        "create",
        "update",
        "delete",
        "read_sensitive",
        "import",
        "export",
        "sign_in",
        "sign_in_failed",
        "sign_in_locked",
        "sign_out",
        "role_change",
        "conflict",
    ]
    .iter()
    .map(|a| json!({"code": a, "label": state.views.tr(locale.0, &format!("audit.act.{a}"))}))
    .collect();
    Page::new(&state, locale.0, Some(&user), "audit.title")
        .set("items", items)
        .set("actions", actions)
        .set("pager", pager(page, per_page, res.total))
        .set("f", json!({"action": q.filter.action, "entity": q.filter.entity, "entity_id": q.filter.entity_id}))
        .set("wide", true)
        .render(&state, "pages/audit")
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(flatten)]
    pub filter: audit::Filter,
    #[serde(default, deserialize_with = "crate::paging::page")]
    pub page: Option<u64>,
    #[serde(default, deserialize_with = "crate::paging::per_page")]
    pub per_page: Option<u64>,
}

impl AuditQuery {
    /// The page of the audit log asked for, for an actor who may read it.
    pub async fn list(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        actor: &crate::policy::Actor,
    ) -> AppResult<audit::Page<crate::entities::change_event::Model>> {
        actor.require(Action::ViewAudit)?;
        let (page, per_page) = users::page_params(self.page, self.per_page);
        audit::list(db, &self.filter, page, per_page).await
    }
}

/// Which level of the area tree to show: the children of `parent`, or the top.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaQuery {
    /// The 12-digit code of the parent; absent: the top of the tree.
    parent: Option<String>,
}

impl AreaQuery {
    pub fn parent(&self) -> Option<&str> {
        self.parent.as_deref().filter(|p| !p.is_empty())
    }
}

pub async fn areas_page(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<AreaQuery>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageAreas)?;
    let parent = q.parent();
    let current = match parent {
        Some(p) => Some(areas::find(&state.db, p).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    let items = areas::children(&state.db, parent).await?;
    Page::new(&state, locale.0, Some(&user), "areas.title")
        .set("items", items)
        .set("current", current)
        .render(&state, "pages/areas")
}

pub async fn area_create(
    state: State,
    user: CurrentUser,
    form: web::Form<NewArea>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageAreas)?;
    let a = areas::create(&state.db, &form).await?;
    Ok(redirect(&format!(
        "/admin/areas?parent={}",
        a.parent_code.unwrap_or_default()
    )))
}

#[derive(Deserialize)]
pub struct AreaEdit {
    name: Option<String>,
    intent: Option<String>,
    confirm: Option<String>,
}

pub async fn area_update(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    form: web::Form<AreaEdit>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageAreas)?;
    let code = path.into_inner();
    let a = areas::find(&state.db, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    if form.intent.as_deref() == Some("delete") {
        if form.confirm.as_deref() != Some(code.as_str()) {
            return Err(AppError::field(
                "confirm",
                "type the area code to confirm the deletion",
            ));
        }
        areas::delete(&state.db, &code).await?;
    } else {
        areas::rename(&state.db, &code, form.name.as_deref().unwrap_or_default()).await?;
    }
    Ok(redirect(&format!(
        "/admin/areas?parent={}",
        a.parent_code.unwrap_or_default()
    )))
}

#[derive(Deserialize)]
pub struct MailQuery {
    state: Option<String>,
    #[serde(default, deserialize_with = "crate::paging::page")]
    page: Option<u64>,
}

pub async fn mail_list(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<MailQuery>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ViewMail)?;
    // How many of each; the page opens on the first that has any (failed
    // first, what needs a hand), never on an empty list when mail exists.
    let mut counts = serde_json::Map::new();
    let mut first = None;
    for s in [MailState::Failed, MailState::Queued, MailState::Sent] {
        let (_, n) = crate::jobs::outbox(&state.db, s, 1, 1).await?;
        if n > 0 && first.is_none() {
            first = Some(s);
        }
        counts.insert(s.to_value(), json!(n));
    }
    let st = q
        .state
        .as_deref()
        .and_then(|s| MailState::iter().find(|m| m.to_value() == s))
        .or(first)
        .unwrap_or(MailState::Failed);
    let (page, per_page) = users::page_params(q.page, Some(50));
    let (items, total) = crate::jobs::outbox(&state.db, st, page, per_page).await?;
    let items: Vec<_> = items
        .into_iter()
        .map(|m| json!({"id": m.id, "to": m.to_addr, "subject": m.subject, "template": m.template, "attempts": m.attempts,
            "last_error": m.last_error, "created_at": m.created_at.to_rfc3339(), "next_attempt_at": m.next_attempt_at.to_rfc3339()}))
        .collect();
    Page::new(&state, locale.0, Some(&user), "mail.title")
        .set("items", items)
        .set("state", st)
        .set("counts", counts)
        .set("pager", pager(page, per_page, total))
        .set("wide", true)
        .render(&state, "pages/mail")
}

pub async fn mail_retry(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ViewMail)?;
    if !crate::jobs::retry(&state.db, path.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/admin/mail?state=queued"))
}
