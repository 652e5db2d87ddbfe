//! Account storage: users, sign-in tokens and single-use emailed tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{Locale, NewUser, Role, TokenPurpose, User};
use crate::db::schema::{account_tokens as at, auth_tokens, users};
use crate::db::DbConn;
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

pub fn mark_verified(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::email_verified_at.eq(now))
        .execute(conn)
}

/// A new single-use token (email verification, password reset); its row id.
pub fn insert_account_token(
    conn: &mut DbConn,
    user_id: i64,
    purpose: TokenPurpose,
    token_hash: &str,
    email: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<i64> {
    let values = (
        at::user_id.eq(user_id),
        at::purpose.eq(purpose),
        at::token_hash.eq(token_hash),
        at::email.eq(email),
        at::created_at.eq(now),
        at::expires_at.eq(expires_at),
    );
    per_backend!(conn, |c| diesel::insert_into(at::table)
        .values(values)
        .returning(at::id)
        .get_result(c))
}

/// When the last token of this purpose was issued to the account, if after `since`.
pub fn account_token_issued_since(
    conn: &mut DbConn,
    user_id: i64,
    purpose: TokenPurpose,
    since: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    at::table
        .filter(at::user_id.eq(user_id))
        .filter(at::purpose.eq(purpose))
        .filter(at::created_at.gt(since))
        .select(at::created_at)
        .order(at::created_at.desc())
        .first(conn)
        .optional()
}

/// A live (unused, unexpired) token of this purpose: its id, account and the address it
/// was sent to.
pub fn live_account_token(
    conn: &mut DbConn,
    token_hash: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, i64, String)>> {
    at::table
        .filter(at::token_hash.eq(token_hash))
        .filter(at::purpose.eq(purpose))
        .filter(at::used_at.is_null())
        .filter(at::expires_at.gt(now))
        .select((at::id, at::user_id, at::email))
        .first(conn)
        .optional()
}

/// Marks one token used; 0 when another request used it first.
pub fn use_account_token(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        at::table
            .filter(at::id.eq(id))
            .filter(at::used_at.is_null()),
    )
    .set(at::used_at.eq(now))
    .execute(conn)
}

/// Marks every live token of this purpose of the account used.
pub fn use_account_tokens(
    conn: &mut DbConn,
    user_id: i64,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        at::table
            .filter(at::user_id.eq(user_id))
            .filter(at::purpose.eq(purpose))
            .filter(at::used_at.is_null()),
    )
    .set(at::used_at.eq(now))
    .execute(conn)
}

/// The address of the account a live token of this purpose belongs to.
pub fn account_token_owner(
    conn: &mut DbConn,
    token_hash: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    at::table
        .inner_join(users::table)
        .filter(at::token_hash.eq(token_hash))
        .filter(at::purpose.eq(purpose))
        .filter(at::used_at.is_null())
        .filter(at::expires_at.gt(now))
        .select(users::email)
        .first(conn)
        .optional()
}

/// Records that the account's address is confirmed, unless it already was.
pub fn confirm_email(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .filter(users::email_verified_at.is_null())
        .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
}
