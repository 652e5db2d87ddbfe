//! The two backends' migration lists match, and every migration runs up → down → up.

use std::path::Path;

use diesel::backend::Backend;
use diesel::Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use techex::db::{DbTarget, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

use crate::helpers::{TestApp, TestDatabase};

fn migration_names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| {
            for file in ["up.sql", "down.sql"] {
                assert!(
                    e.path().join(file).is_file(),
                    "{} lacks {file}",
                    e.path().display()
                );
            }
            e.file_name().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn sqlite_and_postgres_migration_lists_match() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "every migration exists for both backends under the same name"
    );
}

/// Each migration: up, down, up again; then everything down and up once more.
fn up_down_up<DB: Backend>(
    conn: &mut impl MigrationHarness<DB>,
    source: impl Fn() -> EmbeddedMigrations,
    count: usize,
) {
    let mut applied = 0;
    while conn.has_pending_migration(source()).unwrap() {
        let v = conn.run_next_migration(source()).unwrap().to_string();
        let reverted = conn.revert_last_migration(source()).unwrap().to_string();
        assert_eq!(v, reverted);
        conn.run_next_migration(source()).unwrap();
        applied += 1;
    }
    assert_eq!(applied, count);
    assert_eq!(conn.applied_migrations().unwrap().len(), count);
    conn.revert_all_migrations(source()).unwrap();
    assert!(conn.applied_migrations().unwrap().is_empty());
    conn.run_pending_migrations(source()).unwrap();
    assert_eq!(conn.applied_migrations().unwrap().len(), count);
}

#[test]
fn every_migration_runs_up_down_up() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::fresh(dir.path());
    match DbTarget::parse(&database.url).unwrap() {
        DbTarget::Sqlite(path) => {
            let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
            up_down_up(
                &mut conn,
                || SQLITE_MIGRATIONS,
                migration_names("sqlite").len(),
            );
        }
        DbTarget::Postgres(url) => {
            let mut conn = diesel::PgConnection::establish(&url).unwrap();
            up_down_up(
                &mut conn,
                || POSTGRES_MIGRATIONS,
                migration_names("postgres").len(),
            );
        }
    }
}

/// A test's database, made for it on PostgreSQL, is gone once its app is dropped, and not
/// before: a restarted app keeps it.
#[tokio::test]
async fn each_test_database_is_removed_with_its_app() {
    let app = TestApp::spawn().await;
    app.signed_in("tam@example.vn").await;
    let url = app.settings.database.url.expose().to_owned();
    let app = app.restart(|_| {}).await;
    assert!(TestDatabase::exists(&url), "{url} is gone after a restart");
    app.token("tam@example.vn", crate::helpers::PASSWORD).await;
    drop(app);
    assert!(!TestDatabase::exists(&url), "{url} outlived its test");
}
