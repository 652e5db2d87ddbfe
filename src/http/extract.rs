//! Request extractors: a JSON body and a query string that fail with our problem
//! documents naming the field, and the client address. (Who is calling: `accounts::extract`.)

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::error::{ApiError, FieldError};

/// Largest body read and discarded after a 413, so the client still receives the answer
/// instead of a reset connection; past it the connection is simply closed.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// The configured body limit, shared as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// How long a client may take to send a request body, shared as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

impl BodyTimeout {
    /// The request's allowance (30 s where none is configured).
    pub fn of(req: &HttpRequest) -> std::time::Duration {
        req.app_data::<web::Data<BodyTimeout>>()
            .map_or(std::time::Duration::from_secs(30), |t| t.0)
    }
}

/// The next chunk of a body, failing with 408 once `until` has passed: a client that
/// declares more than it sends, or sends it slowly, cannot hold a worker.
pub async fn next_chunk(
    payload: &mut Payload,
    until: tokio::time::Instant,
    allowed: std::time::Duration,
) -> Option<Result<web::Bytes, ApiError>> {
    match tokio::time::timeout_at(until, payload.next()).await {
        Ok(chunk) => chunk.map(|c| {
            c.map_err(|e| ApiError::BadRequest {
                code: "body_read_failed",
                detail: format!("the request body could not be read: {e}"),
            })
        }),
        Err(_) => Some(Err(ApiError::RequestTimeout {
            seconds: allowed.as_secs_f64(),
        })),
    }
}

/// A JSON request body. Unlike actix's `Json`, every failure is a problem document:
/// 413 over the limit, 415 for another media type, 400 for malformed JSON or invalid UTF-8,
/// 422 naming the field for JSON of the wrong shape.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<BodyLimit>>()
            .map(|l| l.0)
            .unwrap_or(1024 * 1024);
        let content_type_ok = match req.headers().get(header::CONTENT_TYPE) {
            None => true,
            Some(v) => v
                .to_str()
                .map(|s| {
                    let essence = s
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase();
                    essence == "application/json"
                        || (essence.starts_with("application/") && essence.ends_with("+json"))
                })
                .unwrap_or(false),
        };
        let declared: Option<usize> = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.parse().ok());
        let mut payload = payload.take();
        let allowed = BodyTimeout::of(req);
        Box::pin(async move {
            let until = tokio::time::Instant::now() + allowed;
            let mut body = web::BytesMut::new();
            let mut seen = 0usize;
            let mut too_large = declared.is_some_and(|n| n > limit);
            while let Some(chunk) = next_chunk(&mut payload, until, allowed).await {
                let chunk = chunk?;
                seen += chunk.len();
                if seen > limit {
                    too_large = true;
                }
                if too_large {
                    if seen > DRAIN_LIMIT {
                        break;
                    }
                    continue;
                }
                body.extend_from_slice(&chunk);
            }
            if too_large {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            if body.is_empty() {
                return Err(ApiError::BadRequest {
                    code: "empty_body",
                    detail: "a JSON body is required".into(),
                });
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

/// An optional JSON body: nothing, or `null`, means the defaults.
pub fn optional_json<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = bytes.trim_ascii();
    if text.is_empty() || text == b"null" {
        Ok(T::default())
    } else {
        parse_json(text)
    }
}

/// Parses a JSON object, telling malformed input (400) from input of the wrong shape (422).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde accepts an array for a struct; every body of this API is an object.
    if let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        if *first != b'{' && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
            return Err(ApiError::invalid("body", "must be a JSON object"));
        }
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest {
            code: "malformed_json",
            detail: format!("the request body is not valid JSON: {e}"),
        })?;
    integral_numbers(&mut value);
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let message = err.into_inner().to_string();
            let message = strip_position(&message);
            Err(ApiError::Validation(vec![shape_error(&path, message)]))
        }
    }
}

/// `3.0` is the integer 3, as JSON Schema counts it (and as JavaScript sends it): numbers
/// without a fraction, within range, become integers before the typed parse.
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                // The range test keeps the conversion exact.
                if f.fract() == 0.0 && (-9.2e18..=9.2e18).contains(&f) {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// serde's "missing field `x`" and "unknown field `x`" name the field in the message; the
/// path then points at the parent object.
fn shape_error(path: &str, message: &str) -> FieldError {
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let join = |name: String| {
        let last = path.rsplit('.').next().unwrap_or_default();
        if path == "." || path.is_empty() {
            name
        } else if last == name {
            // serde_path_to_error already descended into the unknown field.
            path.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = named("missing field `") {
        return FieldError::new(join(name), "is required");
    }
    if let Some(name) = named("unknown field `") {
        return FieldError::new(join(name), "is not a known field");
    }
    let field = if path == "." || path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    FieldError::new(field, message)
}

fn strip_position(message: &str) -> &str {
    match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// Query-string parameters. Unlike actix's `Query`, a bad value is a 422 naming the
/// parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

/// Percent-decodes one part of a query string (`+` is a space); `None` when the bytes are
/// not UTF-8.
fn decode_strict(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // A parameter that is not UTF-8 is refused by name, not read as U+FFFD (which would
    // make a search of nothing, and answer everything).
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(name) = decode_strict(name) else {
            return Err(ApiError::invalid(
                "query",
                "a parameter name is not valid UTF-8",
            ));
        };
        if decode_strict(value).is_none() {
            return Err(ApiError::invalid(
                name,
                "is not valid UTF-8 (percent-encode UTF-8 bytes)",
            ));
        }
    }
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let e = shape_error(&path, &message);
        let field = if e.field == "body" {
            "query".to_owned()
        } else {
            e.field
        };
        ApiError::invalid(field, e.message)
    })
}

/// The client's address: the socket peer; the first X-Forwarded-For hop when
/// `trust_forwarded_for` says every peer is a trusted proxy; or, for a request from one of
/// `trusted_proxies`, the last hop in X-Forwarded-For that is not itself one of them (hops
/// further left were written by the client and prove nothing).
pub fn client_addr(
    req: &HttpRequest,
    trust_forwarded_for: bool,
    trusted_proxies: &[String],
) -> String {
    if trust_forwarded_for {
        if let Some(ip) = req.connection_info().realip_remote_addr() {
            return ip.to_owned();
        }
    }
    let peer = req.peer_addr().map(|a| a.ip());
    let trusted = |ip: &std::net::IpAddr| {
        trusted_proxies
            .iter()
            .any(|t| t.trim().parse::<std::net::IpAddr>().ok() == Some(*ip))
    };
    if peer.as_ref().is_some_and(trusted) {
        let hops: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            match hop.parse::<std::net::IpAddr>() {
                Ok(ip) if trusted(&ip) => continue,
                Ok(ip) => return ip.to_string(),
                Err(_) => break,
            }
        }
    }
    peer.map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn field_of(e: ApiError) -> (u16, String) {
        let p = e.to_problem();
        (
            p.status,
            p.errors
                .first()
                .map(|f| f.field.clone())
                .unwrap_or_default(),
        )
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"email": 5}"#).unwrap_err();
        assert_eq!(field_of(e), (422, "email".into()));
        let e = parse_json::<Body>(br#"{}"#).unwrap_err();
        assert_eq!(field_of(e), (422, "email".into()));
        let e = parse_json::<Body>(br#"{"email":"a","emial":"b"}"#).unwrap_err();
        assert_eq!(field_of(e), (422, "emial".into()));
        let e = parse_json::<Body>(br#"{"email":"a","inner":{"count":-1}}"#).unwrap_err();
        assert_eq!(field_of(e), (422, "inner.count".into()));
        let e = parse_json::<Body>(br#"[1,2]"#).unwrap_err();
        assert_eq!(field_of(e), (422, "body".into()));
        let e = parse_json::<Body>(br#""text""#).unwrap_err();
        assert_eq!(field_of(e), (422, "body".into()));
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Query {
        limit: Option<i64>,
        verified: Option<bool>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let q: Query = parse_query("limit=5&verified=true").unwrap();
        assert_eq!(q.limit, Some(5));
        let e = parse_query::<Query>("limit=abc").unwrap_err();
        assert_eq!(field_of(e), (422, "limit".into()));
        let e = parse_query::<Query>("verified=yes").unwrap_err();
        assert_eq!(field_of(e), (422, "verified".into()));
    }

    #[test]
    fn numbers_without_a_fraction_are_integers() {
        let b = parse_json::<Body>(br#"{"email":"a","inner":{"count":3.0}}"#).unwrap();
        assert_eq!(b.inner.map(|i| i.count), Some(3));
        let e = parse_json::<Body>(br#"{"email":"a","inner":{"count":3.5}}"#).unwrap_err();
        assert_eq!(field_of(e), (422, "inner.count".into()));
    }

    #[test]
    fn malformed_json_and_bad_utf8_are_400() {
        let e = parse_json::<Body>(br#"{"email": "#).unwrap_err();
        assert_eq!(e.to_problem().code, "malformed_json");
        let e = parse_json::<Body>(b"{\"email\": \"\xff\xfe\"}").unwrap_err();
        assert_eq!(e.to_problem().status, 400);
    }
}
