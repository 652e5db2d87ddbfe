//! A real SMTP server on 127.0.0.1 for the email tests: `tests/support/smtp_sink.py`
//! (aiosmtpd). Its Python comes from `TECHEX_TEST_PYTHON`, or from a virtual environment
//! made once under the target folder.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Mutex};

use tempfile::TempDir;

use crate::mail::Mail;

fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Ok(p) = std::env::var("TECHEX_TEST_PYTHON") {
            return PathBuf::from(p);
        }
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("smtp-venv");
        let bin = venv.join("bin/python");
        let ready = venv.join("aiosmtpd-installed");
        if !ready.exists() {
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 runs")
                .success();
            assert!(ok, "python3 -m venv failed");
            let ok = Command::new(&bin)
                .args(["-m", "pip", "install", "--quiet", "aiosmtpd"])
                .status()
                .expect("pip runs")
                .success();
            assert!(ok, "pip install aiosmtpd failed");
            std::fs::write(&ready, b"").expect("marker");
        }
        bin
    })
}

pub struct Sink {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
    /// One event per message received (the sink's `MAIL <file>` lines).
    arrivals: Mutex<mpsc::UnboundedReceiver<String>>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    /// A sink on a free port.
    pub fn start() -> Self {
        Self::start_on(0)
    }

    /// A sink on this port (0: any free one).
    pub fn start_on(port: u16) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("smtp sink starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines
            .next()
            .and_then(Result::ok)
            .expect("sink prints READY");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected sink output: {line:?}"));
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            port,
            dir,
            arrivals: Mutex::new(rx),
        }
    }

    /// Waits for the next message to arrive, until `deadline`; false when none came.
    async fn next_arrival(&self, deadline: Instant) -> bool {
        let mut rx = self.arrivals.lock().await;
        matches!(
            tokio::time::timeout_at(deadline.into(), rx.recv()).await,
            Ok(Some(_))
        )
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("sink dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| Mail::parse(&std::fs::read(p).expect("eml")))
            .collect()
    }

    /// Messages to `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.messages()
            .into_iter()
            .filter(|m| m.to == address.to_lowercase())
            .collect()
    }

    /// Waits for arrivals (with a deadline) until `address` has received `count` messages; answers them.
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.to(address);
            if got.len() >= count {
                return got;
            }
            assert!(
                self.next_arrival(deadline).await,
                "{address} received {} of {count} messages: {:?}",
                got.len(),
                got.iter().map(|m| &m.subject).collect::<Vec<_>>()
            );
        }
    }

    /// Waits for the next message to `address` whose subject contains `needle`.
    pub async fn wait_subject(&self, address: &str, needle: &str) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(m) = self
                .to(address)
                .into_iter()
                .find(|m| m.subject.contains(needle))
            {
                return m;
            }
            assert!(
                self.next_arrival(deadline).await,
                "no message to {address} about {needle:?}; got {:?}",
                self.to(address)
                    .iter()
                    .map(|m| &m.subject)
                    .collect::<Vec<_>>()
            );
        }
    }
}

/// Settings that deliver through `port` quickly, with short retry delays.
pub fn smtp_to(s: &mut techex::config::Settings, port: u16) {
    s.email.transport = techex::config::EmailTransportKind::Smtp;
    s.email.smtp.host = "127.0.0.1".into();
    s.email.smtp.port = port;
    s.email.smtp.timeout_seconds = 5;
    s.email.outbox.poll_interval_ms = 50;
    s.email.outbox.backoff_base_ms = 100;
    s.email.outbox.backoff_max_ms = 400;
    s.email.outbox.max_attempts = 50;
    s.server.public_url = "https://techex.test".into();
}
