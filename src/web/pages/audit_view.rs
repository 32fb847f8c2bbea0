//! Change events as people read them: the time in the deployment's zone to
//! the minute, the actor's name and role, the action and the record in words
//! from the locale, and the snapshots as lines (`户状态：已脱贫 → 监测户`)
//! instead of JSON. Codes of the registry's vocabularies are shown in Chinese.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Map, Value, json};

use crate::app::AppContext;
use crate::entities::{app_user, change_event};
use crate::error::AppResult;
use crate::households::vocab::{
    Cause, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex,
};

/// The locale's text for `key`, or `fallback` when it has none.
fn tr_or(state: &AppContext, lang: &str, key: &str, fallback: &str) -> String {
    let t = state.views.tr(lang, key);
    if t == key || t.is_empty() {
        fallback.to_owned()
    } else {
        t
    }
}

/// A stored value in words: vocabulary codes in Chinese, lists joined.
fn value_words(key: &str, v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => match key {
            "kind" => HouseholdKind::parse(s).map_or(s.clone(), |k| k.zh().into()),
            "status" => HouseholdStatus::parse(s).map_or(s.clone(), |k| k.zh().into()),
            "monitor_type" => MonitorType::parse(s).map_or(s.clone(), |k| k.zh().into()),
            "relation" => Relation::parse(s).map_or(s.clone(), |k| k.zh().into()),
            "sex" => Sex::parse(s).map_or(s.clone(), |k| k.zh().into()),
            "labour" => Labour::parse(s).map_or(s.clone(), |k| k.zh().into()),
            "primary_cause" | "other_causes" => {
                Cause::by_code(s).map_or(s.clone(), |c| c.zh.into())
            }
            "fields" => s.clone(),
            "id_last4" => format!("****{s}"),
            _ => s.clone(),
        },
        Value::Array(items) => items
            .iter()
            .map(|i| value_words(key, i))
            .collect::<Vec<_>>()
            .join("、"),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k} {}", value_words(k, v)))
            .collect::<Vec<_>>()
            .join("，"),
        other => other.to_string(),
    }
}

/// Between a label and its value: `户数：2`, `Households: 2`.
fn sep(state: &AppContext, lang: &str) -> String {
    state.views.tr(lang, "punct.colon")
}

/// [`value_words`], with roles and yes/no in the person's language.
fn words(state: &AppContext, lang: &str, key: &str, v: &Value) -> String {
    match v {
        Value::Bool(b) => state
            .views
            .tr(lang, if *b { "audit.yes" } else { "audit.no" }),
        Value::String(s) if key == "role" => tr_or(state, lang, &format!("role.{s}"), s),
        _ => value_words(key, v),
    }
}

fn label(state: &AppContext, lang: &str, key: &str) -> String {
    tr_or(state, lang, &format!("audit.key.{key}"), key)
}

/// Members of two snapshots compared by their id: who was added, removed or changed.
fn member_lines(
    state: &AppContext,
    lang: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    out: &mut Vec<String>,
) {
    let by_id = |v: Option<&Value>| -> Vec<(i64, Map<String, Value>)> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|m| {
                        let o = m.as_object()?.clone();
                        Some((o.get("id").and_then(Value::as_i64).unwrap_or(0), o))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (b, a) = (by_id(before), by_id(after));
    let sep = sep(state, lang);
    let members = label(state, lang, "members");
    let name = |o: &Map<String, Value>| {
        o.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    for (id, new) in &a {
        match b.iter().find(|(i, _)| i == id) {
            None if before.is_some() => out.push(format!("{members} + {}", name(new))),
            None => out.push(format!("{members}{sep}{}", name(new))),
            Some((_, old)) => {
                for (k, v) in new {
                    let was = old.get(k).unwrap_or(&Value::Null);
                    if k != "id" && was != v {
                        out.push(format!(
                            "{} · {}{sep}{} → {}",
                            name(new),
                            label(state, lang, k),
                            words(state, lang, k, was),
                            words(state, lang, k, v)
                        ));
                    }
                }
            }
        }
    }
    for (id, old) in &b {
        if after.is_some() && !a.iter().any(|(i, _)| i == id) {
            out.push(format!("{members} − {}", name(old)));
        }
    }
}

/// The snapshots of an event as lines: changed keys only when both are there.
pub fn detail_lines(
    state: &AppContext,
    lang: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Vec<String> {
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Value>(s).ok());
    let (before, after) = (parse(before), parse(after));
    let obj = |v: &Option<Value>| v.as_ref().and_then(Value::as_object).cloned();
    let mut out = Vec::new();
    let sep = sep(state, lang);
    match (obj(&before), obj(&after)) {
        (Some(b), Some(a)) => {
            for (k, v) in &a {
                let was = b.get(k).unwrap_or(&Value::Null);
                if k == "members" {
                    member_lines(state, lang, Some(was), Some(v), &mut out);
                } else if k != "id" && was != v {
                    out.push(format!(
                        "{}{sep}{} → {}",
                        label(state, lang, k),
                        words(state, lang, k, was),
                        words(state, lang, k, v)
                    ));
                }
            }
        }
        (b, a) => {
            for o in [b, a].into_iter().flatten() {
                for (k, v) in &o {
                    if k == "fields" {
                        let names: Vec<String> = v
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(|f| label(state, lang, f))
                            .collect();
                        out.push(format!(
                            "{}{sep}{}",
                            label(state, lang, k),
                            names.join("、")
                        ));
                    } else if k == "members" && v.is_array() {
                        member_lines(state, lang, None, Some(v), &mut out);
                    } else if k != "id" && !v.is_null() {
                        out.push(format!(
                            "{}{sep}{}",
                            label(state, lang, k),
                            words(state, lang, k, v)
                        ));
                    }
                }
            }
            // A value that is neither an object nor absent (an old entry).
            for v in [&before, &after].into_iter().flatten() {
                if !v.is_object() {
                    out.push(value_words("", v));
                }
            }
        }
    }
    out
}

/// The display names and roles of the events' actors.
async fn actors(
    db: &impl ConnectionTrait,
    events: &[change_event::Model],
) -> AppResult<HashMap<i64, app_user::Model>> {
    let mut ids: Vec<i64> = events.iter().filter_map(|e| e.actor_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(app_user::Entity::find()
        .filter(app_user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// The events as the audit page and a household's history show them.
pub async fn readable(
    state: &AppContext,
    lang: &str,
    events: &[change_event::Model],
) -> AppResult<Vec<Value>> {
    let people = actors(&state.db, events).await?;
    Ok(events
        .iter()
        .map(|e| {
            let (actor, role) = match e.actor_id {
                None => (state.views.tr(lang, "audit.system"), String::new()),
                Some(id) => match people.get(&id) {
                    Some(u) => (
                        u.display_name.clone(),
                        state.views.tr(lang, &format!("role.{}", u.role.as_str())),
                    ),
                    None => (
                        state
                            .views
                            .tr(lang, "audit.unknown_user")
                            .replace("{id}", &id.to_string()),
                        String::new(),
                    ),
                },
            };
            let reason = e.reason.as_deref().map(|r| {
                tr_or(state, lang, &format!("audit.reason.{r}"), r)
            });
            json!({
                "id": e.id,
                "at": state.settings.local_time_words(e.at, lang),
                "actor": actor,
                "role": role,
                "action": tr_or(state, lang, &format!("audit.act.{}", e.action), &e.action),
                "entity": tr_or(state, lang, &format!("audit.ent.{}", e.entity), &e.entity),
                "entity_id": e.entity_id,
                "reason": reason.unwrap_or_default(),
                "lines": detail_lines(state, lang, e.before_json.as_deref(), e.after_json.as_deref()),
                "ip": e.ip.clone().unwrap_or_default(),
            })
        })
        .collect())
}
