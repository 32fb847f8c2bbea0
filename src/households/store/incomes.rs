//! A household's income per year, in fen: recorded or replaced, with the net
//! income per head computed from the parts when not given.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, TryIntoModel,
};
use serde_json::json;

use super::inputs::IncomeInput;
use super::list::find_in_scope;
use super::snapshots::log_record;
use super::validate::this_year;
use crate::db::begin_write;
use crate::entities::{income_record, member};
use crate::households::messages::{Msg, Problems, RegistryError, RegistryResult};
use crate::households::rules::{self, MAX_FEN};
use crate::policy::{Action, Actor};

/// What is wrong with an income, by field.
fn check(i: &IncomeInput, this_year: i32) -> Problems {
    let mut p = Problems::new();
    if let Err(m) = rules::income_year(i.year, this_year) {
        p.insert("year".into(), m);
    }
    for (f, v) in [
        ("wage_fen", i.wage_fen),
        ("business_fen", i.business_fen),
        ("transfer_fen", i.transfer_fen),
        ("property_fen", i.property_fen),
        ("costs_fen", i.costs_fen),
    ] {
        if !(0..=MAX_FEN).contains(&v) {
            p.insert(f.into(), Msg::new("hh.err.income_part"));
        }
    }
    if let Some(n) = i.net_per_capita_fen
        && !(-MAX_FEN..=MAX_FEN).contains(&n)
    {
        p.insert("net_per_capita_fen".into(), Msg::new("hh.err.out_of_range"));
    }
    p
}

/// The net income per head: as given, else the parts less costs over the people.
fn net_per_capita(i: &IncomeInput, people: i64) -> i64 {
    i.net_per_capita_fen.unwrap_or(
        (i.wage_fen + i.business_fen + i.transfer_fen + i.property_fen - i.costs_fen)
            / people.max(1),
    )
}

/// Records (or replaces) a household's income for a year.
pub async fn record_income(
    db: &DatabaseConnection,
    actor: &Actor,
    household_id: i64,
    i: &IncomeInput,
) -> RegistryResult<income_record::Model> {
    let txn = begin_write(db).await?;
    let h = find_in_scope(&txn, actor, household_id, Action::EditHouseholds).await?;
    let p = check(i, this_year());
    if !p.is_empty() {
        return Err(RegistryError::Invalid(p));
    }
    let people = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(h.id))
        .count(&txn)
        .await? as i64;
    let existing = income_record::Entity::find()
        .filter(income_record::Column::HouseholdId.eq(h.id))
        .filter(income_record::Column::Year.eq(i.year))
        .one(&txn)
        .await?;
    let before = existing.as_ref().map(|e| json!(e));
    let mut am = match existing {
        Some(e) => e.into(),
        None => income_record::ActiveModel {
            household_id: Set(h.id),
            year: Set(i.year),
            ..Default::default()
        },
    };
    am.wage_fen = Set(i.wage_fen);
    am.business_fen = Set(i.business_fen);
    am.transfer_fen = Set(i.transfer_fen);
    am.property_fen = Set(i.property_fen);
    am.costs_fen = Set(i.costs_fen);
    am.net_per_capita_fen = Set(net_per_capita(i, people));
    am.verified_by = Set(i.verified.then_some(actor.id));
    am.verified_at = Set(i.verified.then(Utc::now));
    let saved: income_record::Model = am.save(&txn).await?.try_into_model()?;
    let after = json!(saved);
    log_record(&txn, actor, &h, ("income", "income"), before, after).await?;
    txn.commit().await?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_income_per_head_from_the_parts() {
        let i = IncomeInput {
            year: 2024,
            wage_fen: 1_000_000,
            costs_fen: 100_000,
            ..Default::default()
        };
        assert_eq!(net_per_capita(&i, 3), 300_000);
        assert_eq!(net_per_capita(&i, 0), 900_000, "no members: the whole");
        let given = IncomeInput {
            net_per_capita_fen: Some(5),
            ..i.clone()
        };
        assert_eq!(net_per_capita(&given, 3), 5);
    }

    #[test]
    fn refuses_years_and_amounts_out_of_range() {
        let i = IncomeInput {
            year: 1999,
            wage_fen: -1,
            ..Default::default()
        };
        let p = check(&i, 2025);
        assert_eq!(p.keys().collect::<Vec<_>>(), ["wage_fen", "year"]);
        assert!(
            check(
                &IncomeInput {
                    year: 2025,
                    ..Default::default()
                },
                2025
            )
            .is_empty()
        );
    }
}
