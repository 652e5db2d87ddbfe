//! Account types: roles, locales, the stored user and what the API shows of it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::users;
use crate::db::text_enum::text_enum;
pub use crate::locale::Locale;
use crate::validate::schema::{email, text, text_or_null};

text_enum! {
    /// Platform role. Organisation roles are separate (see `organizations`).
    pub enum Role as "a role" {
        /// Any registered person.
        Member = "member",
        /// The Department of Science and Technology: verifies organisations, reviews listings.
        Moderator = "moderator",
        /// Runs the platform.
        Admin = "admin",
    }
}

impl Role {
    /// The roles that moderate.
    pub const MODERATING: [Role; 2] = [Self::Moderator, Self::Admin];

    /// Moderators and admins both moderate.
    pub fn can_moderate(self) -> bool {
        Self::MODERATING.contains(&self)
    }
}

text_enum! {
    /// What a single-use token sent by email is for.
    pub enum TokenPurpose {
        VerifyEmail = "verify_email",
        ResetPassword = "reset_password",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub locale: Locale,
    pub role: Role,
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
    pub locale: Locale,
    pub role: Role,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub use crate::db::utc;

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

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            locale: u.locale,
            role: u.role,
            email_verified: u.email_verified_at.is_some(),
            created_at: utc(u.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(required = true, schema_with = email, example = "lan.nguyen@example.vn")]
    pub email: Option<String>,
    /// At least `auth.min_password_length` characters (10 by default, never fewer than
    /// 8), at most 256; common passwords, plain sequences, fewer than four different
    /// characters and passwords containing the email address are refused.
    #[schema(required = true, value_type = String, min_length = 8, max_length = 256)]
    pub password: Option<String>,
    #[schema(required = true, schema_with = text::<2, 100>, example = "Nguyễn Thị Lan")]
    pub display_name: Option<String>,
    /// `vi` by default.
    #[schema(value_type = Option<Locale>)]
    pub locale: Option<String>,
}

/// The answer to a registration, the same whether the address was free or taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationReceived {
    /// The address as it will be used (trimmed, lower case).
    pub email: String,
    pub detail: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(required = true, schema_with = text::<1, 254>)]
    pub email: Option<String>,
    #[schema(required = true, value_type = String, min_length = 1, max_length = 256)]
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
    #[schema(schema_with = text_or_null::<2, 100>)]
    pub display_name: Option<String>,
    #[schema(value_type = Option<Locale>)]
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 256)]
    pub current_password: Option<String>,
    /// The same rules as a new account's password.
    #[schema(required = true, value_type = String, min_length = 8, max_length = 256)]
    pub new_password: Option<String>,
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
