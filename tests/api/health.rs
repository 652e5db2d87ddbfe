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

/// A TCP relay between the server and PostgreSQL that can stall: while stalled it holds
/// every byte and accepts new connections without answering, as a database server that
/// hangs (or a network that drops everything) does.
struct StallingRelay {
    stalled: tokio::sync::watch::Sender<bool>,
}

impl StallingRelay {
    /// Relays a free local port to `upstream`; answers the relay and its port. It runs on
    /// a thread of its own: the server under test connects to its database while it is
    /// being built, before the test's own runtime gets to run anything.
    fn start(upstream: String) -> (Self, u16) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let (stalled, watch) = tokio::sync::watch::channel(false);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the relay");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                // Ends when the relay is dropped (its sender with it).
                let mut gone = watch.clone();
                loop {
                    let client = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((client, _)) => client,
                            Err(_) => return,
                        },
                        changed = gone.changed() => match changed {
                            Ok(()) => continue,
                            Err(_) => return,
                        },
                    };
                    let upstream = upstream.clone();
                    let watch = watch.clone();
                    tokio::spawn(async move {
                        let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                            return;
                        };
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        tokio::join!(Self::pipe(cr, sw, watch.clone()), Self::pipe(sr, cw, watch));
                    });
                }
            });
        });
        (Self { stalled }, port)
    }

    /// Copies `from` to `to`, holding the bytes while the relay is stalled.
    async fn pipe(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        mut stalled: tokio::sync::watch::Receiver<bool>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if stalled.wait_for(|s| !*s).await.is_err() {
                return;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    fn stall(&self, on: bool) {
        self.stalled.send_replace(on);
    }
}

/// Readiness answers 503 within a second when the database does not answer: on
/// PostgreSQL, a server that hangs (behind a relay that stops passing anything); on the
/// embedded SQLite, every pooled connection held elsewhere. It is ready again once the
/// database answers.
#[tokio::test]
async fn not_ready_within_a_second_when_the_database_does_not_answer() {
    let mut relay = None;
    let app = TestApp::spawn_with(|s| {
        let url = s.database.url.expose().to_owned();
        if url.starts_with("postgres") {
            let mut parsed = url::Url::parse(&url).expect("a URL");
            let upstream = format!(
                "{}:{}",
                parsed.host_str().expect("a host"),
                parsed.port().unwrap_or(5432)
            );
            let (r, port) = StallingRelay::start(upstream);
            parsed.set_port(Some(port)).expect("a port");
            s.database.url = techex::config::Secret::new(parsed.to_string());
            relay = Some(r);
        }
        s.database.pool_size = 2;
    })
    .await;
    ready_until(&app, 200).await;

    let held = match &relay {
        Some(r) => {
            r.stall(true);
            Vec::new()
        }
        None => {
            let db = app.state.db.clone();
            tokio::task::spawn_blocking(move || {
                (0..2)
                    .map(|_| db.conn().expect("a pooled connection"))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap()
        }
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(1))
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/health/ready", app.base))
        .send()
        .await
        .expect("an answer within a second");
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "not_ready");
    assert_ne!(v["checks"]["database"], "ok", "{v}");
    // Liveness does not depend on the database.
    let r = client
        .get(format!("{}/health/live", app.base))
        .send()
        .await
        .expect("an answer within a second");
    assert_eq!(r.status(), 200);

    // The database answers again: so does readiness.
    if let Some(r) = &relay {
        r.stall(false);
    }
    drop(held);
    ready_until(&app, 200).await;
}

#[tokio::test]
async fn metrics_only_when_switched_on() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/metrics", None).await.status(), 404);

    let app = TestApp::spawn_with(|s| s.server.metrics = true).await;
    ready_until(&app, 200).await;
    assert_eq!(
        app.get("/api/v1/search?q=n%C6%B0%E1%BB%9Bc", None)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/technologies/424242", None).await.status(),
        404
    );
    assert_eq!(app.get("/no/such/route", None).await.status(), 404);
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    for line in [
        r#"techex_http_requests_total{method="GET",route="/api/v1/search",status="200"} 1"#,
        r#"techex_http_requests_total{method="GET",route="/api/v1/technologies/{id}",status="404"} 1"#,
        r#"techex_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"techex_http_request_duration_seconds_count{method="GET",route="/api/v1/search"} 1"#,
        r#"techex_search_duration_seconds_count{operation="search"} 1"#,
        "techex_outbox_pending 0",
        "techex_outbox_dead 0",
        "techex_index_lag 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
}
