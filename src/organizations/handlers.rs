//! HTTP handlers for organisations.

use actix_web::{web, HttpResponse};

use super::model::{
    CreateOrganizationRequest, MemberView, OrganizationList, OrganizationQuery, OrganizationView,
    UpdateOrganizationRequest,
};
use super::service;
use crate::accounts::extract::MaybeCaller;
use crate::accounts::model::Caller;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::route::ApiRoute;
use crate::state::AppState;

/// Register an organisation; the caller becomes its administrator.
#[utoipa::path(
    post, path = "/api/v1/organizations", tag = "organizations", operation_id = "create_organization",
    security(("bearer" = [])),
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, description = "Created", body = OrganizationView),
        (status = 409, description = "Tax code already registered (`tax_code_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<CreateOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let org = service::create(&state, caller, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/organizations/{}", org.id)))
        .json(org))
}

/// List organisations, by name.
#[utoipa::path(
    get, path = "/api/v1/organizations", tag = "organizations", operation_id = "list_organizations",
    params(OrganizationQuery),
    responses(
        (status = 200, description = "A page of organisations", body = OrganizationList),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    query: ApiQuery<OrganizationQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::list(&state, query.0).await?))
}

/// One organisation. Its contact email is shown to its members and to moderators only.
#[utoipa::path(
    get, path = "/api/v1/organizations/{id}", tag = "organizations", operation_id = "get_organization",
    params(("id" = i64, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = OrganizationView),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    viewer: MaybeCaller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::get(&state, viewer.0, id.into_inner()).await?))
}

/// Edit an organisation (its administrators). Changing the name or the tax code of a
/// verified organisation withdraws the verification.
#[utoipa::path(
    patch, path = "/api/v1/organizations/{id}", tag = "organizations", operation_id = "update_organization",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, description = "Updated", body = OrganizationView),
        (status = 403, description = "Not an administrator of it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another organisation has this tax code (`tax_code_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<UpdateOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::update(&state, caller, id.into_inner(), body.0).await?))
}

/// Members of an organisation (its members and moderators).
#[utoipa::path(
    get, path = "/api/v1/organizations/{id}/members", tag = "organizations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Members", body = [MemberView]),
        (status = 403, description = "Not a member", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::list_members(&state, caller, id.into_inner()).await?))
}

/// Remove a member (administrators), or leave (the member). The last administrator stays.
#[utoipa::path(
    delete, path = "/api/v1/organizations/{id}/members/{user_id}", tag = "organizations",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Organisation id"),
        ("user_id" = i64, Path, description = "Member's account id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an administrator of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last administrator (`last_admin`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (org_id, user_id) = path.into_inner();
    service::remove_member(&state, caller, org_id, user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark the organisation verified (moderators).
#[utoipa::path(
    post, path = "/api/v1/organizations/{id}/verify", tag = "organizations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Verified", body = OrganizationView),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn verify(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::verify(&state, caller, id.into_inner()).await?))
}

/// The organisation routes, relative to `/api/v1`.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/organizations", list),
        ApiRoute::post("/organizations", create),
        ApiRoute::get("/organizations/{id}", get),
        ApiRoute::patch("/organizations/{id}", update),
        ApiRoute::get("/organizations/{id}/members", list_members),
        ApiRoute::delete("/organizations/{id}/members/{user_id}", remove_member),
        ApiRoute::post("/organizations/{id}/verify", verify),
    ]
    .into_iter()
    .chain(super::invitations::routes())
    .collect()
}
