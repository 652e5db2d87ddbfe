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

/// Sends `head` and then `body` on a raw connection and reads the answer until the server
/// closes it.
async fn raw_exchange(app: &TestApp, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    // Bounded, so a server that never answers fails the test instead of hanging it.
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        conn.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers and closes the connection")
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_client_that_declares_more_body_than_it_sends_is_cut_off_with_408() {
    let app = TestApp::spawn_with(|s| {
        s.server.body_timeout_ms = 500;
        s.imports.body_timeout_ms = 500;
    })
    .await;
    let token = app
        .privileged(
            "kd@sokhcn.example.vn",
            techex::accounts::model::Role::Moderator,
        )
        .await;
    for (path, auth) in [
        ("/api/v1/auth/login", String::new()),
        (
            "/api/v1/imports",
            format!("Authorization: Bearer {token}\r\n"),
        ),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: 2000000\r\n\r\n"
        );
        let answer = raw_exchange(&app, &head, b"{\"email\":").await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(
            answer.contains("\"code\":\"request_timeout\""),
            "{path}: {answer}"
        );
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{path}: {answer}"
        );
    }
    // The server still serves everyone else.
    assert_eq!(app.get("/health/live", None).await.status(), 200);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let token = app.signed_in("lan@example.vn").await;
    let mut checked = 0;
    for (path, token) in [
        ("/health/live", None),
        ("/api/v1/technologies", None),
        ("/api/v1/search?q=nuoc", None),
        ("/api/v1/no-such-route", None),
        ("/api/v1/me", Some(token.as_str())),
        ("/api/v1/me", None),
        ("/api/v1/openapi.json", None),
        ("/docs/", None),
    ] {
        let r = app.get(path, token).await;
        let h = r.headers();
        for (name, want) in [
            ("x-content-type-options", Some("nosniff")),
            ("x-frame-options", Some("DENY")),
            ("referrer-policy", Some("no-referrer")),
            ("content-security-policy", None),
        ] {
            let got = h.get(name).map(|v| v.to_str().unwrap().to_owned());
            assert!(got.is_some(), "{path}: no {name}");
            if let Some(want) = want {
                assert_eq!(got.as_deref(), Some(want), "{path}: {name}");
            }
        }
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        if !path.starts_with("/docs") {
            assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        }
        if token.is_some() {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
        checked += 1;
    }
    assert_eq!(checked, 8);
    // The explorer loads, and asks no outside validator.
    assert_eq!(app.get("/docs/", None).await.status(), 200);
    let init = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        init.contains("\"validatorUrl\": \"none\"") || init.contains("\"validatorUrl\":\"none\""),
        "{init}"
    );
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"email": "lan@example.vn", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn ids_are_read_strictly_and_a_bad_one_is_just_not_found() {
    let app = TestApp::spawn().await;
    let missing = problem(
        app.get("/api/v1/technologies/987654", None).await,
        404,
        "listing_not_found",
    )
    .await;
    assert!(missing["detail"].as_str().is_some());
    for id in ["+1", "01", "007", "99999999999999999999", "0"] {
        let path = format!("/api/v1/technologies/{id}");
        problem(app.get(&path, None).await, 404, "listing_not_found").await;
    }
    let token = app.signed_in("an@example.vn").await;
    for path in ["/api/v1/deals/+3", "/api/v1/deals/18446744073709551616"] {
        problem(app.get(path, Some(&token)).await, 404, "deal_not_found").await;
    }
}

#[tokio::test]
async fn a_query_parameter_that_is_not_utf8_is_refused_by_name() {
    let app = TestApp::spawn().await;
    let p = problem(
        app.get("/api/v1/search?q=%FF%FE", None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(crate::helpers::fields(&p), ["q"]);
    // Percent-encoded UTF-8 is read as such.
    assert_eq!(
        app.get("/api/v1/search?q=n%C6%B0%E1%BB%9Bc", None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn control_characters_and_invisible_titles_are_refused_by_field() {
    let app = TestApp::spawn().await;
    let token = app.signed_in("vien@example.vn").await;
    app.organization(&token, "Viện Cơ khí", "institute").await;
    for (title, needle) in [
        ("Máy hàn\u{0}tự động", "U+0000"),
        ("\u{200B}\u{200B}\u{FEFF}", "visible"),
    ] {
        let mut body = crate::catalog::technology();
        body["title"] = serde_json::json!(title);
        let p = problem(
            app.post("/api/v1/technologies", Some(&token), &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(crate::helpers::fields(&p), ["title"], "{p}");
        assert!(p.to_string().contains(needle), "{p}");
    }
    let r = app
        .post(
            "/api/v1/technologies",
            Some(&token),
            &crate::catalog::technology(),
        )
        .await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn cross_origin_calls_only_from_the_configured_origins() {
    let preflight = |app: &TestApp, origin: &str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/technologies", app.base),
            )
            .header("origin", origin.to_owned())
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = "https://cong.example";
    let app = TestApp::spawn_with(|s| s.server.cors_origins = vec![allowed.to_owned()]).await;
    let r = preflight(&app, allowed).await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers()["access-control-allow-origin"], allowed);
    let r = app
        .client
        .get(format!("{}/api/v1/technologies", app.base))
        .header("origin", "https://other.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = app
        .client
        .get(format!("{}/api/v1/technologies", app.base))
        .header("origin", allowed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], allowed);
    // None configured (the default): no site is allowed.
    let plain = TestApp::spawn().await;
    let r = plain
        .client
        .get(format!("{}/api/v1/technologies", plain.base))
        .header("origin", allowed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn an_overlong_uri_and_too_many_headers_answer_problem_documents() {
    let app = TestApp::spawn().await;
    let long = format!("/api/v1/search?q={}", "a".repeat(9000));
    problem(app.get(&long, None).await, 414, "uri_too_long").await;
    // Just below the limit the request is read (and its parameter judged).
    let fits = format!("/api/v1/search?q={}", "a".repeat(8000));
    problem(app.get(&fits, None).await, 422, "validation_failed").await;

    let mut headers = reqwest::header::HeaderMap::new();
    for i in 0..70 {
        headers.insert(
            reqwest::header::HeaderName::from_bytes(format!("x-extra-{i}").as_bytes()).unwrap(),
            reqwest::header::HeaderValue::from_static("1"),
        );
    }
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/taxonomy/trl", app.base))
        .headers(headers)
        .send()
        .await
        .unwrap();
    problem(r, 431, "headers_too_large").await;
}
