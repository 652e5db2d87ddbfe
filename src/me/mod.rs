//! What a signed-in person sees and sets of themself: the account with its organisations
//! (`/me`) and the notification settings (`/me/notifications`). Above accounts,
//! organisations and notifications, which it reads together.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::model::{Caller, UpdateMeRequest, UserView};
use crate::accounts::service;
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, Problem};
use crate::http::extract::ApiJson;
use crate::http::route::ApiRoute;
use crate::notify::prefs::{self, NotificationPrefs, UpdatePrefs};
use crate::organizations::model::MembershipView;
use crate::organizations::repo as organizations;
use crate::state::AppState;

/// `GET /api/v1/me`: the account and its organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    pub organizations: Vec<MembershipView>,
}

fn me_in(conn: &mut DbConn, user_id: i64) -> Result<MeView, ApiError> {
    Ok(MeView {
        user: service::user_view(conn, user_id)?,
        organizations: organizations::membership_views(conn, user_id)?,
    })
}

/// The signed-in account and its organisations.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = MeView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let view = state
        .db
        .run(move |conn| me_in(conn, caller.user_id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Change the display name or the language of the interface and of emails.
#[utoipa::path(
    patch, path = "/api/v1/me", tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "Updated", body = MeView),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<UpdateMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let user_id = caller.user_id;
    let view = service::update_me(&state, caller, body.0, move |conn| me_in(conn, user_id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Your email preferences.
#[utoipa::path(
    get, path = "/api/v1/me/notifications", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The preferences", body = NotificationPrefs),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_prefs(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let prefs = state
        .db
        .run(move |conn| Ok(prefs::load(conn, caller.user_id)?))
        .await?;
    Ok(HttpResponse::Ok().json(prefs))
}

/// Switch optional emails on or off. Account mail always goes.
#[utoipa::path(
    put, path = "/api/v1/me/notifications", tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdatePrefs,
    responses(
        (status = 200, description = "Saved", body = NotificationPrefs),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_prefs(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<UpdatePrefs>,
) -> Result<HttpResponse, ApiError> {
    let u = body.0;
    let prefs = state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                Ok::<_, ApiError>(prefs::update(conn, caller.user_id, u)?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(prefs))
}

/// The routes of `/me` and `/me/notifications`, relative to `/api/v1`.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/me", me),
        ApiRoute::patch("/me", update_me),
        ApiRoute::get("/me/notifications", get_prefs),
        ApiRoute::put("/me/notifications", put_prefs),
    ]
}
