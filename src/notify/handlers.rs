//! HTTP handlers for a user's email preferences.

use actix_web::{web, HttpResponse};

use super::prefs::{self, NotificationPrefs, UpdatePrefs};
use crate::accounts::model::Caller;
use crate::db;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::ApiJson;
use crate::http::route::ApiRoute;
use crate::state::AppState;

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

/// The preference routes, relative to `/api/v1`.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/me/notifications", get_prefs),
        ApiRoute::put("/me/notifications", put_prefs),
    ]
}
