//! Email delivery through the outbox to a real SMTP server on 127.0.0.1: account mail end
//! to end, an SMTP server that is down and comes back, messages that keep failing, and
//! notification preferences.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use techex::notify::outbox::{self, Counts, OutboxRow, OutboxStatus};

use crate::helpers::{assert_every, fields, problem, TestApp, PASSWORD};
use crate::sink::{smtp_to, Sink};

async fn counts(app: &TestApp) -> Counts {
    app.state
        .db
        .run(|conn| Ok(outbox::counts(conn)?))
        .await
        .unwrap()
}

async fn rows(app: &TestApp, status: OutboxStatus) -> Vec<OutboxRow> {
    app.state
        .db
        .run(move |conn| Ok(outbox::list(conn, status, 100)?))
        .await
        .unwrap()
}

/// Runs the worker's delivery step here, pass after pass, until the outbox satisfies
/// `done` (with a deadline). The tests that use it turn the background worker off and
/// shorten the retry delay to 1 ms, so each pass retries what failed before.
async fn drive(app: &TestApp, what: &str, done: impl Fn(&Counts, &[OutboxRow]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        techex::notify::worker::deliver_batch(
            &app.state.db,
            &app.state.settings,
            &app.state.mailer,
        )
        .await
        .unwrap();
        let c = counts(app).await;
        let pending = rows(app, OutboxStatus::Pending).await;
        if done(&c, &pending) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "outbox never reached: {what}; {c:?}"
        );
    }
}

/// Delivers everything queued so far.
async fn drain(app: &TestApp) {
    drive(app, "queue drained", |c, _| c.pending == 0).await;
}

/// SMTP to `port`, no background worker (the test drives delivery), retries at once.
fn driven(s: &mut techex::config::Settings, port: u16) {
    smtp_to(s, port);
    s.worker.enabled = false;
    s.email.outbox.backoff_base_ms = 1;
    s.email.outbox.backoff_max_ms = 1;
}

async fn register(app: &TestApp, email: &str, locale: &str) {
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": email, "password": PASSWORD, "display_name": "Nguyễn Thị Mai", "locale": locale}),
        )
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}

/// A free port outside the kernel's ephemeral range, so that no server started on port 0
/// meanwhile (another test's SMTP sink) can be given it while this one is down.
fn free_port() -> u16 {
    let seed = std::process::id() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64;
    (0..1000u64)
        .map(|i| 20_000 + ((seed.wrapping_mul(2_654_435_761) + i * 7_919) % 10_000) as u16)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port in 20000-29999")
}

#[tokio::test]
async fn verification_and_password_reset_work_end_to_end() {
    let sink = Sink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(|s| driven(s, port)).await;
    let email = "mai.nguyen@example.com";
    register(&app, email, "en").await;
    drain(&app).await;

    // Verification: an English email with a single-use link.
    let mail = sink.wait_subject(email, "confirm your email").await;
    assert!(mail
        .html
        .contains("https://techex.test/verify-email?token="));
    let token = mail
        .token("https://techex.test/verify-email")
        .expect("link");
    let login = app.token(email, PASSWORD).await;
    let me: Value = app
        .get("/api/v1/me", Some(&login))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], false);
    let r = app
        .post("/api/v1/auth/verify-email", None, &json!({"token": token}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["email_verified"], true);
    let r = app
        .post("/api/v1/auth/verify-email", None, &json!({"token": token}))
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        ["token"]
    );
    let r = app
        .post("/api/v1/me/verify-email", Some(&login), &json!({}))
        .await;
    problem(r, 409, "already_verified").await;
    // The delivered copy no longer carries the link.
    let sent = rows(&app, OutboxStatus::Sent).await;
    assert_every(&sent, "has no link left", |r| {
        !r.body_text.contains("token=")
    });

    // Reset: the same answer for an unknown address, and no email for it.
    let r = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            &json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let r = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            &json!({"email": "not an email"}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        ["email"]
    );
    let r = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            &json!({"email": email}),
        )
        .await;
    assert_eq!(r.status(), 202);
    drain(&app).await;
    let mail = sink.wait_subject(email, "Password reset").await;
    let token = mail
        .token("https://techex.test/reset-password")
        .expect("link");

    let confirm = |token: String, password: &str| json!({"token": token, "password": password});
    let r = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &confirm(token.clone(), "123"),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        ["password"]
    );
    let r = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &confirm("forged".into(), "mây-trắng-bay-về-núi-7"),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        ["token"]
    );
    let r = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &confirm(token.clone(), "mây-trắng-bay-về-núi-7"),
        )
        .await;
    assert_eq!(r.status(), 204);
    // Every old session is signed out; the new password works; the link works once.
    problem(
        app.get("/api/v1/me", Some(&login)).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(app.login(email, PASSWORD).await.status(), 401);
    app.token(email, "mây-trắng-bay-về-núi-7").await;
    let r = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &confirm(token, "mây-trắng-bay-về-núi-8"),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        ["token"]
    );
    drain(&app).await;
    sink.wait_subject(email, "password has been changed").await;
}

#[tokio::test]
async fn with_the_smtp_server_down_mail_waits_then_arrives_exactly_once() {
    let port = free_port();
    let app = TestApp::spawn_with(|s| driven(s, port)).await;
    let people = ["an@example.vn", "binh@example.vn", "chi@example.vn"];
    for p in people {
        register(&app, p, "vi").await;
    }
    // Delivery is tried and fails while nothing listens; nothing is lost.
    drive(&app, "three failed attempts", |c, pending| {
        c.pending == 3 && pending.iter().all(|r| r.attempts >= 1)
    })
    .await;
    let pending = rows(&app, OutboxStatus::Pending).await;
    assert_eq!(pending.len(), 3);
    assert_every(&pending, "records its error", |r| r.last_error.is_some());

    let sink = Sink::start_on(port);
    drive(&app, "all sent", |c, _| {
        c.sent == 3 && c.pending == 0 && c.dead == 0
    })
    .await;
    let all = sink.messages();
    assert_eq!(
        all.len(),
        3,
        "{:?}",
        all.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    for p in people {
        let got = sink.to(p);
        assert_eq!(got.len(), 1, "{p}");
        assert_eq!(got[0].language, "vi");
    }
    let mut ids: Vec<&str> = all.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3);
}

fn techex_cli(app: &TestApp, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_techex"))
        .current_dir(app.dir.path())
        .env_remove("TECHEX_ENV")
        .env("TECHEX__DATABASE__URL", app.settings.database.url.expose())
        .env("TECHEX__DATABASE__AUTO_MIGRATE", "true")
        .env("TECHEX__LOG__FILTER", "warn")
        .args(args)
        .output()
        .expect("techex runs");
    assert!(
        out.status.success(),
        "techex {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_message_that_keeps_failing_ends_dead_and_visible_in_techex_outbox() {
    let sink = Sink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(|s| {
        driven(s, port);
        s.email.outbox.max_attempts = 3;
    })
    .await;
    register(&app, "tempfail.lan@example.vn", "vi").await;
    register(&app, "reject.hung@example.vn", "vi").await;
    register(&app, "thu@example.vn", "vi").await;
    drive(&app, "two dead", |c, _| c.dead == 2 && c.pending == 0).await;
    sink.wait_for("thu@example.vn", 1).await;
    let dead = rows(&app, OutboxStatus::Dead).await;
    let tempfail = dead
        .iter()
        .find(|r| r.to_address.starts_with("tempfail"))
        .unwrap();
    let reject = dead
        .iter()
        .find(|r| r.to_address.starts_with("reject"))
        .unwrap();
    // A temporary failure is retried until max_attempts; a permanent one is not.
    assert_eq!(tempfail.attempts, 3);
    assert!(tempfail.last_error.as_deref().unwrap().contains("451"));
    assert_eq!(reject.attempts, 1);
    assert!(reject.last_error.as_deref().unwrap().contains("550"));

    let shown = techex_cli(&app, &["outbox"]);
    assert!(shown.contains("pending 0"), "{shown}");
    assert!(shown.contains("sent 1"), "{shown}");
    assert!(shown.contains("dead 2"), "{shown}");
    assert!(shown.contains("tempfail.lan@example.vn"), "{shown}");
    assert!(shown.contains("451"), "{shown}");

    // Retrying puts it back in the queue; it fails again and is dead again.
    let id = reject.id.to_string();
    let shown = techex_cli(&app, &["outbox", "--retry-dead", &id]);
    assert!(shown.contains("requeued 1"), "{shown}");
    drive(&app, "dead again", |c, _| c.dead == 2 && c.pending == 0).await;
    let again = rows(&app, OutboxStatus::Dead).await;
    assert_eq!(
        again.iter().find(|r| r.id == reject.id).unwrap().attempts,
        1
    );
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn notification_preferences_are_honoured_but_account_mail_always_goes() {
    let sink = Sink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(|s| smtp_to(s, port)).await;
    let token = app.signed_in("lan@example.vn").await;
    let r = app.get("/api/v1/me/notifications", Some(&token)).await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"deal_activity": true, "deal_messages": true, "match_proposals": true, "reminders": true})
    );
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/me/notifications",
            Some(&token),
            Some(&json!({"deal_messages": "no"})),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        ["deal_messages"]
    );
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/me/notifications",
            Some(&token),
            Some(&json!({"deal_activity": false, "reminders": false})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let saved: Value = app
        .get("/api/v1/me/notifications", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["deal_activity"], false);
    assert_eq!(saved["deal_messages"], true);
    assert_eq!(saved["reminders"], false);

    // Account mail still goes.
    let r = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            &json!({"email": "lan@example.vn"}),
        )
        .await;
    assert_eq!(r.status(), 202);
    sink.wait_subject("lan@example.vn", "đặt lại mật khẩu")
        .await;
}

#[tokio::test]
async fn concurrent_workers_claim_each_message_once_and_nothing_is_queued_twice() {
    let app = TestApp::spawn_with(|s| s.worker.enabled = false).await;
    let settings = app.settings.clone();
    let queued = app
        .state
        .db
        .run(move |conn| {
            let mut n = 0;
            // Each occurrence twice: the dedup key keeps one.
            for _ in 0..2 {
                for i in 0..60 {
                    n += outbox::queue(
                        conn,
                        &settings,
                        &outbox::Notice {
                            event: techex::notify::Event::PasswordChanged,
                            key: &format!("test:{i}"),
                            path: "/",
                        },
                        &[outbox::Recipient {
                            user_id: None,
                            email: format!("u{i}@example.vn"),
                            name: String::new(),
                            locale: techex::accounts::model::Locale::Vi,
                        }],
                        |_| json!({}),
                    )?;
                }
            }
            Ok(n)
        })
        .await
        .unwrap();
    assert_eq!(queued, 60);

    // Four workers claim at once, in small batches, until nothing is left.
    let mut workers = Vec::new();
    for _ in 0..4 {
        let db = app.state.db.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = db
                    .run(|conn| {
                        Ok(outbox::claim(
                            conn,
                            techex::db::now(),
                            chrono::Duration::seconds(60),
                            7,
                        )?)
                    })
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|r| r.id));
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let claimed = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(claimed, 60, "a message was claimed twice");
    assert_eq!(all.len(), 60);
}

/// An SMTP server that accepts the first connection and never says a word on it, and
/// passes every later connection on to the real server at `to`.
async fn stall_first_then_forward(to: u16) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut stalled = Vec::new();
        while let Ok((mut client, _)) = listener.accept().await {
            if stalled.is_empty() {
                stalled.push(client); // held open, silent, until the test ends
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_mail_server_that_stalls_fails_that_attempt_and_the_next_message_goes() {
    let sink = Sink::start();
    let port = stall_first_then_forward(sink.port).await;
    let app = TestApp::spawn_with(|s| {
        driven(s, port);
        // One message per pass; the per-step timeout alone would wait far longer.
        s.email.outbox.batch_size = 1;
        s.email.smtp.timeout_seconds = 600;
        s.email.smtp.message_deadline_seconds = 1;
    })
    .await;
    let people = ["an@example.vn", "binh@example.vn"];
    for p in people {
        register(&app, p, "vi").await;
    }
    // The first attempt meets the silent server: it ends at the deadline, counted as a
    // failure to retry, and the pass returns.
    let pass = techex::notify::worker::deliver_batch(
        &app.state.db,
        &app.state.settings,
        &app.state.mailer,
    );
    let claimed = tokio::time::timeout(Duration::from_secs(60), pass)
        .await
        .expect("a stalled server must not hold the delivery pass")
        .unwrap();
    assert_eq!(claimed, 1);
    let pending = rows(&app, OutboxStatus::Pending).await;
    assert_eq!(pending.len(), 2);
    let failed: Vec<&OutboxRow> = pending.iter().filter(|r| r.attempts == 1).collect();
    assert_eq!(failed.len(), 1, "{pending:?}");
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("did not finish within 1 s")),
        "{:?}",
        failed[0].last_error
    );
    assert!(failed[0].locked_until.is_none(), "the lease is released");
    // The next messages go through: each person gets theirs once.
    drive(&app, "both sent", |c, _| c.sent == 2 && c.pending == 0).await;
    for p in people {
        assert_eq!(sink.wait_for(p, 1).await.len(), 1, "{p}");
    }
}
