//! The HTTP server: every area's route table mounted in one place, the middleware, the
//! OpenAPI document and its explorer.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress, Condition, ErrorHandlers};
use actix_web::{web, App, HttpResponse, HttpServer};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use super::{health, middleware, openapi};
use crate::http::error::ApiError;
use crate::http::extract::{BodyLimit, BodyTimeout};
use crate::http::route::{self, ApiRoute};
use crate::state::AppState;
use crate::{accounts, catalog, deals, imports, matching, me, organizations, search};

async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::from_status(
        actix_web::http::StatusCode::NOT_FOUND,
    ))
}

/// Where the versioned API is mounted.
pub const API_PREFIX: &str = "/api/v1";
/// The Swagger UI's pages and assets (served by `utoipa-swagger-ui`).
const SWAGGER_UI: &str = "/docs/{_:.*}";
/// The OpenAPI document (served by `utoipa-swagger-ui`).
const OPENAPI_JSON: &str = "/api/v1/openapi.json";

/// Routes served but deliberately left out of the OpenAPI document: method, full path and
/// why. Everything else served is documented and everything documented is served (the test
/// `every_route_is_documented_and_every_documented_route_served` below).
pub const UNDOCUMENTED: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/metrics",
        "the Prometheus scrape target (server.metrics), for monitoring, not part of the API",
    ),
    (
        "GET",
        "/docs",
        "a redirect to the API explorer, not part of the API",
    ),
    (
        "GET",
        SWAGGER_UI,
        "the API explorer's HTML and assets (utoipa-swagger-ui), not part of the API",
    ),
    (
        "GET",
        OPENAPI_JSON,
        "the OpenAPI document itself, which does not describe itself",
    ),
];

/// `/docs` → `/docs/`, where the explorer's relative asset links resolve.
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/docs/"))
        .finish()
}

/// Routes mounted at the root, in matching order (before the Swagger UI and the API).
pub fn root_routes() -> Vec<ApiRoute> {
    let mut routes = health::routes();
    routes.push(ApiRoute::get("/docs", docs_redirect));
    routes
}

/// Routes mounted under [`API_PREFIX`], in matching order: each domain's table in turn.
/// The order is load-bearing where paths overlap (matching's `/needs/{id}/matches` comes
/// before the catalogue's `/needs/{id}/{action}`).
pub fn api_routes() -> Vec<ApiRoute> {
    [
        accounts::handlers::routes(),
        me::routes(),
        deals::handlers::routes(),
        organizations::handlers::routes(),
        matching::handlers::routes(),
        catalog::handlers::routes(),
        imports::handlers::routes(),
        search::handlers::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every route of the application: the root table, the Swagger UI (which registers the
/// OpenAPI document's route too, ahead of the API scope) and the API table in its scope.
/// Cross-origin calls from the configured web origins only: the API's methods, the
/// headers clients send (a bearer token, JSON, `If-Match`), the ones they may read.
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::IF_MATCH,
            actix_web::http::header::ACCEPT_LANGUAGE,
        ])
        .expose_headers(["x-request-id", "retry-after", "etag"])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin.trim());
    }
    cors
}

fn routes(cfg: &mut web::ServiceConfig, openapi: utoipa::openapi::OpenApi) {
    route::register(cfg, root_routes());
    // No outside validator: the explorer works offline and calls no one.
    cfg.service(
        SwaggerUi::new(SWAGGER_UI)
            .url(OPENAPI_JSON, openapi)
            .config(utoipa_swagger_ui::Config::default().validator_url("none")),
    );
    cfg.service(web::scope(API_PREFIX).configure(|cfg| route::register(cfg, api_routes())));
}

/// Builds the HTTP server on an already bound listener (port 0 in tests).
pub fn server(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let workers = match state.settings.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let limit = state.settings.server.body_limit_bytes;
    let data = web::Data::new(state);
    let body_limit = web::Data::new(BodyLimit(limit));
    let body_timeout = web::Data::new(BodyTimeout(Duration::from_millis(
        data.settings.server.body_timeout_ms.max(1),
    )));
    let head_timeout = Duration::from_millis(data.settings.server.head_timeout_ms.max(1));
    let openapi = openapi::ApiDoc::openapi();
    let origins = data.settings.server.cors_origins.clone();
    for origin in &origins {
        let ok = url::Url::parse(origin.trim()).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.path() == "/" && u.query().is_none()
        }) && !origin.trim().ends_with('/');
        if !ok {
            return Err(std::io::Error::other(format!(
                "server.cors_origins: `{origin}` is not an origin such as https://techex.example"
            )));
        }
    }
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(body_limit.clone())
            .app_data(body_timeout.clone())
            .app_data(web::PayloadConfig::new(limit))
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                ApiError::NotFound {
                    code: "not_found",
                    detail: format!("no such resource ({err})"),
                }
                .into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError::BadRequest {
                    code: "invalid_query",
                    detail: format!("the query string is invalid: {err}"),
                }
                .into()
            }))
            .wrap(ErrorHandlers::new().default_handler(middleware::problemize))
            .wrap(Compress::default())
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(from_fn(middleware::request_log))
            .configure(|cfg| routes(cfg, openapi.clone()))
            .default_service(web::to(unknown_route))
    })
    .workers(workers)
    .client_request_timeout(head_timeout)
    .listen(listener)?
    .run();
    Ok(server)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use actix_web::dev::ResourceDef;
    use utoipa::OpenApi;

    use super::*;

    /// `{id}`, `{offer_id}`, `{_:.*}` → `{}`: the document and the routes name their path
    /// parameters each on their own.
    fn normalise(path: &str) -> String {
        let mut out = String::with_capacity(path.len());
        let mut depth = 0;
        for c in path.chars() {
            match c {
                '{' => {
                    if depth == 0 {
                        out.push_str("{}");
                    }
                    depth += 1;
                }
                '}' => depth -= 1,
                _ if depth > 0 => {}
                _ => out.push(c),
            }
        }
        out
    }

    /// Every (METHOD, full path) served, in registration (= matching) order.
    fn served() -> Vec<(String, String)> {
        let root = root_routes()
            .iter()
            .map(|r| (r.method().to_string(), r.path().to_owned()))
            .collect::<Vec<_>>();
        let swagger = [SWAGGER_UI, OPENAPI_JSON].map(|p| ("GET".to_owned(), p.to_owned()));
        let api = api_routes()
            .iter()
            .map(|r| (r.method().to_string(), format!("{API_PREFIX}{}", r.path())))
            .collect::<Vec<_>>();
        root.into_iter().chain(swagger).chain(api).collect()
    }

    fn document() -> serde_json::Value {
        serde_json::to_value(openapi::ApiDoc::openapi()).unwrap()
    }

    /// Every (METHOD, path) the OpenAPI document describes.
    fn documented() -> Vec<(String, String)> {
        const METHODS: [&str; 8] = [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ];
        let doc = document();
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for m in METHODS {
                if item.get(m).is_some() {
                    out.push((m.to_uppercase(), path.clone()));
                }
            }
        }
        out
    }

    /// Keyed by the normalised pair, with the spelling to show.
    fn keyed(pairs: &[(String, String)]) -> BTreeMap<(String, String), String> {
        pairs
            .iter()
            .map(|(m, p)| ((m.clone(), normalise(p)), format!("{m} {p}")))
            .collect()
    }

    #[test]
    fn normalising_forgets_parameter_names_only() {
        assert_eq!(
            normalise("/deals/{id}/offers/{offer_id}/{action}"),
            "/deals/{}/offers/{}/{}"
        );
        assert_eq!(normalise("/docs/{_:.*}"), "/docs/{}");
        assert_eq!(normalise("/deals/{id}/timeline"), "/deals/{}/timeline");
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_served() {
        let served = keyed(&served());
        let documented = keyed(&documented());
        let exempt = keyed(
            &UNDOCUMENTED
                .iter()
                .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
                .collect::<Vec<_>>(),
        );
        let mut problems = Vec::new();
        for (key, shown) in &served {
            if !documented.contains_key(key) && !exempt.contains_key(key) {
                problems.push(format!(
                    "served but not in the OpenAPI document: {shown} \
                     (document it with #[utoipa::path], or list it in http::UNDOCUMENTED)"
                ));
            }
        }
        for (key, shown) in &documented {
            if !served.contains_key(key) {
                problems.push(format!(
                    "in the OpenAPI document but not served: {shown} \
                     (add it to its domain's routes(), or drop it from ApiDoc)"
                ));
            }
        }
        for (key, shown) in &exempt {
            if !served.contains_key(key) {
                problems.push(format!(
                    "listed in http::UNDOCUMENTED but not served: {shown}"
                ));
            }
            if documented.contains_key(key) {
                problems.push(format!(
                    "listed in http::UNDOCUMENTED but documented: {shown}"
                ));
            }
        }
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
        // Guards the comparison itself: both sides were read.
        assert!(documented.len() >= 60, "{} documented", documented.len());
    }

    #[test]
    fn no_route_is_registered_twice() {
        let mut seen = BTreeSet::new();
        let twice: Vec<String> = served()
            .into_iter()
            .filter(|(m, p)| !seen.insert((m.clone(), normalise(p))))
            .map(|(m, p)| format!("{m} {p}"))
            .collect();
        assert!(twice.is_empty(), "registered twice: {twice:?}");
    }

    /// actix gives a request to the first resource whose path matches, which answers 405 for
    /// a method it lacks: a resource that an earlier one matches is unreachable. (That is
    /// why `/deals/{id}/timeline` precedes `/deals/{id}/{action}`.)
    #[test]
    fn no_route_is_hidden_behind_an_earlier_one() {
        let mut paths: Vec<String> = Vec::new();
        for (_, p) in served() {
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
        // A concrete path for a pattern: each parameter replaced by a value no literal
        // segment uses.
        let sample = |pattern: &str| normalise(pattern).replace("{}", "zz-sample");
        let mut hidden = Vec::new();
        for (j, later) in paths.iter().enumerate() {
            let probe = sample(later);
            assert!(ResourceDef::new(later.as_str()).is_match(&probe), "{later}");
            if let Some(earlier) = paths[..j]
                .iter()
                .find(|e| ResourceDef::new(e.as_str()).is_match(&probe))
            {
                hidden.push(format!("{later} is answered by the earlier {earlier}"));
            }
        }
        assert!(hidden.is_empty(), "\n{}", hidden.join("\n"));
    }

    /// OpenAPI requires operation ids to be unique; generated clients name their methods
    /// after them (utoipa takes the function's name unless told otherwise).
    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut by_id: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_default().to_owned();
                by_id
                    .entry(id)
                    .or_default()
                    .push(format!("{} {path}", method.to_uppercase()));
            }
        }
        let clashes: Vec<String> = by_id
            .iter()
            .filter(|(id, ops)| id.is_empty() || ops.len() > 1)
            .map(|(id, ops)| format!("{id:?}: {}", ops.join(", ")))
            .collect();
        assert!(clashes.is_empty(), "\n{}", clashes.join("\n"));
    }

    /// Each `{name}` of a documented path is a declared path parameter, and the other way.
    #[test]
    fn documented_path_parameters_match_the_path() {
        let doc = document();
        let mut problems = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let in_path: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_owned)
                .collect();
            for (method, op) in item.as_object().unwrap() {
                let declared: BTreeSet<String> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect();
                if declared != in_path {
                    problems.push(format!(
                        "{} {path}: path has {in_path:?}, parameters declare {declared:?}",
                        method.to_uppercase()
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    }
}
