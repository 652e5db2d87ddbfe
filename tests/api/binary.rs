//! The real `techex` binary, as an operator runs it: a fresh folder, configuration from the
//! environment, `admin create`, `migrate`, `serve`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{postgres_admin_url, TestDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_techex");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn techex(cwd: &Path, envs: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("TECHEX_ENV")
        .env("TECHEX__LOG__FORMAT", "json")
        .env("TECHEX__AUTH__ARGON2__MEMORY_KIB", "1024")
        .env("TECHEX__AUTH__ARGON2__ITERATIONS", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("techex runs")
}

/// Starts `techex serve` and waits (with a deadline) for its "listening" log line.
fn serve(cwd: &Path, envs: &[(&str, String)]) -> (Killed, String) {
    let mut cmd = techex(cwd, envs);
    cmd.arg("serve");
    serve_with(cmd)
}

fn serve_with(mut cmd: Command) -> (Killed, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["fields"]["message"] == "techex listening" {
                    let _ = tx.send(Ok(v["fields"]["address"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()));
                }
            } else {
                let _ = tx.send(Err(line));
            }
        }
    });
    let guard = Killed(child);
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(addr)) => return (guard, format!("http://{addr}")),
            Ok(Err(line)) => eprintln!("serve: {line}"),
            Err(e) => panic!("serve did not report listening: {e}"),
        }
    }
}

#[tokio::test]
async fn fresh_folder_admin_create_migrate_and_serve() {
    let cwd = tempfile::tempdir().unwrap();
    let mut envs = vec![("TECHEX__SERVER__PORT", "0".to_owned())];
    let database = TestDatabase::postgres();
    if let Some(db) = &database {
        envs.push(("TECHEX__DATABASE__URL", db.url.clone()));
        // Without auto-migration, serving an unmigrated PostgreSQL database is refused…
        let out = run(techex(cwd.path(), &envs).arg("serve"));
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("techex migrate"));
        // …and `techex migrate` applies the migrations, once.
        let out = run(techex(cwd.path(), &envs).arg("migrate"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("applied"));
        let out = run(techex(cwd.path(), &envs).arg("migrate"));
        assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    }

    let out = run(techex(cwd.path(), &envs).args([
        "admin",
        "create",
        "--email",
        "kiemduyet@sokhcn.example.vn",
        "--password",
        "kiểm-duyệt-viên-2026",
        "--role",
        "moderator",
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created with role moderator"));
    // A weak password is refused with the reason.
    let out = run(techex(cwd.path(), &envs).args([
        "admin",
        "create",
        "--email",
        "x@sokhcn.example.vn",
        "--password",
        "password123",
        "--role",
        "admin",
    ]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    let (_server, base) = serve(cwd.path(), &envs);
    if postgres_admin_url().is_none() {
        // The embedded defaults, relative to the working folder.
        assert!(cwd.path().join("data/techex.db").is_file());
        assert!(cwd.path().join("data/mail").is_dir());
    }
    assert!(cwd.path().join("search-index").is_dir());

    let client = reqwest::Client::new();
    let r = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "kiemduyet@sokhcn.example.vn", "password": "kiểm-duyệt-viên-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["user"]["role"], "moderator");
}

#[test]
fn configuration_and_connection_errors_are_clear_and_fast() {
    let cwd = tempfile::tempdir().unwrap();
    let out =
        run(techex(cwd.path(), &[("TECHEX__SERVER__PORT", "not-a-port".into())]).arg("serve"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("configuration error"));

    let started = std::time::Instant::now();
    let out = run(techex(
        cwd.path(),
        &[(
            "TECHEX__DATABASE__URL",
            "postgres://techex:hunter2secret@127.0.0.1:1/techex".into(),
        )],
    )
    .arg("migrate"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot connect"), "{stderr}");
    assert!(
        !stderr.contains("hunter2secret"),
        "the password leaked: {stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a bad URL must fail fast"
    );

    let out = run(techex(
        cwd.path(),
        &[("TECHEX__DATABASE__URL", "mysql://h/db".into())],
    )
    .arg("migrate"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported scheme"));
}

#[tokio::test]
async fn serve_demo_from_a_fresh_folder_shows_the_listings() {
    let cwd = tempfile::tempdir().unwrap();
    let mut envs = vec![("TECHEX__SERVER__PORT", "0".to_owned())];
    let database = TestDatabase::postgres();
    if let Some(db) = &database {
        envs.push(("TECHEX__DATABASE__URL", db.url.clone()));
        envs.push(("TECHEX__DATABASE__AUTO_MIGRATE", "true".to_owned()));
    }
    let mut cmd = techex(cwd.path(), &envs);
    cmd.arg("serve").arg("--demo");
    let (_server, base) = serve_with(cmd);
    // Ready only once the demo data is in: the first answer already lists it.
    let v: Value = reqwest::get(format!("{base}/api/v1/technologies"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["total"].as_i64().unwrap() >= 120, "{}", v["total"]);
}

#[test]
fn import_and_export_on_the_command_line() {
    let cwd = tempfile::tempdir().unwrap();
    let mut envs: Vec<(&str, String)> = Vec::new();
    let database = TestDatabase::postgres();
    if let Some(db) = &database {
        envs.push(("TECHEX__DATABASE__URL", db.url.clone()));
        envs.push(("TECHEX__DATABASE__AUTO_MIGRATE", "true".to_owned()));
    }
    let file = cwd.path().join("in.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"kind":"organization","external_id":"ORG-1","name":"Viện Dược liệu","org_type":"institute"}"#, "\n",
            r#"{"kind":"technology","external_id":"T-1","owner":"ORG-1","title":"Chiết xuất curcumin nano","description":"d","field":"303","trl":6}"#, "\n",
            r#"{"kind":"technology","external_id":"T-2","owner":"ORG-1","title":"Thiếu lĩnh vực","description":"d","trl":6}"#, "\n",
        ),
    )
    .unwrap();
    let out = run(techex(cwd.path(), &envs).arg("import").arg(&file));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("3 lines: 2 created, 0 updated, 0 unchanged, 1 rejected"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 3 (T-2): field: is required"),
        "{stdout}"
    );
    let out = run(techex(cwd.path(), &envs).arg("import").arg(&file));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("0 created, 0 updated, 2 unchanged, 1 rejected"));

    let exported = cwd.path().join("out.jsonl");
    let out = run(techex(cwd.path(), &envs)
        .args(["export", "--kind", "technology", "-o"])
        .arg(&exported));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("\"external_id\":\"T-1\"") && text.contains("\"owner\":\"ORG-1\""));
    let out = run(techex(cwd.path(), &envs)
        .arg("import")
        .arg(cwd.path().join("missing.jsonl")));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"));
}

#[tokio::test]
async fn two_servers_on_one_database_each_find_what_the_other_published() {
    let cwd = tempfile::tempdir().unwrap();
    let mut envs = vec![
        ("TECHEX__SERVER__PORT", "0".to_owned()),
        ("TECHEX__SEARCH__REFRESH_INTERVAL_MS", "100".to_owned()),
    ];
    let database = TestDatabase::postgres();
    if let Some(db) = &database {
        envs.push(("TECHEX__DATABASE__URL", db.url.clone()));
        envs.push(("TECHEX__DATABASE__AUTO_MIGRATE", "true".to_owned()));
    }
    let out = run(techex(cwd.path(), &envs).args([
        "admin",
        "create",
        "--email",
        "kd@sokhcn.example.vn",
        "--password",
        "kiểm-duyệt-viên-2026",
        "--role",
        "moderator",
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let with_index = |dir: &str| {
        let mut e = envs.clone();
        e.push((
            "TECHEX__SEARCH__INDEX_DIR",
            cwd.path().join(dir).to_string_lossy().into_owned(),
        ));
        e
    };
    let (_a, a) = serve(cwd.path(), &with_index("index-a"));
    let (_b, b) = serve(cwd.path(), &with_index("index-b"));
    let client = reqwest::Client::new();
    let post = |base: &str, path: &str, token: Option<&str>, body: Value| {
        let mut r = client.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let login = |base: String, email: &'static str, password: &'static str| {
        let client = client.clone();
        async move {
            let v: Value = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["token"].as_str().unwrap().to_owned()
        }
    };
    post(&a, "/api/v1/auth/register", None, json!({"email": "vien@example.vn", "password": "hoa-sen-nở-giữa-hồ-42", "display_name": "Viện"}))
        .await
        .unwrap();
    let owner = login(a.clone(), "vien@example.vn", "hoa-sen-nở-giữa-hồ-42").await;
    let moderator = login(a.clone(), "kd@sokhcn.example.vn", "kiểm-duyệt-viên-2026").await;
    post(
        &a,
        "/api/v1/organizations",
        Some(&owner),
        json!({"name": "Viện Năng lượng", "org_type": "institute"}),
    )
    .await
    .unwrap();
    let mut t = crate::catalog::technology();
    t["title"] = json!("Pin lưu trữ năng lượng natri-ion cho lưới điện mini");
    let created: Value = post(&a, "/api/v1/technologies", Some(&owner), t)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    post(
        &a,
        &format!("/api/v1/technologies/{id}/submit"),
        Some(&owner),
        json!({}),
    )
    .await
    .unwrap();
    let r = post(
        &a,
        &format!("/api/v1/technologies/{id}/publish"),
        Some(&moderator),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // Published through A, found through B (and A), each by its own indexer.
    for base in [&b, &a] {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let v: Value = client
                .get(format!("{base}/api/v1/search?q=pin+natri+ion"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["total"] == 1 {
                assert_eq!(v["items"][0]["id"], id);
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{base} never found it: {v}"
            );
            tokio::task::yield_now().await;
        }
    }
}

#[test]
fn reindex_rebuilds_from_the_database() {
    let cwd = tempfile::tempdir().unwrap();
    let mut envs: Vec<(&str, String)> = Vec::new();
    let database = TestDatabase::postgres();
    if let Some(db) = &database {
        envs.push(("TECHEX__DATABASE__URL", db.url.clone()));
        envs.push(("TECHEX__DATABASE__AUTO_MIGRATE", "true".to_owned()));
    }
    let file = cwd.path().join("in.jsonl");
    std::fs::write(&file, techex::demo::jsonl()).unwrap();
    assert!(run(techex(cwd.path(), &envs).arg("import").arg(&file))
        .status
        .success());
    let out = run(techex(cwd.path(), &envs).arg("reindex"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("indexed 281 published listings"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn operator_commands_refuse_a_database_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere").join("techex.db");
    let envs = [(
        "TECHEX__DATABASE__URL",
        missing.to_string_lossy().into_owned(),
    )];
    for args in [
        vec!["outbox"],
        vec!["export", "-o", "x.jsonl"],
        vec!["reindex"],
        vec!["worker"],
    ] {
        let out = run(techex(dir.path(), &envs).args(&args));
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("there is no database at") && err.contains("nowhere"),
            "{args:?}: {err}"
        );
    }
    assert!(!missing.exists(), "nothing was created");
    assert!(!dir.path().join("nowhere").exists());
}

/// A gate in front of an SMTP server: tells `accepted` when a connection arrives, then
/// holds it until `go` before passing it on to `to`.
fn smtp_gate(to: u16) -> (u16, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted_tx, accepted) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut first = true;
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            if first {
                first = false;
                let _ = accepted_tx.send(());
                let _ = go_rx.recv();
            }
            let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", to)) else {
                return;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut c2, &mut s2));
            std::thread::spawn(move || {
                let (mut s, mut c) = (server, client);
                std::io::copy(&mut s, &mut c)
            });
        }
    });
    (port, accepted, go)
}

#[tokio::test]
async fn sigterm_during_a_send_delivers_the_message_once_before_exiting() {
    let sink = crate::sink::Sink::start();
    let (port, accepted, go) = smtp_gate(sink.port);
    let cwd = tempfile::tempdir().unwrap();
    let envs = vec![
        ("TECHEX__SERVER__PORT", "0".to_owned()),
        (
            "TECHEX__DATABASE__URL",
            cwd.path().join("techex.db").to_string_lossy().into_owned(),
        ),
        ("TECHEX__EMAIL__TRANSPORT", "smtp".to_owned()),
        ("TECHEX__EMAIL__SMTP__HOST", "127.0.0.1".to_owned()),
        ("TECHEX__EMAIL__SMTP__PORT", port.to_string()),
    ];
    // `serve`, with every log message passed to `logs`.
    let mut child = techex(cwd.path(), &envs)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, logs) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let wait_for = |message: &str| loop {
        let v = logs
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("no log line `{message}`: {e}"));
        if v["fields"]["message"] == message {
            return v;
        }
    };
    let listening = wait_for("techex listening");
    let base = format!(
        "http://{}",
        listening["fields"]["address"].as_str().unwrap()
    );
    let mut server = Killed(child);
    let email = "sigterm@example.vn";
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"email": email, "password": "mây-trắng-bay-về-núi-7", "display_name": "Thử Tắt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // The worker is mid-send when the signal comes…
    accepted
        .recv_timeout(Duration::from_secs(60))
        .expect("the worker connects to the mail server");
    let pid = server.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    // …and the process stays to finish it.
    wait_for("worker stopping: finishing the messages in hand");
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "serve left with a message in hand"
    );
    go.send(()).unwrap();
    wait_for("email sent");
    wait_for("worker stopped");
    let mut child = std::mem::replace(&mut server.0, Command::new("true").spawn().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait()));
    let status = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
    // Delivered once, and recorded as sent before the process ended.
    assert_eq!(sink.wait_for(email, 1).await.len(), 1);
    let out = run(techex(cwd.path(), &envs).arg("outbox"));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("pending 0") && report.contains("sent 1"),
        "{report}"
    );
}

#[test]
fn backup_copies_the_database_and_the_copy_restores() {
    let cwd = tempfile::tempdir().unwrap();
    let copy = cwd.path().join("backup.db");
    if let Some(db) = TestDatabase::postgres() {
        // PostgreSQL has its own tools: the command says so and writes nothing.
        let envs = [("TECHEX__DATABASE__URL", db.url.clone())];
        let out = run(techex(cwd.path(), &envs).arg("backup").arg(&copy));
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("pg_dump"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!copy.exists());
        return;
    }
    let file = cwd.path().join("in.jsonl");
    std::fs::write(&file, techex::demo::jsonl()).unwrap();
    assert!(run(techex(cwd.path(), &[]).arg("import").arg(&file))
        .status
        .success());
    let out = run(techex(cwd.path(), &[]).arg("backup").arg(&copy));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity ok"));
    // Never over an existing file.
    let again = run(techex(cwd.path(), &[]).arg("backup").arg(&copy));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // Restored in another folder, the copy holds the same open data as the original.
    let restored = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(restored.path().join("data")).unwrap();
    std::fs::copy(&copy, restored.path().join("data").join("techex.db")).unwrap();
    let export = |dir: &Path| {
        let out = run(techex(dir, &[]).arg("export"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let original = export(cwd.path());
    assert!(original.len() > 10_000, "the demo data was exported");
    assert_eq!(export(restored.path()), original);
}
