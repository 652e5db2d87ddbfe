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
