//! What the registry's calls take and give: the bodies of forms and JSON
//! requests (checked by the calls, never trusted) and the views they return.

use serde::{Deserialize, Deserializer, Serialize};

use crate::entities::{follow_up, household, income_record, member};

/// A member as a form or JSON body gives it. Sex and birth year are read from
/// the identity number when absent, and must agree with it when given.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MemberInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub relation: String,
    pub sex: Option<String>,
    pub birth_year: Option<i32>,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub school_status: Option<String>,
    pub health: Option<String>,
    pub labour: Option<String>,
    pub migrant_months: Option<i32>,
}

/// A new household with its members and causes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewHousehold {
    #[serde(default)]
    pub registry_no: String,
    #[serde(default)]
    pub area_code: String,
    pub village_group: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub monitor_type: Option<String>,
    pub identified_year: Option<i32>,
    pub exited_year: Option<i32>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub primary_cause: Option<String>,
    #[serde(default)]
    pub other_causes: Vec<String>,
    #[serde(default)]
    pub members: Vec<MemberInput>,
}

/// Absent: unchanged; `null` (or an empty string): cleared.
fn double<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A change to a household's own fields and causes (members have their own calls).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct HouseholdPatch {
    pub registry_no: Option<String>,
    pub area_code: Option<String>,
    #[serde(default, deserialize_with = "double")]
    pub village_group: Option<Option<String>>,
    pub kind: Option<String>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "double")]
    pub monitor_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "double")]
    pub identified_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double")]
    pub exited_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double")]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "double")]
    pub primary_cause: Option<Option<String>>,
    pub other_causes: Option<Vec<String>>,
}

/// One year's income of a household, in fen. `net_per_capita_fen` is computed
/// from the parts and the member count when absent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct IncomeInput {
    pub year: i32,
    #[serde(default)]
    pub wage_fen: i64,
    #[serde(default)]
    pub business_fen: i64,
    #[serde(default)]
    pub transfer_fen: i64,
    #[serde(default)]
    pub property_fen: i64,
    #[serde(default)]
    pub costs_fen: i64,
    pub net_per_capita_fen: Option<i64>,
    #[serde(default)]
    pub verified: bool,
}

/// A follow-up survey after training (3, 6 or 12 months).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FollowUpInput {
    pub member_id: Option<i64>,
    /// A date (`2026-05-01`) or an RFC 3339 time; now when absent.
    pub surveyed_at: Option<String>,
    pub months_after: i32,
    pub shop_active: Option<bool>,
    pub orders_30d: Option<i32>,
    pub sales_30d_fen: Option<i64>,
    pub work_status: Option<String>,
    pub notes: Option<String>,
}

/// A member as shown: the stored row (never the identity number's HMAC),
/// with `health` only when the caller asked for and may see it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    #[serde(flatten)]
    pub member: member::Model,
    /// The learner account linked to this member, if any.
    pub learner: Option<LinkedLearner>,
    /// The linked learner completed a course.
    pub trained: bool,
}

/// A view reads as its member row (`view.name`, `view.id`).
impl std::ops::Deref for MemberView {
    type Target = member::Model;

    fn deref(&self) -> &member::Model {
        &self.member
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkedLearner {
    pub id: i64,
    pub login: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detail {
    #[schema(value_type = Object)]
    pub household: household::Model,
    pub area_name: Option<String>,
    pub primary_cause: Option<String>,
    pub other_causes: Vec<String>,
    /// The member rows, with `learner` and `trained`.
    #[schema(value_type = Vec<Object>)]
    pub members: Vec<MemberView>,
    #[schema(value_type = Vec<Object>)]
    pub incomes: Vec<income_record::Model>,
    #[schema(value_type = Vec<Object>)]
    pub follow_ups: Vec<follow_up::Model>,
    /// Whether `members[].health` is filled.
    pub sensitive: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub id: i64,
    pub registry_no: String,
    pub area_code: String,
    pub area_name: Option<String>,
    #[schema(value_type = String)]
    pub kind: crate::households::vocab::HouseholdKind,
    #[schema(value_type = String)]
    pub status: crate::households::vocab::HouseholdStatus,
    pub primary_cause: Option<String>,
    pub head: Option<String>,
    pub members: usize,
    pub trained: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only households inside this area.
    pub area: Option<String>,
    pub status: Option<String>,
    pub cause: Option<String>,
    /// `1`/`true`: with a member who completed a course; `0`/`false`: without.
    pub trained: Option<String>,
    /// `1`/`true`: with a member enrolled in a course; `0`/`false`: never
    /// reached (no member ever enrolled).
    pub reached: Option<String>,
    /// Registry number prefix or a member's name.
    pub q: Option<String>,
    #[serde(default, deserialize_with = "crate::paging::page")]
    pub page: Option<u64>,
    #[serde(default, deserialize_with = "crate::paging::per_page")]
    pub per_page: Option<u64>,
}

impl ListQuery {
    pub fn page_params(&self) -> (u64, u64) {
        (
            self.page.unwrap_or(1).max(1),
            self.per_page.unwrap_or(50).clamp(1, 200),
        )
    }
}
