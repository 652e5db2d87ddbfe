//! `GET /api/v1/search` and `GET /api/v1/suggest`.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::query::{Filters, Request, SearchResponse, SortBy, Suggestion};
use crate::accounts::extract::{AcceptLanguage, MaybeCaller};
use crate::accounts::model::Locale;
use crate::catalog::model::Kind;
use crate::http::error::{ApiError, Problem, Violations};
use crate::http::extract::ApiQuery;
use crate::http::page::{page_within, Page, DEFAULT_LIMIT};
use crate::http::route::ApiRoute;
use crate::organizations::model::OrgType;
use crate::state::AppState;
use crate::taxonomy;
use crate::validate::schema::filter;
use utoipa::openapi::schema::Schema;

/// How deep a search can be paged.
const MAX_SEARCH_OFFSET: i64 = 10_000;

const MAX_QUERY_CHARS: usize = 500;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find, with or without diacritics. Empty: browse with the filters.
    #[param(max_length = 500)]
    pub q: Option<String>,
    /// technology, need, expert or any (default).
    #[param(schema_with = kind_filter)]
    pub kind: Option<String>,
    /// Field or sector code: `2` matches every engineering sector, `207` one sector.
    #[param(schema_with = taxonomy::schema::field_filter)]
    pub field: Option<String>,
    #[param(schema_with = taxonomy::schema::priority_area_filter)]
    pub priority_area: Option<String>,
    #[param(minimum = 1, maximum = 9)]
    pub trl_min: Option<u64>,
    /// Not below `trl_min`.
    #[param(minimum = 1, maximum = 9)]
    pub trl_max: Option<u64>,
    #[param(schema_with = taxonomy::schema::ip_status_filter)]
    pub ip_status: Option<String>,
    #[param(schema_with = taxonomy::schema::transfer_mode_filter)]
    pub transfer_mode: Option<String>,
    /// Price (technologies) or budget (needs) ranges overlapping [price_min, price_max], đồng.
    #[param(minimum = 0)]
    pub price_min: Option<i64>,
    /// Not below `price_min`.
    #[param(minimum = 0)]
    pub price_max: Option<i64>,
    /// Type of the owner organisation.
    #[param(schema_with = org_type_filter)]
    pub org_type: Option<String>,
    /// Experts' country, ISO 3166 two letters.
    #[param(schema_with = taxonomy::schema::country_filter)]
    pub country: Option<String>,
    /// vi or en.
    #[param(schema_with = language_filter)]
    pub language: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// 0–10 000.
    #[param(minimum = 0, maximum = 10000)]
    pub offset: Option<i64>,
    /// relevance (default) or newest.
    #[param(schema_with = sort_filter)]
    pub sort: Option<String>,
}

fn kind_filter() -> Schema {
    filter(Kind::SPELLINGS.into_iter().chain(["any"]))
}
fn org_type_filter() -> Schema {
    filter(OrgType::SPELLINGS)
}
fn language_filter() -> Schema {
    filter(Locale::SPELLINGS)
}
fn sort_filter() -> Schema {
    filter(["relevance", "newest"])
}

fn code<T>(
    v: &mut Violations,
    field: &str,
    raw: Option<String>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Option<T> {
    v.optional(field, raw.filter(|s| !s.is_empty()), |s| parse(&s))
        .flatten()
}

/// Validates the parameters into a search request; every bad one is named.
pub fn request(q: SearchQuery, locale: Locale) -> Result<Request, ApiError> {
    let mut v = Violations::new();
    let text = q.q.unwrap_or_default();
    if text.chars().count() > MAX_QUERY_CHARS {
        v.add("q", format!("must be at most {MAX_QUERY_CHARS} characters"));
    }
    let kind = match q.kind.as_deref() {
        None | Some("") | Some("any") => None,
        Some(k) => v.check(
            "kind",
            Kind::parse(k)
                .map_err(|_| format!("`{k}` is not a kind (technology, need, expert, any)")),
        ),
    };
    let field = code(&mut v, "field", q.field, |s| {
        taxonomy::is_field_code(s)
            .then(|| s.to_owned())
            .ok_or_else(|| format!("`{s}` is not a field code (see /api/v1/taxonomy/fields)"))
    });
    let priority_area = code(&mut v, "priority_area", q.priority_area, |s| {
        taxonomy::priority_area(s).map(str::to_owned)
    });
    let ip_status = code(&mut v, "ip_status", q.ip_status, |s| {
        taxonomy::ip_status(s).map(str::to_owned)
    });
    let transfer_mode = code(&mut v, "transfer_mode", q.transfer_mode, |s| {
        taxonomy::transfer_mode(s).map(str::to_owned)
    });
    let org_type = code(&mut v, "org_type", q.org_type, |s| {
        OrgType::parse(s).map(|t| t.as_str().to_owned())
    });
    let country = code(&mut v, "country", q.country, taxonomy::country);
    let language = code(&mut v, "language", q.language, |s| {
        Locale::parse(s)
            .map(|l| l.as_str().to_owned())
            .map_err(|_| format!("`{s}` is not a language (vi, en)"))
    });
    for (name, value) in [("trl_min", q.trl_min), ("trl_max", q.trl_max)] {
        if value.is_some_and(|t| !(1..=9).contains(&t)) {
            v.add(name, "must be a readiness level from 1 to 9");
        }
    }
    if let (Some(a), Some(b)) = (q.trl_min, q.trl_max) {
        if a > b {
            v.add("trl_max", "must not be below trl_min");
        }
    }
    for (name, value) in [("price_min", q.price_min), ("price_max", q.price_max)] {
        if value.is_some_and(|p| p < 0) {
            v.add(name, "must not be negative");
        }
    }
    if let (Some(a), Some(b)) = (q.price_min, q.price_max) {
        if a > b {
            v.add("price_max", "must not be below price_min");
        }
    }
    let Page { limit, offset } = page_within(
        &mut v,
        q.limit,
        q.offset,
        MAX_SEARCH_OFFSET,
        ": refine the search instead",
    );
    let sort = match q.sort.as_deref() {
        None | Some("") | Some("relevance") => SortBy::Relevance,
        Some("newest") => SortBy::Newest,
        Some(other) => {
            v.add(
                "sort",
                format!("`{other}` is not a sort order (relevance, newest)"),
            );
            SortBy::Relevance
        }
    };
    v.finish()?;
    Ok(Request {
        q: text,
        filters: Filters {
            kind,
            field,
            priority_area,
            trl_min: q.trl_min,
            trl_max: q.trl_max,
            ip_status,
            transfer_mode,
            price_min: q.price_min,
            price_max: q.price_max,
            org_type,
            country,
            language,
        },
        // In range, so the conversions hold.
        limit: usize::try_from(limit).unwrap_or(DEFAULT_LIMIT as usize),
        offset: usize::try_from(offset).unwrap_or(0),
        sort,
        locale,
    })
}

/// Full-text search over the published catalogues, diacritics optional, with filters,
/// facet counts and highlighted snippets.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchQuery),
    responses(
        (status = 200, description = "Ranked results with facets", body = SearchResponse),
        (status = 422, description = "Invalid parameters, each named", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The index is not available yet", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    state: web::Data<AppState>,
    viewer: MaybeCaller,
    language: AcceptLanguage,
    q: ApiQuery<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let req = request(q.0, language.or_account(viewer.0))?;
    let index = crate::search::index(&state)?;
    let started = std::time::Instant::now();
    let res = tokio::task::spawn_blocking(move || index.search(&req))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    state
        .metrics
        .search("search", started.elapsed().as_secs_f64());
    Ok(HttpResponse::Ok().json(&*res))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// What has been typed so far.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// technology, need, expert or any (default).
    #[param(schema_with = kind_filter)]
    pub kind: Option<String>,
    /// 1–20, default 8.
    #[param(minimum = 1, maximum = 20)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
}

/// Completions for a search box over titles and keywords, diacritics optional.
#[utoipa::path(get, path = "/api/v1/suggest", tag = "search", params(SuggestQuery),
    responses(
        (status = 200, description = "Completions, best first", body = Suggestions),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn suggest(
    state: web::Data<AppState>,
    q: ApiQuery<SuggestQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let mut v = Violations::new();
    let text = q.q.unwrap_or_default();
    if text.chars().count() > 100 {
        v.add("q", "must be at most 100 characters");
    }
    let kind = match q.kind.as_deref() {
        None | Some("") | Some("any") => None,
        Some(k) => v.check("kind", Kind::parse(k)),
    };
    let limit = q.limit.unwrap_or(8);
    if !(1..=20).contains(&limit) {
        v.add("limit", "must be between 1 and 20");
    }
    v.finish()?;
    let index = crate::search::index(&state)?;
    let started = std::time::Instant::now();
    let items = tokio::task::spawn_blocking(move || index.suggest(&text, kind, limit))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    state
        .metrics
        .search("suggest", started.elapsed().as_secs_f64());
    Ok(HttpResponse::Ok().json(Suggestions { items }))
}

/// The search routes, relative to `/api/v1`.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/search", search),
        ApiRoute::get("/suggest", suggest),
    ]
}
