//! HTTP handlers for the three catalogues, the moderation queue and the vocabularies.
//!
//! The three catalogues share one implementation; [`listing_endpoints!`] stamps out the
//! per-kind functions so that each gets its own documented paths in the OpenAPI document.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::model::{Action, Kind};
use super::service::{self, ListQuery, ListingView, QueueQuery, TransitionRequest};
use crate::accounts::extract::MaybeCaller;
use crate::accounts::model::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{optional_json, ApiJson, ApiQuery};
use crate::http::route::ApiRoute;
use crate::state::AppState;
use crate::taxonomy::{self, Term};

/// The version in `If-Match`: `"3"`, `W/"3"` or `3`.
fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(raw) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .map(Some)
        .ok_or_else(|| ApiError::invalid("If-Match", "must be the listing's version, e.g. \"3\""))
}

fn with_etag(mut res: HttpResponse, view: &ListingView) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(&format!("\"{}\"", view.version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

fn ok(view: ListingView) -> HttpResponse {
    let res = HttpResponse::Ok().json(&view);
    with_etag(res, &view)
}

async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    kind: Kind,
    body: Map<String, Value>,
) -> Result<HttpResponse, ApiError> {
    let view = service::create(&state, caller, kind, body).await?;
    let res = HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/{}/{}", kind.collection(), view.id),
        ))
        .json(&view);
    Ok(with_etag(res, &view))
}

async fn list(
    state: web::Data<AppState>,
    viewer: MaybeCaller,
    kind: Kind,
    q: ListQuery,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::list(&state, viewer.0, kind, q).await?))
}

async fn get(
    state: web::Data<AppState>,
    viewer: MaybeCaller,
    kind: Kind,
    id: i64,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(service::get(&state, viewer.0, kind, id).await?))
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    kind: Kind,
    id: i64,
    body: Map<String, Value>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    Ok(ok(
        service::update(&state, caller, kind, id, body, version).await?
    ))
}

async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    kind: Kind,
    id: i64,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, caller, kind, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn transition(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    kind: Kind,
    id: i64,
    action: &str,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let action = match action {
        "submit" => Action::Submit,
        "publish" => Action::Publish,
        "reject" => Action::Reject,
        "archive" => Action::Archive,
        _ => {
            return Err(ApiError::from_status(
                actix_web::http::StatusCode::NOT_FOUND,
            ))
        }
    };
    let body: TransitionRequest = optional_json(&body)?;
    let version = if_match(&req)?;
    Ok(ok(service::transition(
        &state, caller, kind, id, action, body, version,
    )
    .await?))
}

macro_rules! listing_endpoints {
    ($module:ident, $kind:expr, $one:literal, $tag:literal, $fields:ty, $collection:literal, $item:literal, $action:literal) => {
        pub mod $module {
            use super::*;
            use crate::catalog::service::ListingList;
            use crate::http::error::Problem;

            /// Create a draft. Technologies and needs belong to an organisation of yours
            /// (`organization_id`, optional when you belong to exactly one); an expert
            /// profile belongs to you (moderators create profiles they manage).
            #[utoipa::path(post, path = $collection, tag = $tag, operation_id = concat!("create_", $one), security(("bearer" = [])),
                request_body = $fields,
                responses(
                    (status = 201, description = "Created as a draft", body = ListingView),
                    (status = 409, description = "You already have an expert profile", body = Problem, content_type = "application/problem+json"),
                    (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
                ))]
            pub async fn create(state: web::Data<AppState>, caller: Caller, body: ApiJson<Map<String, Value>>) -> Result<HttpResponse, ApiError> {
                super::create(state, caller, $kind, body.0).await
            }

            /// List: published listings by default; other states show what you may see.
            #[utoipa::path(get, path = $collection, tag = $tag, operation_id = concat!("list_", $tag), params(ListQuery),
                responses(
                    (status = 200, description = "A page of listings", body = ListingList),
                    (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
                ))]
            pub async fn list(state: web::Data<AppState>, viewer: MaybeCaller, q: ApiQuery<ListQuery>) -> Result<HttpResponse, ApiError> {
                super::list(state, viewer, $kind, q.0).await
            }

            /// One listing. Its `ETag` is the version to send back when you update it.
            #[utoipa::path(get, path = $item, tag = $tag, operation_id = concat!("get_", $one), params(("id" = i64, Path)),
                responses(
                    (status = 200, description = "The listing", body = ListingView),
                    (status = 404, description = "No such listing, or not yours to see", body = Problem, content_type = "application/problem+json"),
                ))]
            pub async fn get(state: web::Data<AppState>, viewer: MaybeCaller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
                super::get(state, viewer, $kind, id.into_inner()).await
            }

            /// Change fields (absent ones stay, null clears). Send the version you edited
            /// as `If-Match` or `version`. An owner's edit of a published listing sends it
            /// back to review.
            #[utoipa::path(patch, path = $item, tag = $tag, operation_id = concat!("update_", $one), security(("bearer" = [])),
                params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The version edited, e.g. \"3\"")),
                request_body = $fields,
                responses(
                    (status = 200, description = "Updated", body = ListingView),
                    (status = 403, description = "Not yours to edit", body = Problem, content_type = "application/problem+json"),
                    (status = 409, description = "Archived", body = Problem, content_type = "application/problem+json"),
                    (status = 412, description = "Someone changed it since your version (`version_mismatch`)", body = Problem, content_type = "application/problem+json"),
                    (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
                    (status = 428, description = "No version sent (`version_required`)", body = Problem, content_type = "application/problem+json"),
                ))]
            pub async fn update(req: HttpRequest, state: web::Data<AppState>, caller: Caller, id: web::Path<i64>, body: ApiJson<Map<String, Value>>) -> Result<HttpResponse, ApiError> {
                super::update(req, state, caller, $kind, id.into_inner(), body.0).await
            }

            /// Delete a draft (its owner). Past draft, archive instead.
            #[utoipa::path(delete, path = $item, tag = $tag, operation_id = concat!("delete_", $one), security(("bearer" = [])),
                params(("id" = i64, Path)),
                responses(
                    (status = 204, description = "Deleted"),
                    (status = 403, description = "Not yours to delete", body = Problem, content_type = "application/problem+json"),
                    (status = 409, description = "Not a draft (`invalid_transition`, with `allowed_actions`)", body = Problem, content_type = "application/problem+json"),
                ))]
            pub async fn delete(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
                super::delete(state, caller, $kind, id.into_inner()).await
            }

            /// Moderation: `submit` (owner: draft or rejected → pending_review), `publish`
            /// and `reject` with a `reason` (moderators: pending_review → published or
            /// rejected), `archive` (owner or moderator).
            #[utoipa::path(post, path = $action, tag = $tag, operation_id = concat!("transition_", $one), security(("bearer" = [])),
                params(("id" = i64, Path), ("action" = Action, Path)),
                request_body(content = Option<TransitionRequest>, description = "`{\"reason\": …}` to reject"),
                responses(
                    (status = 200, description = "Moved", body = ListingView),
                    (status = 403, description = "Not allowed to you", body = Problem, content_type = "application/problem+json"),
                    (status = 409, description = "Not allowed from the current state: `allowed_actions` lists what is", body = Problem, content_type = "application/problem+json"),
                    (status = 422, description = "A rejection without a reason", body = Problem, content_type = "application/problem+json"),
                ))]
            pub async fn transition(req: HttpRequest, state: web::Data<AppState>, caller: Caller, path: web::Path<(i64, String)>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
                let (id, action) = path.into_inner();
                super::transition(req, state, caller, $kind, id, &action, body).await
            }

            /// This catalogue's routes, relative to `/api/v1`.
            pub fn routes() -> Vec<ApiRoute> {
                let base = format!("/{}", $kind.collection());
                vec![
                    ApiRoute::get(base.clone(), list),
                    ApiRoute::post(base.clone(), create),
                    ApiRoute::get(format!("{base}/{{id}}"), get),
                    ApiRoute::patch(format!("{base}/{{id}}"), update),
                    ApiRoute::delete(format!("{base}/{{id}}"), delete),
                    ApiRoute::post(format!("{base}/{{id}}/{{action}}"), transition),
                ]
            }
        }
    };
}

listing_endpoints!(
    technologies,
    Kind::Technology,
    "technology",
    "technologies",
    crate::catalog::content::TechnologyFields,
    "/api/v1/technologies",
    "/api/v1/technologies/{id}",
    "/api/v1/technologies/{id}/{action}"
);
listing_endpoints!(
    needs,
    Kind::Need,
    "need",
    "needs",
    crate::catalog::content::NeedFields,
    "/api/v1/needs",
    "/api/v1/needs/{id}",
    "/api/v1/needs/{id}/{action}"
);
listing_endpoints!(
    experts,
    Kind::Expert,
    "expert",
    "experts",
    crate::catalog::content::ExpertFields,
    "/api/v1/experts",
    "/api/v1/experts/{id}",
    "/api/v1/experts/{id}/{action}"
);

/// Listings waiting for review, oldest submission first.
#[utoipa::path(get, path = "/api/v1/moderation/queue", tag = "moderation", security(("bearer" = [])),
    params(QueueQuery),
    responses(
        (status = 200, description = "Pending listings", body = crate::catalog::service::ListingList),
        (status = 403, description = "Not a moderator", body = crate::http::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn queue(
    state: web::Data<AppState>,
    caller: Caller,
    q: ApiQuery<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::queue(&state, caller, q.0).await?))
}

/// A field of S&T with its sectors.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldTerm {
    #[serde(flatten)]
    pub term: Term,
    pub sectors: Vec<Term>,
}

/// A technology readiness level.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrlTerm {
    pub level: u8,
    pub vi: &'static str,
    pub en: &'static str,
}

/// Fields of S&T (OECD Fields of Science, as Vietnam's classification follows them).
#[utoipa::path(get, path = "/api/v1/taxonomy/fields", tag = "taxonomy",
    responses((status = 200, description = "Six fields with their sectors", body = [FieldTerm])))]
pub async fn fields() -> HttpResponse {
    let out: Vec<FieldTerm> = taxonomy::FIELDS
        .iter()
        .map(|(f, sectors)| FieldTerm {
            term: *f,
            sectors: sectors.to_vec(),
        })
        .collect();
    HttpResponse::Ok().json(out)
}

/// Hanoi's priority areas.
#[utoipa::path(get, path = "/api/v1/taxonomy/priority-areas", tag = "taxonomy",
    responses((status = 200, description = "Codes with Vietnamese and English labels", body = [Term])))]
pub async fn priority_areas() -> HttpResponse {
    HttpResponse::Ok().json(taxonomy::PRIORITY_AREAS)
}

/// Intellectual-property statuses.
#[utoipa::path(get, path = "/api/v1/taxonomy/ip-statuses", tag = "taxonomy",
    responses((status = 200, description = "Codes with labels", body = [Term])))]
pub async fn ip_statuses() -> HttpResponse {
    HttpResponse::Ok().json(taxonomy::IP_STATUSES)
}

/// Transfer modes of the Law on Technology Transfer 2017 (also needs' collaboration types).
#[utoipa::path(get, path = "/api/v1/taxonomy/transfer-modes", tag = "taxonomy",
    responses((status = 200, description = "Codes with labels", body = [Term])))]
pub async fn transfer_modes() -> HttpResponse {
    HttpResponse::Ok().json(taxonomy::TRANSFER_MODES)
}

/// What an expert takes on now.
#[utoipa::path(get, path = "/api/v1/taxonomy/availability", tag = "taxonomy",
    responses((status = 200, description = "Codes with labels", body = [Term])))]
pub async fn availability() -> HttpResponse {
    HttpResponse::Ok().json(taxonomy::AVAILABILITY)
}

/// Technology readiness levels 1–9.
#[utoipa::path(get, path = "/api/v1/taxonomy/trl", tag = "taxonomy",
    responses((status = 200, description = "Levels with descriptions", body = [TrlTerm])))]
pub async fn trl() -> HttpResponse {
    let out: Vec<TrlTerm> = taxonomy::TRL
        .iter()
        .map(|(level, vi, en)| TrlTerm {
            level: *level,
            vi,
            en,
        })
        .collect();
    HttpResponse::Ok().json(out)
}

/// The catalogue, moderation and vocabulary routes, relative to `/api/v1`.
pub fn routes() -> Vec<ApiRoute> {
    let mut routes = technologies::routes();
    routes.extend(needs::routes());
    routes.extend(experts::routes());
    routes.extend([
        ApiRoute::get("/moderation/queue", queue),
        ApiRoute::get("/taxonomy/fields", fields),
        ApiRoute::get("/taxonomy/priority-areas", priority_areas),
        ApiRoute::get("/taxonomy/ip-statuses", ip_statuses),
        ApiRoute::get("/taxonomy/transfer-modes", transfer_modes),
        ApiRoute::get("/taxonomy/availability", availability),
        ApiRoute::get("/taxonomy/trl", trl),
    ]);
    routes
}
