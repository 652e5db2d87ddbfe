//! What bad input of any kind gets, and that the server keeps serving after it.

use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};

use crate::helpers::{fields, problem, TestApp};

#[tokio::test]
async fn a_ten_megabyte_body_is_refused_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    let body = vec![b'a'; 10 * 1024 * 1024];
    let r = app
        .client
        .post(format!("{}/api/v1/auth/register", app.base))
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let p = problem(r, 413, "payload_too_large").await;
    assert!(p["detail"].as_str().unwrap().contains("1048576"));
    assert_eq!(app.get("/health/live", None).await.status(), 200);
    // Also without a Content-Length (chunked).
    let stream =
        futures_util::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024])));
    let r = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header(CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    problem(r, 413, "payload_too_large").await;
    assert_eq!(app.get("/health/ready", None).await.status(), 200);
}

#[tokio::test]
async fn invalid_utf8_malformed_and_misshapen_json() {
    let app = TestApp::spawn().await;
    let send = |body: Vec<u8>, ct: &'static str| {
        app.client
            .post(format!("{}/api/v1/auth/register", app.base))
            .header(CONTENT_TYPE, ct)
            .body(body)
            .send()
    };
    let r = send(
        b"{\"email\":\"\xff\xfe@x.vn\",\"password\":\"x\"}".to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    problem(r, 400, "malformed_json").await;
    let r = send(b"{\"email\": ".to_vec(), "application/json")
        .await
        .unwrap();
    problem(r, 400, "malformed_json").await;
    let r = send(b"".to_vec(), "application/json").await.unwrap();
    problem(r, 400, "empty_body").await;
    let r = send(br#"{"email": 42}"#.to_vec(), "application/json")
        .await
        .unwrap();
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(fields(&p), vec!["email"]);
    let r = send(br#"[{"email": "a@b.vn"}]"#.to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["body"]
    );
    let r = send(br#"{"emial": "a@b.vn"}"#.to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["emial"]
    );
    let r = send(br#"{"email": "a@b.vn"}"#.to_vec(), "text/plain")
        .await
        .unwrap();
    problem(r, 415, "unsupported_media_type").await;
    // Still serving.
    assert_eq!(app.get("/health/live", None).await.status(), 200);
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods() {
    let app = TestApp::spawn().await;
    problem(
        app.get("/api/v1/nothing-here", None).await,
        404,
        "route_not_found",
    )
    .await;
    problem(app.get("/favicon.ico", None).await, 404, "route_not_found").await;
    let r = app.delete("/api/v1/auth/login", None).await;
    assert_eq!(r.headers()["allow"].to_str().unwrap(), "POST");
    problem(r, 405, "method_not_allowed").await;
    let r = app.get("/api/v1/auth/register", None).await;
    problem(r, 405, "method_not_allowed").await;
    // Where patterns overlap, the route registered first answers: the fixed segment before
    // the `{action}` that would also match it.
    let r = app.post("/api/v1/deals/1/timeline", None, &json!({})).await;
    assert_eq!(r.headers()["allow"].to_str().unwrap(), "GET");
    problem(r, 405, "method_not_allowed").await;
    let r = app.get("/api/v1/deals/1/withdraw", None).await;
    assert_eq!(r.headers()["allow"].to_str().unwrap(), "POST");
    problem(r, 405, "method_not_allowed").await;
    for kind in ["needs", "technologies", "experts"] {
        let r = app
            .get(&format!("/api/v1/{kind}/987654/matches"), None)
            .await;
        problem(r, 404, "listing_not_found").await;
    }
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(format!("{}/health/live", app.base))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-abc-123");
    let r = app.get("/health/live", None).await;
    assert_eq!(r.headers()["x-request-id"].to_str().unwrap().len(), 32);
    // An unsafe incoming id is replaced.
    let r = app
        .client
        .get(format!("{}/health/live", app.base))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn openapi_document_and_explorer() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // The document served is the one the unit tests in `techex::http` hold against the
    // route tables (every route documented, every documented route served).
    assert_eq!(
        doc,
        serde_json::to_value(<techex::app::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap()
    );
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/organizations",
        "/api/v1/organizations/{id}/verify",
        "/health/ready",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the document"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    let r = app.get("/docs/", None).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "the explorer page");
    // Its assets are served by us (works offline).
    let r = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "/docs redirects to the explorer");
}

#[tokio::test]
async fn every_paged_list_reads_limit_and_offset_the_same_way() {
    let app = TestApp::spawn().await;
    let token = app.signed_in("pager@example.vn").await;
    for path in [
        "/api/v1/technologies",
        "/api/v1/needs",
        "/api/v1/organizations",
        "/api/v1/deals",
        "/api/v1/matches",
    ] {
        // In range, at both ends: a page.
        let r = app
            .get(&format!("{path}?limit=100&offset=1000000"), Some(&token))
            .await;
        assert_eq!(r.status(), 200, "{path}");
        // Out of range, both fields named with the same words.
        let r = app
            .get(&format!("{path}?limit=0&offset=-1"), Some(&token))
            .await;
        let v = problem(r, 422, "validation_failed").await;
        let errors = v["errors"].as_array().unwrap();
        let message = |field: &str| {
            errors
                .iter()
                .find(|e| e["field"] == field)
                .and_then(|e| e["message"].as_str())
                .map(str::to_owned)
        };
        assert_eq!(
            message("limit").as_deref(),
            Some("must be between 1 and 100"),
            "{path}: {v}"
        );
        assert_eq!(
            message("offset").as_deref(),
            Some("must be between 0 and 1000000"),
            "{path}: {v}"
        );
        let r = app
            .get(&format!("{path}?limit=101&offset=1000001"), Some(&token))
            .await;
        let v = problem(r, 422, "validation_failed").await;
        assert_eq!(v["errors"].as_array().map(Vec::len), Some(2), "{path}: {v}");
    }
}
