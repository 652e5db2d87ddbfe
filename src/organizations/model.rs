//! Organisations: enterprises, institutes, universities, brokers and agencies.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::schema::organizations;
use crate::db::text_enum::text_enum;
use crate::db::utc;
use crate::validate::schema::{
    one_of_or_null, optional_email, optional_tax_code, optional_text, optional_web_url, text,
    text_or_null,
};

text_enum! {
    /// What kind of organisation it is.
    pub enum OrgType as "an organisation type" {
        Enterprise = "enterprise",
        Institute = "institute",
        University = "university",
        Broker = "broker",
        Agency = "agency",
    }
}

text_enum! {
    /// Role of a person inside one organisation.
    pub enum MemberRole as "a member role" {
        /// Manages the organisation's profile, members and listings.
        Admin = "admin",
        /// Manages the organisation's listings.
        Member = "member",
    }
}

/// Vietnamese enterprise tax code (mã số thuế): 10 digits, or 10 digits, a dash and the
/// 3-digit branch number.
pub fn tax_code(raw: &str) -> Result<String, String> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let ok = match s.split_once('-') {
        None => s.len() == 10 && s.chars().all(|c| c.is_ascii_digit()),
        Some((main, branch)) => {
            main.len() == 10
                && branch.len() == 3
                && main.chars().all(|c| c.is_ascii_digit())
                && branch.chars().all(|c| c.is_ascii_digit())
        }
    };
    if ok {
        Ok(s)
    } else {
        Err("must be a tax code of 10 digits, or 10 digits, a dash and 3 digits".into())
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    pub org_type: OrgType,
    pub district: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub tax_code: Option<String>,
    pub verified_at: Option<NaiveDateTime>,
    pub verified_by: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub external_id: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization {
    pub name: String,
    pub org_type: OrgType,
    pub district: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub tax_code: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub external_id: Option<String>,
}

/// An organisation as the API shows it. `email` (its contact address) is shown only to its
/// members and to moderators.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: i64,
    /// Identifier in the interchange format, for organisations that were imported.
    pub external_id: Option<String>,
    pub name: String,
    pub org_type: OrgType,
    pub district: Option<String>,
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub tax_code: Option<String>,
    /// Verified by the Department of Science and Technology.
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrganizationView {
    pub fn from_row(o: &Organization, show_contact: bool) -> Self {
        Self {
            id: o.id,
            external_id: o.external_id.clone(),
            name: o.name.clone(),
            org_type: o.org_type,
            district: o.district.clone(),
            website: o.website.clone(),
            email: if show_contact { o.email.clone() } else { None },
            tax_code: o.tax_code.clone(),
            verified: o.verified_at.is_some(),
            verified_at: o.verified_at.map(utc),
            created_at: utc(o.created_at),
            updated_at: utc(o.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    #[schema(required = true, schema_with = text::<2, 256>, example = "Viện Công nghệ Môi trường")]
    pub name: Option<String>,
    #[schema(required = true, value_type = OrgType)]
    pub org_type: Option<String>,
    #[schema(schema_with = optional_text::<100>, example = "Cầu Giấy")]
    pub district: Option<String>,
    #[schema(schema_with = optional_web_url, example = "https://iet.example.vn")]
    pub website: Option<String>,
    /// Contact address; shown to members and moderators only.
    #[schema(schema_with = optional_email)]
    pub email: Option<String>,
    /// 10 digits, or 10 digits, a dash and 3 (a branch).
    #[schema(schema_with = optional_tax_code, example = "0101234567")]
    pub tax_code: Option<String>,
}

/// Fields to change; absent fields stay as they are, `""` clears an optional one. Changing
/// the name or tax code of a verified organisation withdraws its verification.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    #[schema(schema_with = text_or_null::<2, 256>)]
    pub name: Option<String>,
    #[schema(schema_with = org_type_or_null)]
    pub org_type: Option<String>,
    #[schema(schema_with = optional_text::<100>)]
    pub district: Option<String>,
    #[schema(schema_with = optional_web_url)]
    pub website: Option<String>,
    #[schema(schema_with = optional_email)]
    pub email: Option<String>,
    #[schema(schema_with = optional_tax_code)]
    pub tax_code: Option<String>,
}

fn org_type_or_null() -> utoipa::openapi::schema::Schema {
    one_of_or_null(OrgType::SPELLINGS)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
    pub role: MemberRole,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationList {
    pub total: i64,
    pub items: Vec<OrganizationView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationQuery {
    /// Only this type.
    #[param(value_type = Option<OrgType>)]
    pub org_type: Option<String>,
    /// Only verified (`true`) or unverified (`false`) organisations.
    pub verified: Option<bool>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_codes() {
        assert_eq!(tax_code("0101234567").unwrap(), "0101234567");
        assert_eq!(tax_code(" 0101234567-001 ").unwrap(), "0101234567-001");
        assert!(tax_code("010123456").is_err());
        assert!(tax_code("01012345678").is_err());
        assert!(tax_code("0101234567-01").is_err());
        assert!(tax_code("abcdefghij").is_err());
    }

    #[test]
    fn org_types() {
        assert_eq!(OrgType::parse("institute").unwrap(), OrgType::Institute);
        assert_eq!(
            OrgType::parse("company").unwrap_err(),
            "`company` is not an organisation type (enterprise, institute, university, broker, agency)"
        );
        assert_eq!(
            MemberRole::parse("owner").unwrap_err(),
            "`owner` is not a member role (admin, member)"
        );
    }
}

/// One organisation the caller belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipView {
    pub organization_id: i64,
    pub name: String,
    pub org_type: OrgType,
    /// `admin` or `member` of that organisation.
    pub role: MemberRole,
    pub verified: bool,
}
