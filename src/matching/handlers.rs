//! `GET /api/v1/{needs,technologies,experts}/{id}/matches`.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::MatchItem;
use crate::accounts::extract::{AcceptLanguage, MaybeCaller};
use crate::catalog::model::Kind;
use crate::catalog::service::visible_row;
use crate::http::error::{ApiError, Problem, Violations};
use crate::http::extract::ApiQuery;
use crate::http::route::ApiRoute;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchingQuery {
    /// For a need: `technology` (default) or `expert`.
    pub kind: Option<String>,
    /// 1–50, default 10.
    pub limit: Option<usize>,
}

/// [`MatchingQuery`] as documented for a need.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct NeedMatchingQuery {
    /// What to find: `technology` (default) or `expert`.
    #[param(schema_with = for_need_kinds)]
    kind: Option<String>,
    /// 1–50, default 10.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<usize>,
}

/// [`MatchingQuery`] as documented for a technology or an expert: they match needs.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SupplyMatchingQuery {
    /// What to find: `need`, the only choice and the default.
    #[param(schema_with = for_supply_kinds)]
    kind: Option<String>,
    /// 1–50, default 10.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<usize>,
}

fn for_need_kinds() -> utoipa::openapi::schema::Schema {
    crate::validate::schema::filter(["technology", "expert"])
}

fn for_supply_kinds() -> utoipa::openapi::schema::Schema {
    crate::validate::schema::filter(["need"])
}

/// The listing matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchSource {
    pub kind: Kind,
    pub id: i64,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchResponse {
    pub source: MatchSource,
    pub items: Vec<MatchItem>,
}

async fn run(
    state: web::Data<AppState>,
    viewer: MaybeCaller,
    language: AcceptLanguage,
    source_kind: Kind,
    id: i64,
    q: MatchingQuery,
) -> Result<HttpResponse, ApiError> {
    let mut v = Violations::new();
    let target = match (source_kind, q.kind.as_deref()) {
        (Kind::Need, None | Some("") | Some("technology")) => Kind::Technology,
        (Kind::Need, Some("expert")) => Kind::Expert,
        (Kind::Need, Some(other)) => {
            v.add(
                "kind",
                format!("`{other}` cannot be matched to a need (technology, expert)"),
            );
            Kind::Technology
        }
        (_, None | Some("") | Some("need")) => Kind::Need,
        (_, Some(other)) => {
            v.add(
                "kind",
                format!("`{other}` cannot be matched here: only needs"),
            );
            Kind::Need
        }
    };
    let limit = q.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        v.add("limit", "must be between 1 and 50");
    }
    v.finish()?;
    let locale = language.or_account(viewer.0);
    let row = visible_row(&state, viewer.0, source_kind, id).await?;
    let index = crate::search::index(&state)?;
    let source = MatchSource {
        kind: source_kind,
        id: row.id,
        title: row.data.title.clone(),
    };
    let started = std::time::Instant::now();
    let items = tokio::task::spawn_blocking(move || index.matches(&row, target, limit, locale))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    state
        .metrics
        .search("matching", started.elapsed().as_secs_f64());
    Ok(HttpResponse::Ok().json(MatchResponse { source, items }))
}

/// Technologies (default) or experts that could answer a need, with the reasons.
#[utoipa::path(get, path = "/api/v1/needs/{id}/matches", tag = "matching",
    params(("id" = i64, Path), NeedMatchingQuery),
    responses(
        (status = 200, description = "Ranked suggestions with reasons", body = MatchResponse),
        (status = 404, description = "No such need, or not yours to see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn for_need(
    state: web::Data<AppState>,
    viewer: MaybeCaller,
    language: AcceptLanguage,
    id: web::Path<i64>,
    q: ApiQuery<MatchingQuery>,
) -> Result<HttpResponse, ApiError> {
    run(state, viewer, language, Kind::Need, id.into_inner(), q.0).await
}

/// Needs that a technology answers, with the reasons.
#[utoipa::path(get, path = "/api/v1/technologies/{id}/matches", tag = "matching",
    params(("id" = i64, Path), SupplyMatchingQuery),
    responses(
        (status = 200, description = "Ranked needs with reasons", body = MatchResponse),
        (status = 404, description = "No such technology, or not yours to see", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn for_technology(
    state: web::Data<AppState>,
    viewer: MaybeCaller,
    language: AcceptLanguage,
    id: web::Path<i64>,
    q: ApiQuery<MatchingQuery>,
) -> Result<HttpResponse, ApiError> {
    run(
        state,
        viewer,
        language,
        Kind::Technology,
        id.into_inner(),
        q.0,
    )
    .await
}

/// Needs an expert could help with, with the reasons.
#[utoipa::path(get, path = "/api/v1/experts/{id}/matches", tag = "matching",
    params(("id" = i64, Path), SupplyMatchingQuery),
    responses(
        (status = 200, description = "Ranked needs with reasons", body = MatchResponse),
        (status = 404, description = "No such expert, or not yours to see", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn for_expert(
    state: web::Data<AppState>,
    viewer: MaybeCaller,
    language: AcceptLanguage,
    id: web::Path<i64>,
    q: ApiQuery<MatchingQuery>,
) -> Result<HttpResponse, ApiError> {
    run(state, viewer, language, Kind::Expert, id.into_inner(), q.0).await
}

/// Registered before the catalogues' `/{id}/{action}` routes, which would otherwise take
/// these paths.
/// The matching routes, relative to `/api/v1`; mounted before the catalogues, whose
/// `/{kind}/{id}/{action}` (POST) would otherwise answer 405 to these GETs.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/needs/{id}/matches", for_need),
        ApiRoute::get("/technologies/{id}/matches", for_technology),
        ApiRoute::get("/experts/{id}/matches", for_expert),
    ]
}
