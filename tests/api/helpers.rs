//! `TestApp`: the real server on port 0, a fresh database per test (a temporary SQLite file,
//! or a new PostgreSQL database when `TEST_DATABASE_URL` names a server, dropped after the
//! test), spoken to over HTTP.

#![allow(dead_code)]

use std::sync::Arc;

use diesel::{Connection, RunQueryDsl};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

use techex::accounts::model::Role;
use techex::app::{AppState, Application};
use techex::config::{Secret, Settings};

pub const PASSWORD: &str = "hoa-sen-nở-giữa-hồ-42";

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: Client,
    pub state: AppState,
    pub dir: TempDir,
    pub settings: Settings,
    server: actix_web::dev::ServerHandle,
    /// Shared with the app a restart makes, so the database outlives the first one.
    database: Arc<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = techex::search::opened(&self.state) {
            s.shutdown();
        }
    }
}

/// `TEST_DATABASE_URL` when set: a PostgreSQL server to create databases on.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// A database of its own for one test: `techex.db` in the test's folder, or a new database
/// on the `TEST_DATABASE_URL` server, dropped when this is (also when the test panics).
pub struct TestDatabase {
    pub url: String,
    /// The server to drop it on, and its name.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub fn fresh(dir: &std::path::Path) -> Self {
        Self::postgres().unwrap_or_else(|| Self {
            url: dir.join("techex.db").to_string_lossy().into_owned(),
            postgres: None,
        })
    }

    /// A new PostgreSQL database when `TEST_DATABASE_URL` is set (also for the tests of the
    /// binary, which otherwise use its default SQLite file).
    pub fn postgres() -> Option<Self> {
        let admin = postgres_admin_url()?;
        let name = format!("techex_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(&admin)
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: cannot connect: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create the test database");
        let mut url = url::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Some(Self {
            url: url.to_string(),
            postgres: Some((admin, name)),
        })
    }

    /// Whether the database is still there: for a test of this type.
    pub fn exists(url: &str) -> bool {
        match postgres_admin_url() {
            Some(admin) => {
                #[derive(diesel::QueryableByName)]
                struct Found {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                let name = url::Url::parse(url).expect("a URL").path()[1..].to_owned();
                let mut conn = diesel::PgConnection::establish(&admin).expect("connect");
                diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
                    .bind::<diesel::sql_types::Text, _>(name)
                    .get_result::<Found>(&mut conn)
                    .expect("pg_database")
                    .n
                    > 0
            }
            None => std::path::Path::new(url).exists(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = &self.postgres else {
            return;
        };
        // FORCE (PostgreSQL 13+) ends the sessions the server's pool still holds, without
        // waiting for the server to stop.
        let dropped = diesel::PgConnection::establish(admin)
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            // Panicking again while a failed test unwinds would abort the run.
            if std::thread::panicking() {
                eprintln!("cannot drop the test database {name}: {e}");
            } else {
                panic!("cannot drop the test database {name}: {e}");
            }
        }
    }
}

/// Settings for a test: port 0, its own folders and `database`, cheap Argon2.
pub fn test_settings(dir: &std::path::Path, database: &TestDatabase) -> Settings {
    let mut s = Settings::defaults().expect("defaults parse");
    s.server.port = 0;
    s.server.workers = 1;
    s.database.url = Secret::new(database.url.clone());
    s.database.auto_migrate = true;
    s.database.pool_size = 4;
    s.search.index_dir = dir.join("search-index");
    s.email.file_dir = dir.join("mail");
    s.auth.argon2.memory_kib = 1024;
    s.auth.argon2.iterations = 1;
    s
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = Arc::new(TestDatabase::fresh(dir.path()));
        let mut settings = test_settings(dir.path(), &database);
        adjust(&mut settings);
        Self::start(settings, dir, database)
    }

    fn start(settings: Settings, dir: TempDir, database: Arc<TestDatabase>) -> Self {
        let app = Application::build(settings.clone()).expect("application builds");
        let base = format!("http://{}", app.addr());
        let state = app.state().clone();
        let server = app.handle();
        tokio::spawn(app.run());
        Self {
            base,
            client: Client::new(),
            state,
            dir,
            settings,
            server,
            database,
        }
    }

    /// Stops this server and its indexer (as a crash or a deploy would), then starts a new
    /// one on the same database and index folder, adjusted by `adjust`.
    pub async fn restart(mut self, adjust: impl FnOnce(&mut Settings)) -> Self {
        self.server.stop(false).await;
        if let Some(s) = techex::search::opened(&self.state) {
            // Stops the indexer and releases the index folder's writer lock.
            s.shutdown();
        }
        self.state.search = None;
        let dir = tempfile::tempdir().expect("temp dir");
        let dir = std::mem::replace(&mut self.dir, dir);
        let mut settings = self.settings.clone();
        adjust(&mut settings);
        Self::start(settings, dir, Arc::clone(&self.database))
    }

    /// Runs the indexer until it has nothing left to apply.
    pub async fn sync_search(&self) {
        let index = techex::search::opened(&self.state).expect("search index open");
        tokio::task::spawn_blocking(move || while index.sync_once().expect("indexer pass") > 0 {})
            .await
            .expect("indexer task");
    }

    /// A server with the demo data set loaded and indexed.
    pub async fn spawn_demo() -> Self {
        let app = Self::spawn().await;
        techex::demo::load_if_empty(&app.state)
            .await
            .expect("demo data loads");
        app.sync_search().await;
        app
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.expect("request sent")
    }

    /// A GET asking for a language with `Accept-Language`.
    pub async fn get_in(&self, path: &str, token: Option<&str>, language: &str) -> Response {
        let mut req = self
            .client
            .get(format!("{}{}", self.base, path))
            .header("accept-language", language);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token, None).await
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Response {
        self.post(
            "/api/v1/auth/register",
            None,
            &json!({"email": email, "password": password, "display_name": name}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers, confirms the address and signs in; answers the token.
    pub async fn signed_in(&self, email: &str) -> String {
        let r = self.register(email, PASSWORD, "Người Dùng Thử").await;
        assert_eq!(
            r.status(),
            StatusCode::ACCEPTED,
            "{}",
            r.text().await.unwrap_or_default()
        );
        self.confirm_email(email).await;
        self.token(email, PASSWORD).await
    }

    /// Marks the account's address confirmed, as following the emailed link does (the
    /// email tests follow the link itself).
    pub async fn confirm_email(&self, email: &str) {
        let email = email.trim().to_lowercase();
        self.state
            .db
            .run(move |conn| {
                let user = techex::accounts::repo::find_by_email(conn, &email)?
                    .expect("the account exists");
                techex::accounts::repo::mark_verified(conn, user.id, techex::db::now())?;
                Ok(())
            })
            .await
            .unwrap();
    }

    pub async fn token(&self, email: &str, password: &str) -> String {
        let r = self.login(email, password).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    /// An account with a platform role, made as `techex admin create` makes it.
    pub async fn privileged(&self, email: &str, role: Role) -> String {
        techex::accounts::service::create_privileged(&self.state, email, PASSWORD, role, None)
            .await
            .expect("privileged account");
        self.token(email, PASSWORD).await
    }

    /// Creates an organisation as `token`'s owner; answers its id.
    /// Makes the account of `email` (signed in as `member`) a member of `org` with `role`:
    /// an administrator (`admin`) invites the address, the person accepts.
    pub async fn join(&self, admin: &str, org: i64, email: &str, member: &str, role: &str) {
        let r = self
            .post(
                &format!("/api/v1/organizations/{org}/invitations"),
                Some(admin),
                &json!({"email": email, "role": role}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let invitation: Value = r.json().await.expect("json");
        let id = invitation["id"].as_i64().expect("id");
        let r = self
            .post(
                &format!("/api/v1/me/invitations/{id}/accept"),
                Some(member),
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    pub async fn organization(&self, token: &str, name: &str, org_type: &str) -> i64 {
        let r = self
            .post(
                "/api/v1/organizations",
                Some(token),
                &json!({"name": name, "org_type": org_type, "district": "Cầu Giấy",
                        "email": "lienhe@example.vn"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.expect("json");
        v["id"].as_i64().expect("id")
    }
}

/// Asserts a problem document with this status and code; answers it.
pub async fn problem(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        ct.starts_with("application/problem+json"),
        "content-type {ct}"
    );
    let v: Value = r.json().await.expect("problem json");
    assert_eq!(v["status"], status);
    assert_eq!(v["code"], code, "problem: {v}");
    assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()));
    v
}

/// The fields a validation problem names.
pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts that there are items and that every one satisfies `ok`, showing the first that
/// does not: "every item …" over an empty list would prove nothing.
pub fn assert_every<T: std::fmt::Debug>(items: &[T], what: &str, ok: impl Fn(&T) -> bool) {
    assert!(!items.is_empty(), "no items to check: {what}");
    if let Some(bad) = items.iter().find(|i| !ok(i)) {
        panic!("not every item {what}: {bad:?}");
    }
}

/// The `items` of a list answer.
pub fn items_of(v: &Value) -> &[Value] {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items array: {v}"))
}
