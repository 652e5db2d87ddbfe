//! The HTTP edge: server wiring, errors, extractors, OpenAPI.

pub mod error;
pub mod extract;
pub mod health;
pub mod middleware;
pub mod openapi;
pub mod page;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress, ErrorHandlers};
use actix_web::{web, App, HttpResponse, HttpServer};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use self::error::ApiError;
use self::extract::BodyLimit;
use crate::state::AppState;
use crate::{accounts, catalog, deals, imports, matching, notify, organizations, search};

async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::from_status(
        actix_web::http::StatusCode::NOT_FOUND,
    ))
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
    let openapi = openapi::ApiDoc::openapi();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(body_limit.clone())
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
            .wrap(from_fn(middleware::request_log))
            .configure(health::routes)
            .service(web::resource("/docs").route(web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            })))
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", openapi.clone()))
            .service(
                web::scope("/api/v1")
                    .configure(accounts::handlers::routes)
                    .service(
                        web::resource("/me/notifications")
                            .route(web::get().to(notify::handlers::get_prefs))
                            .route(web::put().to(notify::handlers::put_prefs)),
                    )
                    .configure(deals::handlers::routes)
                    .configure(organizations::handlers::routes)
                    .configure(matching::handlers::routes)
                    .configure(catalog::handlers::routes)
                    .configure(imports::handlers::routes)
                    .configure(search::handlers::routes),
            )
            .default_service(web::to(unknown_route))
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}
