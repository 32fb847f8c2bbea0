//! One household at a time: create, read, change and delete it with its
//! causes. Every write runs in its own write transaction, checks the actor's
//! area and leaves a change event.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use super::conflicts::{Clash, settle};
use super::inputs::{Detail, HouseholdPatch, LinkedLearner, MemberView, NewHousehold};
use super::list::find_in_scope;
use super::members::{check_ids_free, member_model, unlink_members};
use super::snapshots::{log, members_of, snapshot};
use super::validate::{self, FieldsInput};
use super::{ENTITY, hasher};
use crate::areas::AreaCode;
use crate::audit::{self, Action as Audit, Entry};
use crate::db::begin_write;
use crate::entities::{
    app_user, area, enrollment, follow_up, household, household_cause, income_record, member,
};
use crate::error::AppResult;
use crate::households::messages::{Msg, Problems, RegistryError, RegistryResult};
use crate::households::rules::clean;
use crate::households::vocab::{Cause, Relation};
use crate::policy::{Action, Actor};

/// `area` is an existing village inside the actor's area: 404 outside it (as
/// if it did not exist), 422 when it is not a village.
async fn check_village(
    db: &impl ConnectionTrait,
    actor: &Actor,
    code: &str,
    p: &mut Problems,
) -> AppResult<()> {
    let code = code.trim();
    match AreaCode::parse(code) {
        Err(e) => {
            p.insert(
                "area_code".into(),
                Msg::new("hh.err.area").with("reason", e),
            );
        }
        Ok(a) => {
            actor.require_in(Action::EditHouseholds, Some(a.as_str()))?;
            let found = area::Entity::find()
                .filter(area::Column::Code.eq(a.as_str()))
                .one(db)
                .await?;
            if found.is_none_or(|f| f.level != "village") {
                p.insert(
                    "area_code".into(),
                    Msg::new("hh.err.not_village").with("code", code),
                );
            }
        }
    }
    Ok(())
}

/// Refuses a registry number in use by another household (of another area:
/// without saying so, see `conflicts`). `area` is the area of the household
/// the number is for.
async fn check_registry_free(
    db: &impl ConnectionTrait,
    actor: &Actor,
    area: &str,
    registry_no: &str,
    except: Option<i64>,
) -> RegistryResult<()> {
    let mut q = household::Entity::find().filter(household::Column::RegistryNo.eq(registry_no));
    if let Some(id) = except {
        q = q.filter(household::Column::Id.ne(id));
    }
    let Some(h) = q.one(db).await? else {
        return Ok(());
    };
    if actor.in_scope(Some(&h.area_code)) {
        return Err(RegistryError::Conflict(
            Msg::new("hh.err.registry_taken_by")
                .with("registry", registry_no)
                .with("id", h.id),
        ));
    }
    // Another area's household: say nothing of it, record the clash.
    Err(RegistryError::Elsewhere(
        Msg::new("hh.err.registry_elsewhere").with("registry", registry_no),
        vec![Clash {
            kind: "registry_no",
            number: registry_no.to_owned(),
            existing_household: h.id,
            existing_area: h.area_code,
            wanted_area: area.to_owned(),
        }],
    ))
}

async fn replace_causes(
    db: &impl ConnectionTrait,
    household_id: i64,
    primary: Option<Cause>,
    others: &[Cause],
) -> AppResult<()> {
    household_cause::Entity::delete_many()
        .filter(household_cause::Column::HouseholdId.eq(household_id))
        .exec(db)
        .await?;
    let now = Utc::now();
    let rows: Vec<household_cause::ActiveModel> = primary
        .iter()
        .map(|c| (c, true))
        .chain(others.iter().map(|c| (c, false)))
        .map(|(c, p)| household_cause::ActiveModel {
            household_id: Set(household_id),
            cause: Set(c.code.to_owned()),
            is_primary: Set(p),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        household_cause::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Creates a household with its members (at least one, exactly one head) and
/// causes (exactly one primary unless not poor, at most two others).
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    key: &[u8],
    new: &NewHousehold,
) -> RegistryResult<household::Model> {
    let txn = begin_write(db).await?;
    let result = create_in(&txn, actor, key, new).await;
    settle(db, txn, actor, result).await
}

async fn create_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    key: &[u8],
    new: &NewHousehold,
) -> RegistryResult<household::Model> {
    actor.require(Action::EditHouseholds)?;
    let mut p = Problems::new();
    check_village(db, actor, &new.area_code, &mut p).await?;
    let fields = validate::fields(
        &mut p,
        FieldsInput {
            registry_no: &new.registry_no,
            area_code: &new.area_code,
            village_group: clean(new.village_group.as_deref()),
            kind: new.kind.as_deref(),
            status: new.status.as_deref(),
            monitor_type: new.monitor_type.as_deref(),
            identified_year: new.identified_year,
            exited_year: new.exited_year,
            phone: clean(new.phone.as_deref()),
            address: clean(new.address.as_deref()),
            primary: new.primary_cause.as_deref(),
            others: &new.other_causes,
        },
    );
    let hasher = hasher(key);
    let mut members = Vec::new();
    if new.members.is_empty() {
        p.insert("members".into(), Msg::new("hh.err.no_members"));
    }
    for (i, m) in new.members.iter().enumerate() {
        if let Some(v) = validate::member(&mut p, &format!("members[{i}]."), m, &hasher) {
            members.push((format!("members[{i}].id_number"), v));
        }
    }
    let heads = members
        .iter()
        .filter(|(_, m)| m.relation == Relation::Head)
        .count();
    if !new.members.is_empty() && members.len() == new.members.len() && heads != 1 {
        p.insert("members".into(), Msg::new("hh.err.heads").with("n", heads));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, (field, m)) in members.iter().enumerate() {
        if let Some(j) = seen.insert(&m.id.hmac, i) {
            p.insert(
                field.clone(),
                Msg::new("hh.err.same_id_as").with("other", format!("members[{j}]")),
            );
        }
    }
    if !p.is_empty() {
        return Err(RegistryError::Invalid(p));
    }
    let f = fields.ok_or_else(|| RegistryError::field("household", Msg::new("hh.err.required")))?;
    check_registry_free(db, actor, &f.area_code, &f.registry_no, None).await?;
    let rows: Vec<_> = members.iter().map(|(_, m)| m).collect();
    check_ids_free(db, actor, &f.area_code, &rows).await?;
    let h = household::ActiveModel {
        registry_no: Set(f.registry_no.clone()),
        area_code: Set(f.area_code.clone()),
        village_group: Set(f.village_group.clone()),
        kind: Set(f.kind),
        status: Set(f.status),
        monitor_type: Set(f.monitor_type.map(|m| m.code().to_owned())),
        identified_year: Set(f.identified_year),
        exited_year: Set(f.exited_year),
        phone: Set(f.phone.clone()),
        address: Set(f.address.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    replace_causes(db, h.id, f.primary, &f.others).await?;
    for (_, m) in &members {
        member_model(h.id, &h.area_code, m, Utc::now())
            .insert(db)
            .await?;
    }
    let after = snapshot(db, &h).await?;
    log(db, actor, Audit::Create, &h, None, Some(after), None).await?;
    Ok(h)
}

/// The household with members, causes, incomes and follow-ups. With
/// `sensitive`, members' health is included and the reading is logged.
pub async fn get(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    sensitive: bool,
) -> AppResult<Detail> {
    let h = find_in_scope(db, actor, id, Action::ViewHouseholds).await?;
    if sensitive {
        actor.require_in(Action::ViewSensitive, Some(&h.area_code))?;
    }
    let causes = household_cause::Entity::find()
        .filter(household_cause::Column::HouseholdId.eq(h.id))
        .order_by_asc(household_cause::Column::Cause)
        .all(db)
        .await?;
    let members = members_of(db, h.id).await?;
    let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
    let learners = learners_of(db, &ids).await?;
    let trained = trained_users(db, learners.values().map(|l| l.id).collect()).await?;
    let incomes = income_record::Entity::find()
        .filter(income_record::Column::HouseholdId.eq(h.id))
        .order_by_desc(income_record::Column::Year)
        .all(db)
        .await?;
    let follow_ups = follow_up::Entity::find()
        .filter(follow_up::Column::HouseholdId.eq(h.id))
        .order_by_desc(follow_up::Column::SurveyedAt)
        .all(db)
        .await?;
    let area_name = crate::areas::find(db, &h.area_code).await?.map(|a| a.name);
    if sensitive {
        audit::record(
            db,
            Audit::ReadSensitive,
            Entry {
                actor_id: Some(actor.id),
                entity: ENTITY,
                entity_id: Some(h.id.to_string()),
                area_code: Some(h.area_code.clone()),
                after: Some(json!({"fields": ["health"], "members": ids})),
                ..Default::default()
            },
        )
        .await?;
    }
    let members = members
        .into_iter()
        .map(|m| {
            let learner = learners.get(&m.id).cloned();
            let trained = learner.as_ref().is_some_and(|l| trained.contains(&l.id));
            let health = if sensitive { m.health.clone() } else { None };
            MemberView {
                member: member::Model { health, ..m },
                learner,
                trained,
            }
        })
        .collect();
    Ok(Detail {
        area_name,
        primary_cause: causes
            .iter()
            .find(|c| c.is_primary)
            .map(|c| c.cause.clone()),
        other_causes: causes
            .iter()
            .filter(|c| !c.is_primary)
            .map(|c| c.cause.clone())
            .collect(),
        household: h,
        members,
        incomes,
        follow_ups,
        sensitive,
    })
}

async fn learners_of(
    db: &impl ConnectionTrait,
    member_ids: &[i64],
) -> AppResult<HashMap<i64, LinkedLearner>> {
    if member_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(app_user::Entity::find()
        .filter(app_user::Column::MemberId.is_in(member_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|u| {
            u.member_id.map(|m| {
                (
                    m,
                    LinkedLearner {
                        id: u.id,
                        login: u.login,
                    },
                )
            })
        })
        .collect())
}

async fn trained_users(db: &impl ConnectionTrait, user_ids: Vec<i64>) -> AppResult<HashSet<i64>> {
    if user_ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::UserId.is_in(user_ids))
        .filter(enrollment::Column::State.eq(enrollment::EnrollmentState::Completed))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.user_id)
        .collect())
}

/// Changes a household's own fields and causes.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    p: &HouseholdPatch,
) -> RegistryResult<household::Model> {
    let txn = begin_write(db).await?;
    let result = update_in(&txn, actor, id, p).await;
    settle(db, txn, actor, result).await
}

async fn update_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    p: &HouseholdPatch,
) -> RegistryResult<household::Model> {
    let h = find_in_scope(db, actor, id, Action::EditHouseholds).await?;
    let before = snapshot(db, &h).await?;
    let causes = household_cause::Entity::find()
        .filter(household_cause::Column::HouseholdId.eq(h.id))
        .all(db)
        .await?;
    let cur_primary = causes
        .iter()
        .find(|c| c.is_primary)
        .map(|c| c.cause.clone());
    let cur_others: Vec<String> = causes
        .iter()
        .filter(|c| !c.is_primary)
        .map(|c| c.cause.clone())
        .collect();
    let pick = |new: &Option<Option<String>>, cur: &Option<String>| match new {
        None => cur.clone(),
        Some(v) => clean(v.as_deref()),
    };
    let pick_i = |new: &Option<Option<i32>>, cur: Option<i32>| match new {
        None => cur,
        Some(v) => *v,
    };
    let mut errs = Problems::new();
    let area_code = p.area_code.clone().unwrap_or_else(|| h.area_code.clone());
    if area_code.trim() != h.area_code {
        check_village(db, actor, &area_code, &mut errs).await?;
    }
    let monitor = pick(&p.monitor_type, &h.monitor_type);
    let primary = pick(&p.primary_cause, &cur_primary);
    let fields = validate::fields(
        &mut errs,
        FieldsInput {
            registry_no: p.registry_no.as_deref().unwrap_or(&h.registry_no),
            area_code: &area_code,
            village_group: pick(&p.village_group, &h.village_group),
            kind: Some(p.kind.as_deref().unwrap_or(h.kind.code())),
            status: Some(p.status.as_deref().unwrap_or(h.status.code())),
            monitor_type: monitor.as_deref(),
            identified_year: pick_i(&p.identified_year, h.identified_year),
            exited_year: pick_i(&p.exited_year, h.exited_year),
            phone: pick(&p.phone, &h.phone),
            address: pick(&p.address, &h.address),
            primary: primary.as_deref(),
            others: p.other_causes.as_ref().unwrap_or(&cur_others),
        },
    );
    if !errs.is_empty() {
        return Err(RegistryError::Invalid(errs));
    }
    let f = fields.ok_or_else(|| RegistryError::field("household", Msg::new("hh.err.required")))?;
    if f.registry_no != h.registry_no {
        check_registry_free(db, actor, &f.area_code, &f.registry_no, Some(h.id)).await?;
    }
    let mut am: household::ActiveModel = h.clone().into();
    am.registry_no = Set(f.registry_no);
    am.area_code = Set(f.area_code.clone());
    am.village_group = Set(f.village_group);
    am.kind = Set(f.kind);
    am.status = Set(f.status);
    am.monitor_type = Set(f.monitor_type.map(|m| m.code().to_owned()));
    am.identified_year = Set(f.identified_year);
    am.exited_year = Set(f.exited_year);
    am.phone = Set(f.phone);
    am.address = Set(f.address);
    let after = am.update(db).await?;
    replace_causes(db, after.id, f.primary, &f.others).await?;
    if f.area_code != h.area_code {
        // Members and follow-ups carry the village for scoped queries.
        member::Entity::update_many()
            .col_expr(member::Column::AreaCode, Expr::value(f.area_code.clone()))
            .filter(member::Column::HouseholdId.eq(h.id))
            .exec(db)
            .await?;
        follow_up::Entity::update_many()
            .col_expr(
                follow_up::Column::AreaCode,
                Expr::value(f.area_code.clone()),
            )
            .filter(follow_up::Column::HouseholdId.eq(h.id))
            .exec(db)
            .await?;
    }
    let snap = snapshot(db, &after).await?;
    log(
        db,
        actor,
        Audit::Update,
        &after,
        Some(before),
        Some(snap),
        None,
    )
    .await?;
    Ok(after)
}

/// Deletes a household; its members, causes, incomes and follow-ups go with it
/// and linked learner accounts lose their link.
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<()> {
    let txn = begin_write(db).await?;
    delete_in(&txn, actor, id).await?;
    txn.commit().await?;
    Ok(())
}

async fn delete_in(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> AppResult<()> {
    let h = find_in_scope(db, actor, id, Action::EditHouseholds).await?;
    let before = snapshot(db, &h).await?;
    let ids: Vec<i64> = members_of(db, h.id).await?.iter().map(|m| m.id).collect();
    unlink_members(db, &ids).await?;
    // Explicit, not only by cascade: MySQL and SQLite without foreign keys agree.
    household_cause::Entity::delete_many()
        .filter(household_cause::Column::HouseholdId.eq(h.id))
        .exec(db)
        .await?;
    income_record::Entity::delete_many()
        .filter(income_record::Column::HouseholdId.eq(h.id))
        .exec(db)
        .await?;
    follow_up::Entity::delete_many()
        .filter(follow_up::Column::HouseholdId.eq(h.id))
        .exec(db)
        .await?;
    member::Entity::delete_many()
        .filter(member::Column::HouseholdId.eq(h.id))
        .exec(db)
        .await?;
    household::Entity::delete_by_id(h.id).exec(db).await?;
    log(db, actor, Audit::Delete, &h, Some(before), None, None).await?;
    Ok(())
}
