//! Request logging and the problem+json rendering of responses that actix produces itself.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{web, HttpMessage, ResponseError};
use tracing::Instrument;

use crate::db::DbUsage;
use crate::http::error::{ApiError, PROBLEM_JSON};
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// The id of the current request, also sent back as `X-Request-Id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(REQUEST_ID)?.to_str().ok()?;
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then(|| v.to_owned())
}

/// A path segment written as a number but not as an id is written (`+1`, `01`, or too
/// large for one): the segment made `0`, an id no row has, so the route answers its own
/// "not found" with its own code, exactly as for a missing id.
pub fn canonical_ids(path: &str) -> Option<String> {
    // A number that is not written as an id is.
    let miswritten = |seg: &str| {
        let digits = seg.strip_prefix('+').unwrap_or(seg);
        let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        numeric && seg != "0" && (seg.starts_with(['0', '+']) || seg.parse::<i64>().is_err())
    };
    // Every request passes here: nothing is allocated unless a segment must change.
    if !path.split('/').any(miswritten) {
        return None;
    }
    let segments: Vec<&str> = path
        .split('/')
        .map(|seg| if miswritten(seg) { "0" } else { seg })
        .collect();
    Some(segments.join("/"))
}

/// The longest request target (path and query) read, in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most request header fields read (actix-http's own limit is 96).
pub const MAX_HEADERS: usize = 64;

/// One log line per request: method, path, status, latency and request id; and a span
/// with the request id around the handling of the request.
pub async fn request_log(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    // Refused here, as problem documents, well below actix-http's own limits (whose
    // answers have no body).
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Err(ApiError::UriTooLong {
            limit: MAX_URI_BYTES,
        }
        .into());
    }
    if req.headers().len() > MAX_HEADERS {
        return Err(ApiError::HeadersTooLarge { limit: MAX_HEADERS }.into());
    }
    if let Some(path) = canonical_ids(req.path()) {
        let uri = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        if let Ok(uri) = uri.parse::<actix_web::http::Uri>() {
            req.head_mut().uri = uri.clone();
            req.match_info_mut().get_mut().update(&uri);
        }
    }
    let id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let method = req.method().to_string();
    let path = req.path().to_owned();
    req.extensions_mut().insert(RequestId(id.clone()));
    // Everything logged while the request is served (an internal error's cause among it)
    // carries its id, so a client quoting the id finds the lines.
    let span = tracing::info_span!("request", request_id = %id);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let timing = state
        .as_ref()
        .is_some_and(|s| s.settings.server.server_timing);
    // What a browser may do with the answer: authenticated answers and sign-in are never
    // stored; the explorer under /docs may run its own scripts, nothing else may run any.
    let private =
        req.headers().contains_key(header::AUTHORIZATION) || path.starts_with("/api/v1/auth/");
    let docs = path == "/docs" || path.starts_with("/docs/");
    let usage = Arc::new(DbUsage::default());
    let result = usage.clone().measure(next.call(req).instrument(span)).await;
    let latency_ms = (start.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    let (db_queries, db_ms) = (usage.queries(), (usage.millis() * 100.0).round() / 100.0);
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            if let Some(state) = state.as_ref().filter(|s| s.settings.server.metrics) {
                let route = res.request().match_pattern();
                let route = route.as_deref().unwrap_or("unmatched");
                // Only the methods the API knows, so made-up ones add no series.
                let known = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
                let label = if known.contains(&method.as_str()) {
                    method.as_str()
                } else {
                    "OTHER"
                };
                state
                    .metrics
                    .request(label, route, status, start.elapsed().as_secs_f64());
            }
            if let Ok(v) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(REQUEST_ID, v);
            }
            secure(res.headers_mut(), private, docs);
            if timing {
                let value = format!("db;desc=\"{db_queries} queries\";dur={db_ms}");
                if let Ok(v) = HeaderValue::from_str(&value) {
                    res.headers_mut().insert(SERVER_TIMING, v);
                }
            }
            if status >= 500 {
                tracing::error!(%method, %path, status, latency_ms, db_queries, db_ms, request_id = %id, "request");
            } else {
                tracing::info!(%method, %path, status, latency_ms, db_queries, db_ms, request_id = %id, "request");
            }
            Ok(res)
        }
        Err(e) => {
            let status = e.as_response_error().status_code().as_u16();
            tracing::error!(%method, %path, status, latency_ms, db_queries, db_ms, request_id = %id, error = %e, "request");
            Err(e)
        }
    }
}

/// The security headers every answer carries.
fn secure(h: &mut actix_web::http::header::HeaderMap, private: bool, docs: bool) {
    let csp = if docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
         script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    };
    let set =
        |h: &mut actix_web::http::header::HeaderMap, name: HeaderName, value: &'static str| {
            if !h.contains_key(&name) {
                h.insert(name, HeaderValue::from_static(value));
            }
        };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CONTENT_SECURITY_POLICY, csp);
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if private {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Turns any error response that is not already a problem document (unknown route, wrong
/// method, a framework extractor's plain-text error) into one, keeping its status and an
/// `Allow` header.
pub fn problemize<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut new = ApiError::from_status(status).error_response();
    *new.status_mut() = status;
    if let Some(allow) = allow {
        new.headers_mut().insert(header::ALLOW, allow);
    }
    let new: ServiceResponse<EitherBody<B, BoxBody>> =
        ServiceResponse::new(req, new).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(new))
}
