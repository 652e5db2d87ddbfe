//! Liveness and readiness probes.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::{ApiError, PROBLEM_JSON};
use crate::http::route::ApiRoute;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `not_ready`.
    pub status: &'static str,
    /// Each dependency checked: `ok` or what failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<Checks>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Checks {
    pub database: String,
    pub search_index: String,
    /// Listing changes the index has yet to apply (null when unknown: the database is
    /// unreachable, or an indexer pass is running).
    pub index_lag: Option<i64>,
    /// Emails waiting to be delivered, and those given up on (see `techex outbox`).
    pub outbox_pending: Option<i64>,
    pub outbox_dead: Option<i64>,
}

/// The most the readiness probe waits for the database: an orchestrator must hear "not
/// ready" quickly, not time out.
const PROBE_DEADLINE: std::time::Duration = std::time::Duration::from_millis(800);

/// What the database says: the outbox counts and the index lag.
struct Figures {
    pending: i64,
    dead: i64,
    lag: Option<i64>,
}

/// The outbox counts and the index lag, within [`PROBE_DEADLINE`]; or what the database
/// did instead (`unreachable`, `no answer within … ms`).
async fn read_figures(state: &AppState) -> Result<Figures, String> {
    let index = crate::search::opened(state);
    let query = state.db.run(move |conn| {
        let position = index.and_then(|i| i.position());
        let counts = crate::notify::outbox::counts(conn)?;
        // A lag that cannot be read is the indexer's trouble (reported by readiness), not
        // the database's.
        let lag = position.and_then(|p| crate::search::lag(conn, p).ok());
        Ok(Figures {
            pending: counts.pending,
            dead: counts.dead,
            lag,
        })
    });
    match tokio::time::timeout(PROBE_DEADLINE, query).await {
        Ok(Ok(f)) => Ok(f),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "probe: database check failed");
            Err("unreachable".to_owned())
        }
        Err(_) => {
            tracing::warn!("probe: the database did not answer in time");
            Err(format!(
                "no answer within {} ms",
                PROBE_DEADLINE.as_millis()
            ))
        }
    }
}

/// Prometheus metrics in the text format (`server.metrics`; otherwise there is no such
/// route). The outbox and index figures are read now, within the probe's deadline.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.settings.server.metrics {
        return Err(ApiError::from_status(
            actix_web::http::StatusCode::NOT_FOUND,
        ));
    }
    if let Ok(f) = read_figures(&state).await {
        state.metrics.backlog(Some(f.pending), Some(f.dead), f.lag);
    }
    let text = state.metrics.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

/// What keeps the index from serving current results, if anything: a dead or failing
/// indexer (with its reason), or a rebuild still catching up.
fn index_state(state: &AppState) -> Option<String> {
    let index = crate::search::opened(state)?;
    if let Some(fault) = index.indexer_fault() {
        return Some(fault);
    }
    (!index.is_ready()).then(|| "catching up".to_owned())
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        checks: None,
    })
}

/// The process can serve: the database answers, the index folder is writable and the
/// indexer keeps the index in sync (`checks.search_index` says why not).
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "A dependency failed; `checks` says which", body = Health),
    ))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let (database, figures) = match read_figures(&state).await {
        Ok(f) => ("ok".to_owned(), Some(f)),
        Err(why) => (why, None),
    };
    let lag = figures.as_ref().and_then(|f| f.lag);
    let dir = state.settings.search.index_dir.clone();
    let search_index = match tokio::task::spawn_blocking(move || probe_writable(&dir)).await {
        Ok(Ok(())) => index_state(&state).unwrap_or_else(|| match lag {
            Some(n) if n > state.settings.search.ready_max_lag => format!("{n} changes behind"),
            _ => "ok".to_owned(),
        }),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: index folder not writable");
            "not writable".to_owned()
        }
        Err(e) => format!("check failed: {e}"),
    };
    let ready = database == "ok" && search_index == "ok";
    let body = Health {
        status: if ready { "ready" } else { "not_ready" },
        checks: Some(Checks {
            database,
            search_index,
            index_lag: lag,
            outbox_pending: figures.as_ref().map(|f| f.pending),
            outbox_dead: figures.as_ref().map(|f| f.dead),
        }),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        // Marked as a problem document so the error renderer leaves the details in place.
        HttpResponse::ServiceUnavailable()
            .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
            .body(serde_json::to_string(&body).unwrap_or_default())
    }
}

fn probe_writable(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".ready-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&probe, b"ok")?;
    std::fs::remove_file(&probe)
}

/// The probes, mounted at the root (outside `/api/v1`).
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/health/live", live),
        ApiRoute::get("/health/ready", ready),
        ApiRoute::get("/metrics", metrics),
    ]
}
