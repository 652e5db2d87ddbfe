//! Membership by invitation. An administrator invites an email address; the person who
//! owns that address (signed in, address confirmed) accepts or declines. The inviter's
//! answer is the same whether an account uses the address or not, and the address is
//! emailed either way, so inviting tells nobody who has an account.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::MemberRole;
use super::repo;
use super::service::require_org_admin;
use crate::accounts::model::Caller;
use crate::accounts::repo as accounts;
use crate::db::schema::{invitations, organizations};
use crate::db::text_enum::text_enum;
use crate::db::{self, utc, DbConn};
use crate::http::error::{ApiError, Problem, Violations};
use crate::http::extract::ApiJson;
use crate::http::route::ApiRoute;
use crate::locale::Locale;
use crate::notify::outbox::{self, Notice, Recipient};
use crate::notify::Event;
use crate::state::AppState;
use crate::validate::Email;

/// How long an invitation can be answered.
const VALID_DAYS: i64 = 14;
/// The most invitations (new or renewed) one organisation sends in a day: invitations
/// email addresses nobody vouched for, so they must not become a way to send mail.
const MAX_PER_DAY: i64 = 50;

text_enum! {
    /// Where an invitation stands.
    pub enum InvitationStatus as "an invitation status" {
        Pending = "pending",
        Accepted = "accepted",
        Declined = "declined",
        Revoked = "revoked",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
struct Invitation {
    id: i64,
    organization_id: i64,
    email: String,
    role: MemberRole,
    status: InvitationStatus,
    invited_by: Option<i64>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    answered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// The address to invite; whether an account uses it is never told.
    #[schema(required = true, schema_with = crate::validate::schema::email)]
    pub email: Option<String>,
    /// `member` (default) or `admin`.
    #[schema(schema_with = role_or_null)]
    pub role: Option<String>,
}

fn role_or_null() -> utoipa::openapi::schema::Schema {
    crate::validate::schema::one_of_or_null(MemberRole::SPELLINGS)
}

/// An invitation, as its organisation's administrators and the person invited see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: i64,
    pub organization_id: i64,
    pub organization_name: String,
    /// Whether the Department has verified the organisation.
    pub organization_verified: bool,
    pub email: String,
    pub role: MemberRole,
    pub status: InvitationStatus,
    /// Who invited (or last renewed the invitation), if the account still exists.
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

fn view(conn: &mut DbConn, inv: Invitation) -> Result<InvitationView, ApiError> {
    let (name, verified_at): (String, Option<NaiveDateTime>) = organizations::table
        .find(inv.organization_id)
        .select((organizations::name, organizations::verified_at))
        .first(conn)?;
    let invited_by = match inv.invited_by {
        Some(id) => accounts::find(conn, id)?.map(|u| u.display_name),
        None => None,
    };
    Ok(InvitationView {
        id: inv.id,
        organization_id: inv.organization_id,
        organization_name: name,
        organization_verified: verified_at.is_some(),
        email: inv.email,
        role: inv.role,
        status: inv.status,
        invited_by,
        created_at: utc(inv.created_at),
        expires_at: utc(inv.expires_at),
        answered_at: inv.answered_at.map(utc),
    })
}

fn invitation_not_found() -> ApiError {
    ApiError::NotFound {
        code: "invitation_not_found",
        detail: "no open invitation with this id for your email address".into(),
    }
}

/// Invites `email` to the organisation, or renews the open invitation of that address
/// (with the role now given); the address is emailed in the same transaction.
pub async fn invite(
    state: &AppState,
    caller: Caller,
    org_id: i64,
    req: InviteRequest,
) -> Result<InvitationView, ApiError> {
    let mut v = Violations::new();
    let email = v.required("email", req.email, |s| Email::parse(&s));
    let role = v
        .optional("role", req.role, |s| MemberRole::parse(&s))
        .flatten()
        .unwrap_or(MemberRole::Member);
    v.finish()?;
    let Some(email) = email else {
        return Err(ApiError::internal("validation passed without values"));
    };
    let st = state.clone();
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                require_org_admin(conn, org_id, &caller)?;
                // Only a confirmed address may make the exchange write to others.
                confirmed_email(conn, &caller)?;
                let now = db::now();
                let sent_today: i64 = invitations::table
                    .filter(invitations::organization_id.eq(org_id))
                    .filter(invitations::expires_at.gt(now + Duration::days(VALID_DAYS - 1)))
                    .count()
                    .get_result(conn)?;
                if sent_today >= MAX_PER_DAY {
                    return Err(ApiError::TooManyRequests {
                        retry_after_secs: 24 * 3600,
                        detail: format!(
                            "an organisation sends at most {MAX_PER_DAY} invitations a day"
                        ),
                    });
                }
                let expires = now + Duration::days(VALID_DAYS);
                let open: Option<i64> = invitations::table
                    .filter(invitations::organization_id.eq(org_id))
                    .filter(invitations::email.eq(email.as_str()))
                    .filter(invitations::status.eq(InvitationStatus::Pending))
                    .select(invitations::id)
                    .first(conn)
                    .optional()?;
                let id = match open {
                    Some(id) => {
                        diesel::update(invitations::table.find(id))
                            .set((
                                invitations::role.eq(role),
                                invitations::invited_by.eq(caller.user_id),
                                invitations::expires_at.eq(expires),
                            ))
                            .execute(conn)?;
                        id
                    }
                    None => diesel::insert_into(invitations::table)
                        .values((
                            invitations::organization_id.eq(org_id),
                            invitations::email.eq(email.as_str()),
                            invitations::role.eq(role),
                            invitations::status.eq(InvitationStatus::Pending),
                            invitations::invited_by.eq(caller.user_id),
                            invitations::created_at.eq(now),
                            invitations::expires_at.eq(expires),
                        ))
                        .returning(invitations::id)
                        .get_result(conn)?,
                };
                let inv: Invitation = invitations::table
                    .find(id)
                    .select(Invitation::as_select())
                    .first(conn)?;
                let shown = view(conn, inv)?;
                tell_invited(conn, &st, &caller, &shown, expires)?;
                tracing::info!(organization_id = org_id, invitation_id = id, "invited");
                Ok(shown)
            })
        })
        .await
}

/// Emails the invited address: in its account's language when there is one, else
/// Vietnamese; the inviter learns nothing of which.
fn tell_invited(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    inv: &InvitationView,
    expires: NaiveDateTime,
) -> Result<(), ApiError> {
    let account = accounts::find_by_email(conn, &inv.email)?;
    let inviter = accounts::find(conn, caller.user_id)?
        .map(|u| u.display_name)
        .unwrap_or_default();
    let recipient = Recipient {
        user_id: account.as_ref().map(|u| u.id),
        email: inv.email.clone(),
        name: account
            .as_ref()
            .map(|u| u.display_name.clone())
            .unwrap_or_default(),
        locale: account.as_ref().map(|u| u.locale).unwrap_or(Locale::Vi),
    };
    // A renewal is a new occurrence, but one address hears of an invitation at most once
    // a day.
    let key = format!("invitation:{}:{}", inv.id, expires.date());
    let notice = Notice {
        event: Event::OrganizationInvitation,
        key: &key,
        path: "/invitations",
    };
    let role = inv.role;
    outbox::queue(conn, &state.settings, &notice, &[recipient], |locale| {
        serde_json::json!({
            "organization": inv.organization_name,
            "verified": inv.organization_verified,
            "inviter": inviter,
            "role": role_label(role, locale),
            "days": VALID_DAYS,
        })
    })?;
    Ok(())
}

fn role_label(role: MemberRole, locale: Locale) -> &'static str {
    match (role, locale) {
        (MemberRole::Admin, Locale::Vi) => "quản trị viên",
        (MemberRole::Member, Locale::Vi) => "thành viên",
        (MemberRole::Admin, Locale::En) => "administrator",
        (MemberRole::Member, Locale::En) => "member",
    }
}

/// The organisation's open invitations (its administrators).
pub async fn of_organization(
    state: &AppState,
    caller: Caller,
    org_id: i64,
) -> Result<Vec<InvitationView>, ApiError> {
    state
        .db
        .run(move |conn| {
            require_org_admin(conn, org_id, &caller)?;
            let rows: Vec<Invitation> = invitations::table
                .filter(invitations::organization_id.eq(org_id))
                .filter(invitations::status.eq(InvitationStatus::Pending))
                .filter(invitations::expires_at.gt(db::now()))
                .order(invitations::id.asc())
                .select(Invitation::as_select())
                .load(conn)?;
            rows.into_iter().map(|r| view(conn, r)).collect()
        })
        .await
}

/// Withdraws an open invitation (its organisation's administrators).
pub async fn revoke(
    state: &AppState,
    caller: Caller,
    org_id: i64,
    invitation_id: i64,
) -> Result<(), ApiError> {
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                require_org_admin(conn, org_id, &caller)?;
                let n = diesel::update(
                    invitations::table
                        .find(invitation_id)
                        .filter(invitations::organization_id.eq(org_id))
                        .filter(invitations::status.eq(InvitationStatus::Pending)),
                )
                .set((
                    invitations::status.eq(InvitationStatus::Revoked),
                    invitations::answered_at.eq(db::now()),
                ))
                .execute(conn)?;
                if n == 0 {
                    return Err(ApiError::NotFound {
                        code: "invitation_not_found",
                        detail: "no open invitation with this id in this organisation".into(),
                    });
                }
                Ok(())
            })
        })
        .await
}

/// The caller's confirmed address, or why invitations are not open to it yet.
fn confirmed_email(conn: &mut DbConn, caller: &Caller) -> Result<String, ApiError> {
    let user =
        accounts::find(conn, caller.user_id)?.ok_or_else(|| ApiError::not_found("account"))?;
    if user.email_verified_at.is_none() {
        return Err(ApiError::Refused {
            code: "email_unconfirmed",
            detail: "confirm your email address first: invitations go to confirmed addresses \
                     (POST /api/v1/me/verify-email sends the link again)"
                .into(),
        });
    }
    Ok(user.email)
}

/// Open invitations to the caller's confirmed address.
pub async fn mine(state: &AppState, caller: Caller) -> Result<Vec<InvitationView>, ApiError> {
    state
        .db
        .run(move |conn| {
            let email = confirmed_email(conn, &caller)?;
            let rows: Vec<Invitation> = invitations::table
                .filter(invitations::email.eq(&email))
                .filter(invitations::status.eq(InvitationStatus::Pending))
                .filter(invitations::expires_at.gt(db::now()))
                .order(invitations::id.asc())
                .select(Invitation::as_select())
                .load(conn)?;
            rows.into_iter().map(|r| view(conn, r)).collect()
        })
        .await
}

/// Accepts (joining with the invited role) or declines an open invitation to the
/// caller's confirmed address.
pub async fn answer(
    state: &AppState,
    caller: Caller,
    invitation_id: i64,
    accept: bool,
) -> Result<InvitationView, ApiError> {
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let email = confirmed_email(conn, &caller)?;
                let now = db::now();
                let inv: Invitation = invitations::table
                    .find(invitation_id)
                    .filter(invitations::email.eq(&email))
                    .filter(invitations::status.eq(InvitationStatus::Pending))
                    .filter(invitations::expires_at.gt(now))
                    .select(Invitation::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(invitation_not_found)?;
                let status = if accept {
                    if repo::member_role(conn, inv.organization_id, caller.user_id)?.is_none() {
                        repo::add_member(conn, inv.organization_id, caller.user_id, inv.role, now)?;
                    }
                    InvitationStatus::Accepted
                } else {
                    InvitationStatus::Declined
                };
                diesel::update(invitations::table.find(inv.id))
                    .set((
                        invitations::status.eq(status),
                        invitations::answered_at.eq(now),
                    ))
                    .execute(conn)?;
                tracing::info!(
                    organization_id = inv.organization_id,
                    invitation_id = inv.id,
                    user_id = caller.user_id,
                    accepted = accept,
                    "invitation answered"
                );
                let answered = Invitation {
                    status,
                    answered_at: Some(now),
                    ..inv
                };
                view(conn, answered)
            })
        })
        .await
}

/// Invite someone by email. The answer is the same whether an account uses the address;
/// the address gets an email with the invitation either way.
#[utoipa::path(
    post, path = "/api/v1/organizations/{id}/invitations", tag = "organizations",
    operation_id = "invite_member", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = InviteRequest,
    responses(
        (status = 201, description = "Invited (or the open invitation renewed)", body = InvitationView),
        (status = 403, description = "Not an administrator of it, or your own address is not confirmed yet (`email_unconfirmed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The organisation's invitations for today are used up (`too_many_requests`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn invite_handler(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<InviteRequest>,
) -> Result<HttpResponse, ApiError> {
    let v = invite(&state, caller, id.into_inner(), body.0).await?;
    state.wake_outbox();
    Ok(HttpResponse::Created().json(v))
}

/// The organisation's open invitations.
#[utoipa::path(
    get, path = "/api/v1/organizations/{id}/invitations", tag = "organizations",
    operation_id = "list_invitations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Open invitations, oldest first", body = [InvitationView]),
        (status = 403, description = "Not an administrator of it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_handler(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(of_organization(&state, caller, id.into_inner()).await?))
}

/// Withdraw an open invitation.
#[utoipa::path(
    delete, path = "/api/v1/organizations/{id}/invitations/{invitation_id}", tag = "organizations",
    operation_id = "revoke_invitation", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id"), ("invitation_id" = i64, Path)),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "Not an administrator of it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation or open invitation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_handler(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (org, inv) = path.into_inner();
    revoke(&state, caller, org, inv).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Open invitations to your confirmed email address.
#[utoipa::path(
    get, path = "/api/v1/me/invitations", tag = "accounts",
    operation_id = "my_invitations", security(("bearer" = [])),
    responses(
        (status = 200, description = "Open invitations, oldest first", body = [InvitationView]),
        (status = 403, description = "Your email address is not confirmed yet (`email_unconfirmed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn mine_handler(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(mine(&state, caller).await?))
}

/// `accept` (you join with the invited role) or `decline` an invitation.
#[utoipa::path(
    post, path = "/api/v1/me/invitations/{id}/{action}", tag = "accounts",
    operation_id = "answer_invitation", security(("bearer" = [])),
    params(("id" = i64, Path), ("action" = InvitationAnswer, Path)),
    responses(
        (status = 200, description = "Answered", body = InvitationView),
        (status = 403, description = "Your email address is not confirmed yet (`email_unconfirmed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No open invitation with this id for your address (`invitation_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn answer_handler(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let accept = match InvitationAnswer::parse(&action) {
        Ok(InvitationAnswer::Accept) => true,
        Ok(InvitationAnswer::Decline) => false,
        Err(_) => {
            return Err(ApiError::from_status(
                actix_web::http::StatusCode::NOT_FOUND,
            ))
        }
    };
    Ok(HttpResponse::Ok().json(answer(&state, caller, id, accept).await?))
}

text_enum! {
    /// What the person invited can answer.
    pub enum InvitationAnswer as "an answer" {
        Accept = "accept",
        Decline = "decline",
    }
}

/// The invitation routes, relative to `/api/v1`.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/organizations/{id}/invitations", list_handler),
        ApiRoute::post("/organizations/{id}/invitations", invite_handler),
        ApiRoute::delete(
            "/organizations/{id}/invitations/{invitation_id}",
            revoke_handler,
        ),
        ApiRoute::get("/me/invitations", mine_handler),
        ApiRoute::post("/me/invitations/{id}/{action}", answer_handler),
    ]
}
