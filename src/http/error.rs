//! The one error type at the HTTP edge, rendered as `application/problem+json` (RFC 9457).
//! Every variant has its status and a stable machine `code`; unexpected failures answer an
//! opaque 500 and log their cause.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One offending input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request (`email`, `organization.website`, `items[2].title`).
    pub field: String,
    /// What is wrong with it, for a person.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, as every error response carries them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: `code` is the stable identifier to branch on.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The HTTP status phrase.
    pub title: String,
    pub status: u16,
    /// Stable machine-readable code, e.g. `validation_failed`, `email_taken`.
    pub code: String,
    /// Human explanation of this occurrence.
    pub detail: String,
    /// Offending fields, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before trying again, for 429 and some 503.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// For a refused state change: the state the resource is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
    /// For a refused state change: what may be done from the current state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
    /// For a stale update (412): the version now stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{detail}")]
    Unauthenticated { code: &'static str, detail: String },
    #[error("{0}")]
    Forbidden(String),
    /// Refused for a reason the caller can fix, with a code of its own.
    #[error("{detail}")]
    Refused { code: &'static str, detail: String },
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    #[error("{detail}")]
    MethodNotAllowed { detail: String },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A state change the current state does not allow.
    #[error("{detail}")]
    InvalidTransition {
        detail: String,
        current: String,
        allowed: Vec<String>,
    },
    /// The client edited an older version than the one stored.
    #[error("the resource changed since version {sent}: it is now at version {current}")]
    VersionMismatch { sent: i64, current: i64 },
    /// An update without the version it is based on.
    #[error("send the version you edited, as `If-Match: \"<version>\"` or a `version` field")]
    VersionRequired,
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The client took longer than allowed to send its body.
    #[error("the request body did not arrive within {seconds} s")]
    RequestTimeout { seconds: f64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A request target (path and query) longer than the server reads.
    #[error("the request URI is longer than {limit} bytes")]
    UriTooLong { limit: usize },
    /// More request header fields than the server reads.
    #[error("the request has more than {limit} header fields")]
    HeadersTooLarge { limit: usize },
    #[error("{detail}")]
    TooManyRequests {
        retry_after_secs: u64,
        detail: String,
    },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Our own failure: logged with its whole chain of causes, never shown.
    #[error("internal error: {}", chain(.0.as_ref()))]
    Internal(#[source] Cause),
}

/// What made an internal error: a message, or an error with its own chain of sources.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An internal error's description: what failed, and the error that made it fail.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct Context {
    what: String,
    #[source]
    source: Cause,
}

/// "a: b: c" for an error and its sources.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

impl ApiError {
    /// Our own failure, from a message or an error (whose sources are kept for the log).
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    /// Our own failure while doing `what`, caused by `source`.
    pub fn internal_because(what: impl Into<String>, source: impl Into<Cause>) -> Self {
        Self::Internal(Box::new(Context {
            what: what.into(),
            source: source.into(),
        }))
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound {
            code: "not_found",
            detail: format!("{what} not found"),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(detail.into())
    }

    pub fn unauthenticated() -> Self {
        Self::Unauthenticated {
            code: "unauthenticated",
            detail: "sign in first: send `Authorization: Bearer <token>`".into(),
        }
    }

    /// The error a bare status stands for, for responses produced outside our handlers
    /// (an unknown route, a wrong method).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::NotFound {
                code: "route_not_found",
                detail: "no such resource: check the path against /api/v1/openapi.json".into(),
            },
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed {
                detail: "this resource does not accept that HTTP method".into(),
            },
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge { limit: 0 },
            StatusCode::REQUEST_TIMEOUT => Self::RequestTimeout { seconds: 0.0 },
            s if s.is_server_error() => Self::internal(format!("status {s}")),
            s => Self::BadRequest {
                code: "bad_request",
                detail: s.canonical_reason().unwrap_or("bad request").to_lowercase(),
            },
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::BadRequest { code, .. }
            | Self::Unauthenticated { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. } => code,
            Self::Forbidden(_) => "forbidden",
            Self::Refused { code, .. } => code,
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::VersionMismatch { .. } => "version_mismatch",
            Self::VersionRequired => "version_required",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::RequestTimeout { .. } => "request_timeout",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::UriTooLong { .. } => "uri_too_long",
            Self::HeadersTooLarge { .. } => "headers_too_large",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("the request has invalid fields: {}", fields.join(", "))
            }
            Self::PayloadTooLarge { limit } if *limit > 0 => {
                format!("the request body is larger than the limit of {limit} bytes")
            }
            Self::PayloadTooLarge { .. } => "the request body is too large".into(),
            Self::RequestTimeout { seconds } if *seconds > 0.0 => {
                format!("the request did not arrive within {seconds} s: the connection is closed")
            }
            Self::RequestTimeout { .. } => "the request did not arrive in time".into(),
            // Never leak what failed inside.
            Self::Unavailable(_) => {
                "the service is temporarily unable to answer; try again shortly".into()
            }
            Self::Internal(_) => "an unexpected error occurred; it has been logged".into(),
            other => other.to_string(),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code: self.code().to_owned(),
            detail: self.detail(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
            retry_after: match self {
                Self::TooManyRequests {
                    retry_after_secs, ..
                } => Some(*retry_after_secs),
                _ => None,
            },
            current_status: match self {
                Self::InvalidTransition { current, .. } => Some(current.clone()),
                _ => None,
            },
            allowed_actions: match self {
                Self::InvalidTransition { allowed, .. } => Some(allowed.clone()),
                _ => None,
            },
            current_version: match self {
                Self::VersionMismatch { current, .. } => Some(*current),
                _ => None,
            },
        }
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Refused { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } | Self::InvalidTransition { .. } => StatusCode::CONFLICT,
            Self::VersionMismatch { .. } => StatusCode::PRECONDITION_FAILED,
            Self::VersionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => {
                let cause = chain(cause.as_ref());
                tracing::error!(%cause, "internal error")
            }
            Self::Unavailable(cause) => tracing::warn!(%cause, "service unavailable"),
            _ => {}
        }
        let problem = self.to_problem();
        let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            Self::TooManyRequests {
                retry_after_secs, ..
            } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unauthenticated { .. } => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // The rest of the body may still be on its way: the connection is not reused.
            Self::RequestTimeout { .. } => {
                res.force_close();
            }
            _ => {}
        }
        res.body(body)
    }
}

impl crate::db::Db {
    /// Runs blocking database work on the blocking thread pool, never on an async thread,
    /// for work that fails with the API's error (the common case: handlers and services).
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut crate::db::DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_as(work).await
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            // The message carries the cause (the pool's own words).
            crate::db::DbError::Unavailable(_) => ApiError::Unavailable(chain(&e)),
            crate::db::DbError::Task(_) => ApiError::internal(e),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::not_found("resource"),
            other => Self::internal_because("database", other),
        }
    }
}

/// Collects field errors so a client learns every problem of a request at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Keeps the value when valid, records the message under `field` otherwise.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// A required value: "is required" when absent, then `parse` on it.
    pub fn required<S, T>(
        &mut self,
        field: &str,
        value: Option<S>,
        parse: impl FnOnce(S) -> Result<T, String>,
    ) -> Option<T> {
        match value {
            Some(v) => self.check(field, parse(v)),
            None => {
                self.add(field, "is required");
                None
            }
        }
    }

    /// An optional value: `None` stays `None`, a present one must parse.
    pub fn optional<S, T>(
        &mut self,
        field: &str,
        value: Option<S>,
        parse: impl FnOnce(S) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match value {
            Some(v) => self.check(field, parse(v)).map(Some),
            None => Some(None),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_opaque() {
        let e = ApiError::internal("connection refused to 10.0.0.5 with password hunter2");
        let p = e.to_problem();
        assert_eq!(p.status, 500);
        assert_eq!(p.code, "internal_error");
        assert!(!p.detail.contains("hunter2"));
    }

    #[test]
    fn validation_lists_fields() {
        let mut v = Violations::new();
        v.add("email", "is not an email address");
        v.add("password", "is too short");
        let Err(e) = v.finish() else {
            panic!("expected an error")
        };
        let p = e.to_problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors.len(), 2);
        assert!(p.detail.contains("email, password"));
    }

    #[test]
    fn an_internal_error_keeps_its_chain_for_the_log_and_shows_none_of_it() {
        let disk = std::io::Error::other("disk full");
        let pool = std::io::Error::other(Context {
            what: "writing the outbox".into(),
            source: Box::new(disk),
        });
        let e = ApiError::internal_because("database", pool);
        let ApiError::Internal(cause) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            chain(cause.as_ref()),
            "database: writing the outbox: disk full"
        );
        let p = e.to_problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("disk"), "{}", p.detail);
    }
}
