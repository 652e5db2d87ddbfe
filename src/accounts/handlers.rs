//! HTTP handlers for accounts: thin wrappers over [`super::service`].

use actix_web::{web, HttpRequest, HttpResponse};

use super::mail::{self, ResetConfirm, ResetRequest, TokenRequest};
use super::model::{
    Caller, ChangePasswordRequest, LoginRequest, LoginResponse, RegisterRequest,
    RegistrationReceived, UserView,
};
use super::service;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{client_addr, ApiJson};
use crate::http::route::ApiRoute;
use crate::state::AppState;

/// Create an account (its address to be confirmed).
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 202, description = "Received: a new account gets a confirmation link; an address already registered gets an email to its owner instead. The answer is the same either way", body = RegistrationReceived),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn register(
    state: web::Data<AppState>,
    body: ApiJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let received = service::register(&state, body.0).await?;
    Ok(HttpResponse::Accepted().json(received))
}

/// Sign in with email and password; answers a bearer token.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "Wrong email or password (`invalid_credentials`), the same answer for both", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let server = &state.settings.server;
    let addr = client_addr(&req, server.trust_forwarded_for, &server.trusted_proxies);
    let res = service::login(&state, body.0, addr).await?;
    Ok(HttpResponse::Ok().json(res))
}

/// Sign out: the token used for this request stops working.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn logout(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    service::logout(&state, caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password. Every existing token of the account is revoked; the answer carries
/// a fresh one for this client.
#[utoipa::path(
    post, path = "/api/v1/me/password", tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Password changed; new token", body = LoginResponse),
        (status = 422, description = "Wrong current password or weak new one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong current passwords", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::change_password(&state, caller, body.0).await?))
}

/// Confirm the email address with the token from the verification email.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "accounts",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Verified", body = UserView),
        (status = 422, description = "The token is invalid, expired or used (field `token`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: ApiJson<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(mail::verify_email(&state, body.0).await?))
}

/// Send the verification email again.
#[utoipa::path(
    post, path = "/api/v1/me/verify-email", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued"),
        (status = 409, description = "Already verified (`already_verified`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "One was sent less than a minute ago", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn resend_verification(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    mail::resend_verification(&state, caller).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Ask for a password reset link. The answer is 202 whether or not the address has an
/// account.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset", tag = "accounts",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "If the address has an account, a link is on its way"),
        (status = 422, description = "Not an email address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn request_reset(
    state: web::Data<AppState>,
    body: ApiJson<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    mail::request_reset(&state, body.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the token from the reset email; every session is signed out.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/confirm", tag = "accounts",
    request_body = ResetConfirm,
    responses(
        (status = 204, description = "Password set: sign in with it"),
        (status = 422, description = "Bad token, or a weak password", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    body: ApiJson<ResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    mail::confirm_reset(&state, body.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The account routes, relative to `/api/v1`.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::post("/auth/register", register),
        ApiRoute::post("/auth/login", login),
        ApiRoute::post("/auth/logout", logout),
        ApiRoute::post("/me/password", change_password),
        ApiRoute::post("/auth/verify-email", verify_email),
        ApiRoute::post("/me/verify-email", resend_verification),
        ApiRoute::post("/auth/password-reset", request_reset),
        ApiRoute::post("/auth/password-reset/confirm", confirm_reset),
    ]
}
