//! Account types: roles, locales, the stored user and what the API shows of it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::users;

/// Platform role. Organisation roles are separate (see `organizations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Any registered person.
    Member,
    /// The Department of Science and Technology: verifies organisations, reviews listings.
    Moderator,
    /// Runs the platform.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Moderator => "moderator",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "member" => Ok(Self::Member),
            "moderator" => Ok(Self::Moderator),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "`{other}` is not a role (member, moderator, admin)"
            )),
        }
    }

    /// Moderators and admins both moderate.
    pub fn can_moderate(self) -> bool {
        matches!(self, Self::Moderator | Self::Admin)
    }
}

/// Language of the interface and of the emails a person receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    Vi,
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "vi" => Ok(Self::Vi),
            "en" => Ok(Self::En),
            other => Err(format!("`{other}` is not a supported locale (vi, en)")),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub locale: String,
    pub role: String,
    pub email_verified_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub locale: &'a str,
    pub role: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// A person's account as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub locale: Locale,
    pub role: Role,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<&User> for UserView {
    type Error = String;

    fn try_from(u: &User) -> Result<Self, String> {
        Ok(Self {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            locale: Locale::parse(&u.locale)?,
            role: Role::parse(&u.role)?,
            email_verified: u.email_verified_at.is_some(),
            created_at: utc(u.created_at),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "lan.nguyen@example.vn")]
    pub email: Option<String>,
    /// At least 10 characters; common passwords are refused.
    pub password: Option<String>,
    #[schema(example = "Nguyễn Thị Lan")]
    pub display_name: Option<String>,
    /// `vi` (default) or `en`.
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token: send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    pub display_name: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// One organisation the caller belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipView {
    pub organization_id: i64,
    pub name: String,
    pub org_type: String,
    /// `admin` or `member` of that organisation.
    pub role: String,
    pub verified: bool,
}

/// `GET /api/v1/me`: the account and its organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    pub organizations: Vec<MembershipView>,
}

/// Who is calling, as established from a valid bearer token.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: i64,
    pub role: Role,
    pub token_id: i64,
    /// The account's language: emails, match reasons and labels when the request does
    /// not ask for another with `Accept-Language`.
    pub locale: Locale,
}
