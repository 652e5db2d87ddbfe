//! The fields of each kind of listing, as the interchange format and the API write them,
//! with their limits and the JSON Schemas that state them; the content module validates
//! them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::Kind;
use crate::accounts::model::Locale;
use crate::taxonomy;
use crate::validate::schema as vs;

pub const TITLE_MIN: usize = 5;
pub const TITLE_MAX: usize = 256;
pub const SUMMARY_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const KEYWORDS_MAX: usize = 10;
pub const KEYWORD_MAX_CHARS: usize = 60;
pub const LONG_TEXT_MAX: usize = 5_000;
/// A thousand trillion đồng: beyond any real price, within every integer type on the way.
pub const MONEY_MAX: i64 = 1_000_000_000_000_000;

/// A technology offer, as the interchange format and the API write it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TechnologyFields {
    /// `vi` (default) or `en`.
    #[schema(schema_with = language_schema)]
    pub language: Option<String>,
    /// 5–256 characters.
    #[schema(schema_with = vs::text::<TITLE_MIN, TITLE_MAX>)]
    pub title: Option<String>,
    /// At most 500 characters.
    #[schema(schema_with = vs::optional_text::<SUMMARY_MAX>)]
    pub summary: Option<String>,
    /// At most 10 000 characters.
    #[schema(schema_with = vs::text::<1, DESCRIPTION_MAX>)]
    pub description: Option<String>,
    /// Field or sector code of S&T (`207`), see `/api/v1/taxonomy/fields`.
    #[schema(schema_with = taxonomy::schema::field)]
    pub field: Option<String>,
    #[schema(schema_with = taxonomy::schema::priority_areas)]
    pub priority_areas: Option<Vec<String>>,
    /// At most 10, each at most 60 characters.
    #[schema(schema_with = keyword_list)]
    pub keywords: Option<Vec<String>>,
    /// Technology readiness level, 1–9.
    #[schema(value_type = i64, minimum = 1, maximum = 9)]
    pub trl: Option<i64>,
    /// `none` by default.
    #[schema(schema_with = taxonomy::schema::ip_status_or_null)]
    pub ip_status: Option<String>,
    #[schema(schema_with = taxonomy::schema::transfer_modes)]
    pub transfer_modes: Option<Vec<String>>,
    /// Whole đồng, 0–10^18; not above `price_vnd_max`.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub price_vnd_min: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub price_vnd_max: Option<i64>,
    pub negotiable: Option<bool>,
    #[schema(schema_with = vs::optional_text::<LONG_TEXT_MAX>)]
    pub applications: Option<String>,
}

/// A technology need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NeedFields {
    /// `vi` (default) or `en`.
    #[schema(schema_with = language_schema)]
    pub language: Option<String>,
    /// 5–256 characters.
    #[schema(schema_with = vs::text::<TITLE_MIN, TITLE_MAX>)]
    pub title: Option<String>,
    /// At most 10 000 characters.
    #[schema(schema_with = vs::text::<1, DESCRIPTION_MAX>)]
    pub description: Option<String>,
    #[schema(schema_with = taxonomy::schema::field)]
    pub field: Option<String>,
    #[schema(schema_with = taxonomy::schema::priority_areas)]
    pub priority_areas: Option<Vec<String>>,
    /// At most 10, each at most 60 characters.
    #[schema(schema_with = keyword_list)]
    pub keywords: Option<Vec<String>>,
    /// Minimum TRL wanted, 1–9.
    #[schema(minimum = 1, maximum = 9)]
    pub trl_min: Option<i64>,
    /// Whole đồng, 0–10^18; not above `budget_vnd_max`.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub budget_vnd_min: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub budget_vnd_max: Option<i64>,
    /// ISO date, not in the past.
    #[schema(schema_with = crate::validate::schema::optional_date)]
    pub deadline: Option<String>,
    #[schema(schema_with = taxonomy::schema::transfer_modes)]
    pub collaboration_types: Option<Vec<String>>,
    /// The owner's identity stays hidden until it accepts a contact.
    pub confidential: Option<bool>,
}

/// An expert profile. `email` and `phone` are never shown publicly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExpertFields {
    #[schema(schema_with = vs::text::<2, 200>)]
    pub full_name: Option<String>,
    /// As written in Vietnamese usage: `GS.TS.`, `PGS.TS.`, `TS.`, `ThS.`, `KS.`…
    #[schema(schema_with = vs::optional_text::<32>)]
    pub academic_title: Option<String>,
    #[schema(schema_with = vs::optional_text::<256>)]
    pub affiliation: Option<String>,
    /// ISO 3166 two-letter code; `VN` by default.
    #[schema(schema_with = taxonomy::schema::country_or_null)]
    pub country: Option<String>,
    /// At least one field of S&T.
    #[schema(schema_with = taxonomy::schema::fields)]
    pub fields: Option<Vec<String>>,
    /// At most 10, each at most 60 characters.
    #[schema(schema_with = keyword_list)]
    pub expertise: Option<Vec<String>>,
    /// Languages spoken, ISO 639-1 codes, at most 10.
    #[schema(schema_with = language_codes_list)]
    pub languages: Option<Vec<String>>,
    #[schema(schema_with = vs::optional_text::<LONG_TEXT_MAX>)]
    pub bio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::validate::schema::optional_email)]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::validate::schema::optional_phone)]
    pub phone: Option<String>,
    /// `consulting` by default.
    #[schema(schema_with = taxonomy::schema::availability_or_null)]
    pub availability: Option<String>,
    /// Language of the profile text; guessed from the biography when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = language_schema)]
    pub language: Option<String>,
}

fn language_schema() -> utoipa::openapi::schema::Schema {
    let mut codes: Vec<Option<&str>> = Locale::SPELLINGS.iter().copied().map(Some).collect();
    codes.extend([Some(""), None]);
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::Array(vec![
            utoipa::openapi::schema::Type::String,
            utoipa::openapi::schema::Type::Null,
        ]))
        .enum_values(Some(codes))
        .into()
}

fn keyword_list() -> utoipa::openapi::schema::Schema {
    vs::list(
        vs::text::<1, KEYWORD_MAX_CHARS>(),
        None,
        Some(KEYWORDS_MAX),
        true,
    )
}

fn language_codes_list() -> utoipa::openapi::schema::Schema {
    vs::list(vs::language_code(), None, Some(10), true)
}

/// The fields a new listing of a kind must have (the validation below requires them; the
/// OpenAPI document states it).
pub fn required_keys(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Technology => &["title", "description", "field", "trl"],
        Kind::Need => &["title", "description", "field"],
        Kind::Expert => &["full_name", "fields"],
    }
}

/// The fields a client may send for a kind, besides `organization_id` and `version`.
pub fn known_keys(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Technology => &[
            "language",
            "title",
            "summary",
            "description",
            "field",
            "priority_areas",
            "keywords",
            "trl",
            "ip_status",
            "transfer_modes",
            "price_vnd_min",
            "price_vnd_max",
            "negotiable",
            "applications",
        ],
        Kind::Need => &[
            "language",
            "title",
            "description",
            "field",
            "priority_areas",
            "keywords",
            "trl_min",
            "budget_vnd_min",
            "budget_vnd_max",
            "deadline",
            "collaboration_types",
            "confidential",
        ],
        Kind::Expert => &[
            "full_name",
            "academic_title",
            "affiliation",
            "country",
            "fields",
            "expertise",
            "languages",
            "bio",
            "email",
            "phone",
            "availability",
            "language",
        ],
    }
}
