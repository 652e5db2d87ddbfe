//! `POST /api/v1/imports` (moderators) and `GET /api/v1/export` (open data).

use std::io::{BufReader, Seek, Write};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{export_page, import, ExportKind, ImportReport};
use crate::accounts::model::Caller;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{next_chunk, ApiQuery};
use crate::http::route::ApiRoute;
use crate::state::AppState;

/// Import listings in the interchange format (JSON Lines): organisations, technologies,
/// needs and experts. Imported listings are published; the same `external_id` again
/// updates its record. Every rejected line is reported with its number.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", security(("bearer" = [])),
    request_body(content = String, content_type = "application/x-ndjson", description = "One JSON record per line"),
    responses(
        (status = 200, description = "What was created, updated, unchanged and rejected", body = ImportReport),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than imports.max_body_bytes", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(user_id = caller.user_id))]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if !caller.role.can_moderate() {
        return Err(ApiError::forbidden("imports are for moderators"));
    }
    let limit = state.settings.imports.max_body_bytes;
    // Spool to a temporary file: memory stays flat whatever the upload's size.
    let mut file = tempfile::tempfile().map_err(ApiError::internal)?;
    let mut size = 0usize;
    // Uploads are large: their own allowance, not the JSON bodies'.
    let allowed = std::time::Duration::from_millis(state.settings.imports.body_timeout_ms.max(1));
    let until = tokio::time::Instant::now() + allowed;
    let mut payload = payload.into_inner();
    while let Some(chunk) = next_chunk(&mut payload, until, allowed).await {
        let chunk = chunk?;
        size += chunk.len();
        if size > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        file.write_all(&chunk).map_err(ApiError::internal)?;
    }
    if size == 0 {
        return Err(ApiError::BadRequest {
            code: "empty_body",
            detail: "send the records as JSON Lines in the body".into(),
        });
    }
    file.rewind().map_err(ApiError::internal)?;
    let db = state.db.clone();
    let report = tokio::task::spawn_blocking(move || {
        import(&db, BufReader::new(file), Some(caller.user_id), &|_| {})
    })
    .await
    .map_err(ApiError::internal)??;
    tracing::info!(
        created = report.created,
        updated = report.updated,
        rejected = report.rejected,
        "import done"
    );
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `all` (default: organisations, then technologies, needs, experts), `organization`,
    /// `technology`, `need` or `expert`.
    #[param(schema_with = export_kind)]
    pub kind: Option<String>,
}

fn export_kind() -> utoipa::openapi::schema::Schema {
    crate::validate::schema::filter(["all", "organization", "technology", "need", "expert"])
}

/// Published listings as open data in the interchange format, streamed as JSON Lines.
/// No private contact details, and no owner for confidential needs.
#[utoipa::path(get, path = "/api/v1/export", tag = "imports", params(ExportQuery),
    responses(
        (status = 200, description = "JSON Lines", content_type = "application/x-ndjson", body = String),
        (status = 422, description = "Unknown kind", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export(
    state: web::Data<AppState>,
    q: ApiQuery<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let kinds = ExportKind::parse_selection(q.0.kind.as_deref())
        .map_err(|m| ApiError::invalid("kind", m))?;
    let db = state.db.clone();
    let stream = futures_util::stream::unfold(Some((0usize, 0i64)), move |cursor| {
        let db = db.clone();
        let kinds = kinds.clone();
        async move {
            let (index, after) = cursor?;
            let what = *kinds.get(index)?;
            let page = db
                .run(move |conn| export_page(conn, what, after, 500))
                .await;
            Some(match page {
                Ok((text, Some(last))) => (Ok(web::Bytes::from(text)), Some((index, last))),
                Ok((text, None)) => (Ok(web::Bytes::from(text)), Some((index + 1, 0))),
                Err(e) => (Err(e), None),
            })
        }
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"techex-export.jsonl\"",
        ))
        .streaming(stream))
}

/// The bulk routes, relative to `/api/v1`.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::post("/imports", upload),
        ApiRoute::get("/export", export),
    ]
}
