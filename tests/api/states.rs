//! Closed vocabularies read back from the database: a stored value the code does not know
//! (left by an older or newer release, or a hand edit) is a fault that surfaces, as a 500
//! with its request id and the cause in the log, never a silent default.

use diesel::connection::SimpleConnection;
use serde_json::Value;
use techex::db::DbConn;
use techex::http::error::ApiError;

use crate::catalog::technology;
use crate::helpers::{problem, TestApp};

/// Writes `value` into `table.column` where `key = id`, behind the application's back and
/// past the CHECK constraint that guards the column, if any.
async fn store_raw(app: &TestApp, table: &str, column: &str, key: &str, id: i64, value: &str) {
    let update = format!("UPDATE {table} SET {column} = '{value}' WHERE {key} = {id}");
    let check = format!("{table}_{column}_check");
    let table = table.to_owned();
    app.state
        .db
        .run(move |conn| {
            match conn {
                DbConn::Sqlite(c) => c.batch_execute(&format!(
                    "PRAGMA ignore_check_constraints = ON; {update}; \
                     PRAGMA ignore_check_constraints = OFF;"
                ))?,
                DbConn::Postgres(c) => c.batch_execute(&format!(
                    "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}; {update};"
                ))?,
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// The response is the opaque 500 problem, with the request id to quote, and tells the
/// client nothing of the value.
async fn internal_error(r: reqwest::Response, hidden: &str) {
    let request_id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    assert_eq!(request_id.len(), 32, "a request id is sent back");
    let p = problem(r, 500, "internal_error").await;
    assert!(
        !p.to_string().contains(hidden),
        "the cause is logged, not shown: {p}"
    );
    if let Some(id) = p.get("request_id") {
        assert_eq!(id, &Value::String(request_id));
    }
}

async fn create_technology(app: &TestApp, token: &str) -> i64 {
    let r = app
        .post("/api/v1/technologies", Some(token), &technology())
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_unknown_stored_value_is_an_error_not_a_default() {
    let app = TestApp::spawn().await;
    let token = app.signed_in("chuyengiao@iet.example.vn").await;
    let org = app
        .organization(&token, "Viện Công nghệ Môi trường", "institute")
        .await;

    // A listing state (it used to read as `draft`).
    let id = create_technology(&app, &token).await;
    let path = format!("/api/v1/technologies/{id}");
    assert_eq!(app.get(&path, Some(&token)).await.status(), 200);
    store_raw(&app, "listings", "status", "id", id, "frozen").await;
    internal_error(app.get(&path, Some(&token)).await, "frozen").await;
    // What the log carries: the type and the value.
    let e = app
        .state
        .db
        .run(move |conn| Ok(techex::catalog::repo::find(conn, id)?))
        .await
        .unwrap_err();
    let ApiError::Internal(cause) = e else {
        panic!("expected an internal error, got {e:?}")
    };
    let cause = techex::http::error::chain(cause.as_ref());
    assert!(
        cause.contains("unknown Status `frozen`") && cause.contains("pending_review"),
        "{cause}"
    );

    // A list column that is not a JSON array (it used to read as an empty list).
    let other = create_technology(&app, &token).await;
    let other_path = format!("/api/v1/technologies/{other}");
    store_raw(&app, "listings", "keywords", "id", other, "ozone, MBR").await;
    internal_error(app.get(&other_path, Some(&token)).await, "ozone").await;

    // A member role (it used to read as `member`).
    let members = format!("/api/v1/organizations/{org}/members");
    let r = app.get(&members, Some(&token)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()[0]["role"], "admin");
    store_raw(
        &app,
        "organization_members",
        "role",
        "organization_id",
        org,
        "owner",
    )
    .await;
    internal_error(app.get(&members, Some(&token)).await, "owner").await;

    // A platform locale: every request of the account fails rather than guess a language.
    let user = app
        .state
        .db
        .run(|conn| {
            Ok(
                techex::accounts::repo::find_by_email(conn, "chuyengiao@iet.example.vn")?
                    .map(|u| u.id),
            )
        })
        .await
        .unwrap()
        .unwrap();
    store_raw(&app, "users", "locale", "id", user, "klingon").await;
    internal_error(app.get("/api/v1/me", Some(&token)).await, "klingon").await;
}
