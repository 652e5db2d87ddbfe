//! Account mail: email address verification after registration, and password reset by an
//! emailed single-use link. Both go through the outbox like every other email; only the
//! SHA-256 of a link's token is stored, and a delivered message loses its copy of the link.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::model::{Caller, TokenPurpose, User, UserView};
use super::repo;
use super::tokens::{blocking, new_token, token_hash};
use crate::config::Settings;
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, Violations};
use crate::notify::outbox::{self, Notice, Recipient};
use crate::notify::Event;
use crate::password::check_policy;
use crate::state::AppState;
use crate::validate::Email;

const VERIFY: TokenPurpose = TokenPurpose::VerifyEmail;
const RESET: TokenPurpose = TokenPurpose::ResetPassword;

/// At most one email of each kind per account in this many seconds.
const RESEND_AFTER_SECONDS: i64 = 60;

fn recipient(user: &User) -> Recipient {
    Recipient {
        user_id: Some(user.id),
        email: user.email.clone(),
        name: user.display_name.clone(),
        locale: user.locale,
    }
}

/// Stores a new single-use token; answers it and its row id.
fn issue(
    conn: &mut DbConn,
    user: &User,
    purpose: TokenPurpose,
    ttl: Duration,
) -> Result<(String, i64), ApiError> {
    let token = new_token();
    let now = db::now();
    let id = repo::insert_account_token(
        conn,
        user.id,
        purpose,
        &token_hash(&token),
        &user.email,
        now,
        now + ttl,
    )?;
    Ok((token, id))
}

/// When the last token of this kind was issued to the account, if recently.
fn issued_recently(
    conn: &mut DbConn,
    user_id: i64,
    purpose: TokenPurpose,
) -> QueryResult<Option<NaiveDateTime>> {
    let since = db::now() - Duration::seconds(RESEND_AFTER_SECONDS);
    repo::account_token_issued_since(conn, user_id, purpose, since)
}

/// Queues the verification email of a new (or unverified) account, in the caller's
/// transaction.
pub fn queue_verification(
    conn: &mut DbConn,
    settings: &Settings,
    user: &User,
) -> Result<(), ApiError> {
    let hours = settings.auth.verify_email_ttl_hours;
    let (token, id) = issue(conn, user, VERIFY, Duration::hours(hours))?;
    outbox::queue(
        conn,
        settings,
        &Notice {
            event: Event::VerifyEmail,
            key: &format!("account-token:{id}"),
            path: &format!("/verify-email?token={token}"),
        },
        &[recipient(user)],
        |_| json!({"link_hours": hours}),
    )?;
    Ok(())
}

/// Tells the owner of an address that someone (perhaps they) tried to register it again:
/// registration answers the same for a new and a taken address, so the owner learns it
/// here. At most one such email per account and day.
pub fn queue_already_registered(
    conn: &mut DbConn,
    settings: &Settings,
    user: &User,
) -> Result<(), ApiError> {
    let day = db::now().date();
    outbox::queue(
        conn,
        settings,
        &Notice {
            event: Event::AlreadyRegistered,
            key: &format!("already-registered:{}:{day}", user.id),
            path: "/password-reset",
        },
        &[recipient(user)],
        |_| json!({}),
    )?;
    Ok(())
}

/// Tells the account its password changed (a security notice; always sent).
pub fn queue_password_changed(
    conn: &mut DbConn,
    settings: &Settings,
    user: &User,
    occurrence: &str,
) -> Result<(), ApiError> {
    outbox::queue(
        conn,
        settings,
        &Notice {
            event: Event::PasswordChanged,
            key: &format!("password-changed:{}:{occurrence}", user.id),
            path: "/reset-password",
        },
        &[recipient(user)],
        |_| json!({}),
    )?;
    Ok(())
}

/// Takes a live token of this purpose: marks it used and answers its account and the
/// address it was sent to. Each token works once.
fn redeem(
    conn: &mut DbConn,
    token: &str,
    purpose: TokenPurpose,
) -> Result<(i64, String), ApiError> {
    let bad = || ApiError::invalid("token", "is invalid, expired or already used");
    if token.is_empty() || token.len() > 256 {
        return Err(bad());
    }
    let now = db::now();
    let hash = token_hash(token);
    let found = repo::live_account_token(conn, &hash, purpose, now)?;
    let Some((id, user_id, email)) = found else {
        return Err(bad());
    };
    let taken = repo::use_account_token(conn, id, now)?;
    if taken == 0 {
        return Err(bad());
    }
    Ok((user_id, email))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the emailed link.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 256)]
    pub token: Option<String>,
}

/// Confirms an email address with the token from the verification email.
pub async fn verify_email(state: &AppState, req: TokenRequest) -> Result<UserView, ApiError> {
    let mut v = Violations::new();
    let token = v.required("token", req.token, Ok);
    v.finish()?;
    let token = token.unwrap_or_default();
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let (user_id, email) = redeem(conn, token.trim(), VERIFY)?;
                let user =
                    repo::find(conn, user_id)?.ok_or_else(|| ApiError::not_found("account"))?;
                if user.email != email {
                    return Err(ApiError::invalid(
                        "token",
                        "was sent to an address this account no longer uses",
                    ));
                }
                let now = db::now();
                repo::confirm_email(conn, user_id, now)?;
                tracing::info!(user_id, "email address verified");
                let user =
                    repo::find(conn, user_id)?.ok_or_else(|| ApiError::not_found("account"))?;
                Ok(UserView::from(&user))
            })
        })
        .await
}

/// Sends the verification email again (at most once a minute).
pub async fn resend_verification(state: &AppState, caller: Caller) -> Result<(), ApiError> {
    let settings = state.settings.clone();
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let user = repo::find(conn, caller.user_id)?
                    .ok_or_else(|| ApiError::not_found("account"))?;
                if user.email_verified_at.is_some() {
                    return Err(ApiError::Conflict {
                        code: "already_verified",
                        detail: "this email address is already verified".into(),
                    });
                }
                if issued_recently(conn, user.id, VERIFY)?.is_some() {
                    return Err(ApiError::TooManyRequests {
                        retry_after_secs: RESEND_AFTER_SECONDS as u64,
                        detail: "a verification email was sent less than a minute ago".into(),
                    });
                }
                queue_verification(conn, &settings, &user)
            })
        })
        .await?;
    state.wake_outbox();
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    #[schema(required = true, schema_with = crate::validate::schema::email)]
    pub email: Option<String>,
}

/// Emails a single-use reset link if the address belongs to an account. The answer is the
/// same either way, so nobody can probe which addresses have accounts.
pub async fn request_reset(state: &AppState, req: ResetRequest) -> Result<(), ApiError> {
    let mut v = Violations::new();
    let email = v.required("email", req.email, |s| Email::parse(&s));
    v.finish()?;
    let email = email.map(Email::into_inner).unwrap_or_default();
    let settings = state.settings.clone();
    let queued = state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let Some(user) = repo::find_by_email(conn, &email)? else {
                    return Ok(false);
                };
                if issued_recently(conn, user.id, RESET)?.is_some() {
                    return Ok(false);
                }
                let minutes = settings.auth.reset_ttl_minutes;
                let (token, id) = issue(conn, &user, RESET, Duration::minutes(minutes))?;
                outbox::queue(
                    conn,
                    &settings,
                    &Notice {
                        event: Event::PasswordReset,
                        key: &format!("account-token:{id}"),
                        path: &format!("/reset-password?token={token}"),
                    },
                    &[recipient(&user)],
                    |_| json!({"link_minutes": minutes}),
                )?;
                tracing::info!(user_id = user.id, "password reset requested");
                Ok::<_, ApiError>(true)
            })
        })
        .await?;
    if queued {
        state.wake_outbox();
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The token from the emailed link.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 256)]
    pub token: Option<String>,
    /// The same rules as a new account's password.
    #[schema(required = true, value_type = String, min_length = 8, max_length = 256)]
    pub password: Option<String>,
}

/// Sets a new password with a reset token. Every session of the account is signed out,
/// the other reset links stop working, and the address counts as verified (the link
/// reached it).
pub async fn confirm_reset(state: &AppState, req: ResetConfirm) -> Result<(), ApiError> {
    let mut v = Violations::new();
    let token = v.required("token", req.token, Ok);
    let password = v.required("password", req.password, Ok);
    v.finish()?;
    let (Some(token), Some(password)) = (token, password) else {
        return Err(ApiError::internal("validation passed without values"));
    };
    // Check the token before the expensive hash, without using it up.
    let probe = token_hash(token.trim());
    let owner: Option<String> = state
        .db
        .run(move |conn| Ok(repo::account_token_owner(conn, &probe, RESET, db::now())?))
        .await?;
    let Some(owner) = owner else {
        return Err(ApiError::invalid(
            "token",
            "is invalid, expired or already used",
        ));
    };
    check_policy(
        &password,
        state.settings.auth.min_password_length,
        Some(&owner),
    )
    .map_err(|m| ApiError::invalid("password", m))?;
    let hasher = state.hasher.clone();
    let hash = blocking(move || hasher.hash(&password))
        .await?
        .map_err(ApiError::internal)?;
    let settings = state.settings.clone();
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let (user_id, _) = redeem(conn, token.trim(), RESET)?;
                let now = db::now();
                repo::set_password_hash(conn, user_id, &hash, now)?;
                repo::revoke_all_tokens(conn, user_id, now)?;
                repo::use_account_tokens(conn, user_id, RESET, now)?;
                repo::confirm_email(conn, user_id, now)?;
                let user =
                    repo::find(conn, user_id)?.ok_or_else(|| ApiError::not_found("account"))?;
                queue_password_changed(
                    conn,
                    &settings,
                    &user,
                    &format!("reset:{}", now.and_utc().timestamp_micros()),
                )?;
                tracing::info!(user_id, "password reset");
                Ok(())
            })
        })
        .await?;
    state.wake_outbox();
    Ok(())
}
