//! Account storage: users and sign-in tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{Locale, MembershipView, NewUser, Role, User};
use crate::db::schema::{auth_tokens, organization_members, organizations, users};
use crate::db::DbConn;
use crate::organizations::model::{MemberRole, OrgType};
use crate::per_backend;

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, new: &NewUser<'_>) -> QueryResult<i64> {
    per_backend!(conn, |c| diesel::insert_into(users::table)
        .values(new)
        .returning(users::id)
        .get_result(c))
}

pub fn update_profile(
    conn: &mut DbConn,
    id: i64,
    display_name: &str,
    locale: Locale,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::display_name.eq(display_name),
            users::locale.eq(locale),
            users::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn set_password_hash(
    conn: &mut DbConn,
    id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)
}

pub fn set_role(conn: &mut DbConn, id: i64, role: Role, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::role.eq(role), users::updated_at.eq(now)))
        .execute(conn)
}

pub fn insert_token(
    conn: &mut DbConn,
    user_id: i64,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(auth_tokens::table)
        .values((
            auth_tokens::user_id.eq(user_id),
            auth_tokens::token_hash.eq(token_hash),
            auth_tokens::created_at.eq(now),
            auth_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// The live token with this hash and its user's id and role.
pub fn find_live_token(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, i64, Role, Locale)>> {
    auth_tokens::table
        .inner_join(users::table)
        .filter(auth_tokens::token_hash.eq(token_hash))
        .filter(auth_tokens::revoked_at.is_null())
        .filter(auth_tokens::expires_at.gt(now))
        .select((auth_tokens::id, users::id, users::role, users::locale))
        .first(conn)
        .optional()
}

pub fn revoke_token(conn: &mut DbConn, token_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(auth_tokens::table.find(token_id))
        .filter(auth_tokens::revoked_at.is_null())
        .set(auth_tokens::revoked_at.eq(now))
        .execute(conn)
}

pub fn revoke_all_tokens(
    conn: &mut DbConn,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(auth_tokens::table)
        .filter(auth_tokens::user_id.eq(user_id))
        .filter(auth_tokens::revoked_at.is_null())
        .set(auth_tokens::revoked_at.eq(now))
        .execute(conn)
}

pub fn memberships(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<MembershipView>> {
    let rows: Vec<(i64, String, OrgType, MemberRole, Option<NaiveDateTime>)> =
        organization_members::table
            .inner_join(organizations::table)
            .filter(organization_members::user_id.eq(user_id))
            .order(organizations::name.asc())
            .select((
                organizations::id,
                organizations::name,
                organizations::org_type,
                organization_members::role,
                organizations::verified_at,
            ))
            .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(organization_id, name, org_type, role, verified_at)| MembershipView {
                organization_id,
                name,
                org_type,
                role,
                verified: verified_at.is_some(),
            },
        )
        .collect())
}

pub fn mark_verified(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::email_verified_at.eq(now))
        .execute(conn)
}
