//! Who is calling, from the request: the bearer token's account (`Caller`, `MaybeCaller`)
//! and the language asked for (`AcceptLanguage`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::model::{Caller, Locale};
use super::service;
use crate::http::error::ApiError;
use crate::state::AppState;

fn bearer(req: &HttpRequest) -> Option<Result<String, ApiError>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let parsed = value
        .to_str()
        .ok()
        .and_then(|s| {
            let (scheme, token) = s.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        })
        .ok_or(ApiError::Unauthenticated {
            code: "invalid_authorization",
            detail: "the Authorization header must be `Bearer <token>`".into(),
        });
    Some(parsed)
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = state(req);
        let req = req.clone();
        Box::pin(async move {
            let token = token.ok_or_else(ApiError::unauthenticated)??;
            let state = state?;
            let caller = service::authenticate(&state, token).await?;
            req.extensions_mut().insert(caller);
            Ok(caller)
        })
    }
}

/// The caller when a token is sent; `None` for anonymous visitors. A token that is sent
/// but invalid is still refused, so a client learns its session ended.
#[derive(Debug, Clone, Copy)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().get(header::AUTHORIZATION).is_none() {
            return Box::pin(async { Ok(MaybeCaller(None)) });
        }
        let fut = Caller::from_request(req, payload);
        Box::pin(async move { fut.await.map(|c| MaybeCaller(Some(c))) })
    }
}

/// The language the request asks for with `Accept-Language` (the first of `vi` and `en`
/// by preference; `vi-VN`, `en-GB` count), or `None` when it names neither.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptLanguage(pub Option<Locale>);

impl AcceptLanguage {
    /// The requested language, else the caller's account language, else Vietnamese.
    pub fn or_account(self, caller: Option<Caller>) -> Locale {
        self.0.or(caller.map(|c| c.locale)).unwrap_or(Locale::Vi)
    }
}

pub fn accept_language(value: &str) -> Option<Locale> {
    let mut best: Option<(f32, usize, Locale)> = None;
    for (i, part) in value.split(',').enumerate() {
        let mut bits = part.split(';');
        let tag = bits.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = bits
            .find_map(|b| b.trim().strip_prefix("q=").map(str::to_owned))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
            .unwrap_or(0.0);
        let primary = tag.split('-').next().unwrap_or_default();
        let Ok(locale) = Locale::parse(primary) else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(bq, _, _)| q > bq) {
            best = Some((q, i, locale));
        }
    }
    best.map(|b| b.2)
}

impl FromRequest for AcceptLanguage {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(accept_language);
        std::future::ready(Ok(AcceptLanguage(found)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(accept_language("en-GB,en;q=0.9"), Some(Locale::En));
        assert_eq!(accept_language("vi-VN,vi;q=0.9,en;q=0.8"), Some(Locale::Vi));
        assert_eq!(accept_language("fr, en;q=0.5, vi;q=0.7"), Some(Locale::Vi));
        assert_eq!(accept_language("de, fr;q=0.5"), None);
        assert_eq!(accept_language("en;q=0, vi;q=0.1"), Some(Locale::Vi));
        assert_eq!(accept_language(""), None);
    }
}
