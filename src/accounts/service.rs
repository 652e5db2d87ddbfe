//! Account rules: registration, sign-in, tokens, profile and password changes.

use chrono::Duration;

use super::model::{
    utc, Caller, ChangePasswordRequest, Locale, LoginRequest, LoginResponse, NewUser,
    RegisterRequest, RegistrationReceived, Role, UpdateMeRequest, UserView,
};
use super::repo;
use super::throttle::{self, Subject};
use super::tokens::{blocking, new_token, token_hash};
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, Violations};
use crate::password::check_policy;
use crate::state::AppState;
use crate::validate::{clean_text, text, Email};

fn invalid_credentials() -> ApiError {
    ApiError::Unauthenticated {
        code: "invalid_credentials",
        detail: "the email address or the password is incorrect".into(),
    }
}

fn invalid_token() -> ApiError {
    ApiError::Unauthenticated {
        code: "invalid_token",
        detail: "the token is invalid, expired or revoked: sign in again".into(),
    }
}

fn view(user: &super::model::User) -> UserView {
    UserView::from(user)
}

/// Issues a token for `user_id` inside the caller's connection.
fn issue_token(
    conn: &mut DbConn,
    user_id: i64,
    ttl_hours: i64,
) -> Result<(String, chrono::NaiveDateTime), ApiError> {
    let now = db::now();
    let expires_at = now + Duration::hours(ttl_hours);
    let token = new_token();
    repo::insert_token(conn, user_id, &token_hash(&token), now, expires_at)?;
    Ok((token, expires_at))
}

/// Registers an address. The answer is the same whether it was free (an account is
/// created and a confirmation link sent) or already taken (its owner is emailed instead),
/// so registration cannot be used to find out who has an account.
pub async fn register(
    state: &AppState,
    req: RegisterRequest,
) -> Result<RegistrationReceived, ApiError> {
    let asked = req.email.clone().unwrap_or_default();
    let email = match register_account(state, req, true).await {
        Ok(Registered::Created(user)) => user.email,
        Ok(Registered::Taken(email)) => email,
        // Registered by someone else between the check and the insert: the same answer.
        Err(ApiError::Conflict {
            code: "email_taken",
            ..
        }) => Email::parse(&asked).map(Email::into_inner).unwrap_or(asked),
        Err(e) => return Err(e),
    };
    state.wake_outbox();
    Ok(RegistrationReceived {
        email,
        detail: "check your inbox: a new account gets a link to confirm the address; if an \
                 account already uses it, its owner is told instead"
            .into(),
    })
}

/// What a registration did.
enum Registered {
    Created(UserView),
    /// The address belongs to an account already (whose owner is emailed when the
    /// registration was a public one).
    Taken(String),
}

/// Creates the account; with `verify`, the verification email is queued in the same
/// transaction (accounts made by an operator are verified instead).
async fn register_account(
    state: &AppState,
    req: RegisterRequest,
    verify: bool,
) -> Result<Registered, ApiError> {
    let min = state.settings.auth.min_password_length;
    let mut v = Violations::new();
    let email = v.required("email", req.email, |s| Email::parse(&s));
    let display_name = v.required("display_name", req.display_name, |s| text(&s, 2, 100));
    let locale = v
        .optional("locale", req.locale, |s| Locale::parse(s.trim()))
        .flatten()
        .unwrap_or(Locale::Vi);
    let email_str = email.as_ref().map(|e| e.as_str().to_owned());
    let password = v.required("password", req.password, |p| {
        check_policy(&p, min, email_str.as_deref()).map(|_| p)
    });
    v.finish()?;
    let (Some(email), Some(display_name), Some(password)) = (email, display_name, password) else {
        return Err(ApiError::internal("validation passed without values"));
    };
    let hasher = state.hasher.clone();
    let hash = blocking(move || hasher.hash(&password))
        .await?
        .map_err(ApiError::internal)?;
    let settings = state.settings.clone();
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let now = db::now();
                if let Some(owner) = repo::find_by_email(conn, email.as_str())? {
                    if verify {
                        super::mail::queue_already_registered(conn, &settings, &owner)?;
                    }
                    tracing::info!(user_id = owner.id, "registration of a taken address");
                    return Ok(Registered::Taken(owner.email));
                }
                let new = NewUser {
                    email: email.as_str(),
                    password_hash: &hash,
                    display_name: &display_name,
                    locale,
                    role: Role::Member,
                    created_at: now,
                    updated_at: now,
                };
                let id = repo::insert(conn, &new).map_err(|e| {
                    if db::is_unique_violation(&e) {
                        ApiError::Conflict {
                            code: "email_taken",
                            detail: "an account with this email address already exists".into(),
                        }
                    } else {
                        e.into()
                    }
                })?;
                if !verify {
                    repo::mark_verified(conn, id, now)?;
                }
                let user = repo::find(conn, id)?.ok_or_else(|| ApiError::not_found("account"))?;
                if verify {
                    super::mail::queue_verification(conn, &settings, &user)?;
                }
                tracing::info!(user_id = id, "account registered");
                Ok(Registered::Created(view(&user)))
            })
        })
        .await
}

pub async fn login(
    state: &AppState,
    req: LoginRequest,
    client_addr: String,
) -> Result<LoginResponse, ApiError> {
    let mut v = Violations::new();
    let email = v.required("email", req.email, |s| {
        let s = clean_text(&s).to_lowercase();
        if s.is_empty() {
            Err("must not be empty".to_owned())
        } else {
            Ok(s)
        }
    });
    let password = v.required("password", req.password, |p| {
        if p.is_empty() {
            Err("must not be empty".to_owned())
        } else {
            Ok(p)
        }
    });
    v.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::internal("validation passed without values"));
    };

    let pair_key = throttle::key(Subject::Pair, &format!("{email}|{client_addr}"));
    let account_key = throttle::key(Subject::Account, &email);
    let address_key = throttle::key(Subject::Address, &client_addr);
    let keys = vec![pair_key.clone(), account_key.clone(), address_key.clone()];
    let lookup_email = email.clone();
    let user = state
        .db
        .run(move |conn| {
            throttle::check(conn, &keys, db::now())?;
            Ok(repo::find_by_email(conn, &lookup_email)?)
        })
        .await?;

    // The same Argon2 work whether or not the account exists.
    let hasher = state.hasher.clone();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let pw = password.clone();
    let ok = blocking(move || hasher.verify(&pw, stored.as_deref())).await?;

    let cfg = state.settings.auth.throttle.clone();
    let Some(user) = user.filter(|_| ok) else {
        state
            .db
            .run(move |conn| {
                let now = db::now();
                throttle::record_failure(conn, Subject::Pair, &pair_key, &cfg, now)?;
                throttle::record_failure(conn, Subject::Account, &account_key, &cfg, now)?;
                throttle::record_failure(conn, Subject::Address, &address_key, &cfg, now)?;
                Ok(())
            })
            .await?;
        tracing::info!("sign-in refused");
        return Err(invalid_credentials());
    };

    // Upgrade hashes made with older cost parameters while the password is at hand.
    let rehash = if state.hasher.needs_rehash(&user.password_hash) {
        let hasher = state.hasher.clone();
        // Signing in goes on with the old hash if the new one cannot be made; the failure
        // is logged, since the account keeps its weaker hash until it is fixed.
        match blocking(move || hasher.hash(&password)).await? {
            Ok(hash) => Some(hash),
            Err(e) => {
                tracing::error!(user_id = user.id, error = %e, "password rehash failed");
                None
            }
        }
    } else {
        None
    };
    let ttl = state.settings.auth.token_ttl_hours;
    state
        .db
        .run(move |conn| {
            throttle::reset(conn, &pair_key)?;
            throttle::reset(conn, &account_key)?;
            if let Some(hash) = rehash {
                repo::set_password_hash(conn, user.id, &hash, db::now())?;
            }
            let (token, expires_at) = issue_token(conn, user.id, ttl)?;
            tracing::info!(user_id = user.id, "signed in");
            Ok(LoginResponse {
                token,
                expires_at: utc(expires_at),
                user: view(&user),
            })
        })
        .await
}

/// Resolves a bearer token to its caller.
pub async fn authenticate(state: &AppState, token: String) -> Result<Caller, ApiError> {
    if token.is_empty() || token.len() > 256 {
        return Err(invalid_token());
    }
    let hash = token_hash(&token);
    let found = state
        .db
        .run(move |conn| Ok(repo::find_live_token(conn, &hash, db::now())?))
        .await?;
    let Some((token_id, user_id, role, locale)) = found else {
        return Err(invalid_token());
    };
    Ok(Caller {
        user_id,
        role,
        token_id,
        locale,
    })
}

pub async fn logout(state: &AppState, caller: Caller) -> Result<(), ApiError> {
    state
        .db
        .run(move |conn| {
            repo::revoke_token(conn, caller.token_id, db::now())?;
            Ok(())
        })
        .await
}

/// The signed-in account.
pub fn user_view(conn: &mut DbConn, user_id: i64) -> Result<UserView, ApiError> {
    let user = repo::find(conn, user_id)?.ok_or_else(|| ApiError::not_found("account"))?;
    Ok(view(&user))
}

/// Changes the display name or the language; `then` runs in the same transaction (the
/// `/me` view reads the account with its organisations there).
pub async fn update_me<T, F>(
    state: &AppState,
    caller: Caller,
    req: UpdateMeRequest,
    then: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let mut v = Violations::new();
    let display_name = v
        .optional("display_name", req.display_name, |s| text(&s, 2, 100))
        .flatten();
    let locale = v
        .optional("locale", req.locale, |s| Locale::parse(s.trim()))
        .flatten();
    v.finish()?;
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let user = repo::find(conn, caller.user_id)?
                    .ok_or_else(|| ApiError::not_found("account"))?;
                let name = display_name.unwrap_or(user.display_name);
                let locale = locale.unwrap_or(user.locale);
                repo::update_profile(conn, caller.user_id, &name, locale, db::now())?;
                then(conn)
            })
        })
        .await
}

/// Changes the password, revokes every token of the account (signing out every device)
/// and signs this client in again with a fresh token.
pub async fn change_password(
    state: &AppState,
    caller: Caller,
    req: ChangePasswordRequest,
) -> Result<LoginResponse, ApiError> {
    let mut v = Violations::new();
    let current = v.required("current_password", req.current_password, Ok);
    let new = v.required("new_password", req.new_password, Ok);
    v.finish()?;
    let (Some(current), Some(new)) = (current, new) else {
        return Err(ApiError::internal("validation passed without values"));
    };
    let user = state
        .db
        .run(move |conn| {
            repo::find(conn, caller.user_id)?.ok_or_else(|| ApiError::not_found("account"))
        })
        .await?;
    let account_key = throttle::key(Subject::Account, &user.email);
    let key_check = vec![account_key.clone()];
    state
        .db
        .run(move |conn| throttle::check(conn, &key_check, db::now()))
        .await?;

    let hasher = state.hasher.clone();
    let stored = user.password_hash.clone();
    if !blocking(move || hasher.verify(&current, Some(&stored))).await? {
        let cfg = state.settings.auth.throttle.clone();
        state
            .db
            .run(move |conn| {
                throttle::record_failure(conn, Subject::Account, &account_key, &cfg, db::now())
            })
            .await?;
        return Err(ApiError::invalid("current_password", "is incorrect"));
    }
    check_policy(
        &new,
        state.settings.auth.min_password_length,
        Some(&user.email),
    )
    .map_err(|m| ApiError::invalid("new_password", m))?;
    let hasher = state.hasher.clone();
    let hash = blocking(move || hasher.hash(&new))
        .await?
        .map_err(ApiError::internal)?;
    let ttl = state.settings.auth.token_ttl_hours;
    let settings = state.settings.clone();
    let res = state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let now = db::now();
                repo::set_password_hash(conn, user.id, &hash, now)?;
                repo::revoke_all_tokens(conn, user.id, now)?;
                let (token, expires_at) = issue_token(conn, user.id, ttl)?;
                let user =
                    repo::find(conn, user.id)?.ok_or_else(|| ApiError::not_found("account"))?;
                super::mail::queue_password_changed(
                    conn,
                    &settings,
                    &user,
                    &format!("change:{}", now.and_utc().timestamp_micros()),
                )?;
                tracing::info!(
                    user_id = user.id,
                    "password changed, other sessions revoked"
                );
                Ok(LoginResponse {
                    token,
                    expires_at: utc(expires_at),
                    user: view(&user),
                })
            })
        })
        .await;
    state.wake_outbox();
    res
}

/// Creates an account with a platform role, for `techex admin create`. An existing account
/// with that email is given the role instead; its password is left unchanged.
pub async fn create_privileged(
    state: &AppState,
    email: &str,
    password: &str,
    role: Role,
    display_name: Option<&str>,
) -> Result<(UserView, bool), ApiError> {
    let email = Email::parse(email).map_err(|m| ApiError::invalid("email", m))?;
    let existing = {
        let e = email.as_str().to_owned();
        state
            .db
            .run(move |conn| Ok(repo::find_by_email(conn, &e)?))
            .await?
    };
    if let Some(user) = existing {
        let updated = state
            .db
            .run(move |conn| {
                repo::set_role(conn, user.id, role, db::now())?;
                repo::find(conn, user.id)?.ok_or_else(|| ApiError::not_found("account"))
            })
            .await?;
        return Ok((view(&updated), false));
    }
    let user = register_account(
        state,
        RegisterRequest {
            email: Some(email.as_str().to_owned()),
            password: Some(password.to_owned()),
            display_name: Some(display_name.map(str::to_owned).unwrap_or_else(|| {
                email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or("admin")
                    .to_owned()
            })),
            locale: Some(Locale::Vi.as_str().into()),
        },
        false,
    )
    .await?;
    let Registered::Created(user) = user else {
        return Err(ApiError::Conflict {
            code: "email_taken",
            detail: "an account with this email address was created meanwhile".into(),
        });
    };
    state
        .db
        .run(move |conn| {
            let now = db::now();
            repo::set_role(conn, user.id, role, now)?;
            repo::find(conn, user.id)?
                .ok_or_else(|| ApiError::not_found("account"))
                .map(|u| view(&u))
        })
        .await
        .map(|v| (v, true))
}
