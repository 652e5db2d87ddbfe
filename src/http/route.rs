//! Route tables: each domain lists its routes as values (method, path, handler), and
//! [`register`] turns a table into actix resources. Because the routes are data, a unit test
//! in [`crate::http`] can hold every table against the OpenAPI document.

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder, Route};

/// One route: a method and a path (relative to where its table is mounted) with its handler.
pub struct ApiRoute {
    method: Method,
    path: String,
    route: Route,
}

impl ApiRoute {
    /// The method is given once and used both to guard the route and to describe it, so the
    /// two cannot disagree.
    pub fn new<F, Args>(method: Method, path: impl Into<String>, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self {
            route: web::method(method.clone()).to(handler),
            method,
            path: path.into(),
        }
    }

    pub fn get<F, Args>(path: impl Into<String>, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self::new(Method::GET, path, handler)
    }

    pub fn post<F, Args>(path: impl Into<String>, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self::new(Method::POST, path, handler)
    }

    pub fn put<F, Args>(path: impl Into<String>, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self::new(Method::PUT, path, handler)
    }

    pub fn patch<F, Args>(path: impl Into<String>, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self::new(Method::PATCH, path, handler)
    }

    pub fn delete<F, Args>(path: impl Into<String>, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self::new(Method::DELETE, path, handler)
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The actix path pattern, e.g. `/deals/{id}/timeline`.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Registers a table: one `web::resource` per path, in the order each path first appears,
/// with its routes in table order.
///
/// actix tries resources in registration order and a resource whose path matches answers
/// 405 for a method it lacks rather than letting a later resource try, so the order of the
/// table is the order of matching (`/deals/{id}/timeline` before `/deals/{id}/{action}`).
/// Grouping by path keeps a route from hiding behind an earlier resource of the same path.
pub fn register(cfg: &mut web::ServiceConfig, routes: Vec<ApiRoute>) {
    let mut resources: Vec<(String, Vec<Route>)> = Vec::new();
    for r in routes {
        match resources.iter_mut().find(|(path, _)| *path == r.path) {
            Some((_, same_path)) => same_path.push(r.route),
            None => resources.push((r.path, vec![r.route])),
        }
    }
    for (path, routes) in resources {
        let resource = routes
            .into_iter()
            .fold(web::resource(path), |resource, route| resource.route(route));
        cfg.service(resource);
    }
}
