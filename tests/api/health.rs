use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn live_and_ready() {
    let app = TestApp::spawn().await;
    let r = app.get("/health/live", None).await;
    assert_eq!(r.status(), 200);
    let r = app.get("/health/ready", None).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ready");
    assert_eq!(v["checks"]["database"], "ok");
    assert_eq!(v["checks"]["search_index"], "ok");
}

#[tokio::test]
async fn not_ready_when_the_index_folder_is_not_writable() {
    let app = TestApp::spawn().await;
    // Replace the index folder by a plain file: nothing can be written below it.
    let index = app.state.settings.search.index_dir.clone();
    std::fs::remove_dir_all(&index).unwrap();
    std::fs::write(&index, b"not a folder").unwrap();
    let r = app.get("/health/ready", None).await;
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "not_ready");
    assert_eq!(v["checks"]["database"], "ok");
    assert_eq!(v["checks"]["search_index"], "not writable");
    // Liveness does not depend on it.
    assert_eq!(app.get("/health/live", None).await.status(), 200);
}

/// Asks for readiness until it answers `want` (the indexer works on its own thread; each
/// answer is a real request), failing after a generous deadline.
async fn ready_until(app: &TestApp, want: u16) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let r = app.get("/health/ready", None).await;
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        if status == want {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "readiness never answered {want}: {v}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn not_ready_while_the_indexer_cannot_keep_the_index_in_sync() {
    let app = TestApp::spawn().await;
    let sql = |statement: &'static str| {
        app.state.db.run(move |conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute(statement)?;
            Ok(())
        })
    };
    let index = techex::search::opened(&app.state).unwrap();
    // The change feed the indexer reads is gone: every pass fails.
    sql("ALTER TABLE listing_changes RENAME TO listing_changes_away")
        .await
        .unwrap();
    index.notify();
    let v = ready_until(&app, 503).await;
    assert_eq!(v["status"], "not_ready");
    assert_eq!(v["checks"]["database"], "ok");
    let reason = v["checks"]["search_index"].as_str().unwrap();
    assert!(reason.starts_with("indexer pass failed"), "{reason}");
    // Back again: the next pass succeeds and the process is ready.
    sql("ALTER TABLE listing_changes_away RENAME TO listing_changes")
        .await
        .unwrap();
    index.notify();
    let v = ready_until(&app, 200).await;
    assert_eq!(v["checks"]["search_index"], "ok");
}

#[tokio::test]
async fn readiness_reports_the_index_lag_and_the_outbox() {
    let app = TestApp::spawn().await;
    app.signed_in("thu@example.vn").await; // queues a verification email
    app.sync_search().await;
    let r = app.get("/health/ready", None).await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let checks = &v["checks"];
    assert_eq!(checks["index_lag"], 0, "{v}");
    assert!(checks["outbox_pending"].as_i64().is_some(), "{v}");
    assert_eq!(checks["outbox_dead"], 0, "{v}");
}
