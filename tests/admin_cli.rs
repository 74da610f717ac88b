//! `whirl admin namespace create|list`, offline on a data directory and online through a running
//! `whirl serve` (whose store it then cannot open): the printed `uuid:key` authenticates as the new
//! namespace, a second create of the same name fails, and `--no-guest` leaves no guest behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn whirl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_whirl"))
}

fn admin(data_dir: &Path, args: &[&str]) -> std::process::Output {
    whirl()
        .args(["admin", "namespace"])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn is_credentials(text: &str) -> bool {
    let Some((uuid, key)) = text.trim().split_once(':') else {
        return false;
    };
    uuid.len() == 36
        && uuid.split('-').count() == 5
        && key.len() == 64
        && key.bytes().all(|b| b.is_ascii_hexdigit())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn admin_creates_namespaces_offline_and_through_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let created = admin(&data, &["create", "alice", "--invocations-per-minute", "7"]);
    assert!(created.status.success(), "{created:?}");
    let alice = String::from_utf8(created.stdout).unwrap();
    assert!(is_credentials(&alice), "{alice}");
    let again = admin(&data, &["create", "alice"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let listed = String::from_utf8(admin(&data, &["list"]).stdout).unwrap();
    assert!(listed.contains("alice"), "{listed}");
    assert!(listed.contains("\"invocationsPerMinute\":7"), "{listed}");

    let server = Server(
        whirl()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--no-guest",
                "--stem-cells",
                "nodejs:20=0",
            ])
            .arg("--data-dir")
            .arg(&data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url_file = data.join("api.url");
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(&url_file) {
            if ureq::get(&format!("{}/healthz", url.trim())).call().is_ok() {
                break url.trim().to_owned();
            }
        }
        assert!(Instant::now() < deadline, "whirl serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!data.join("guest.auth").exists());
    let created = admin(&data, &["create", "bob"]);
    assert!(created.status.success(), "{created:?}");
    let bob = String::from_utf8(created.stdout).unwrap();
    assert!(is_credentials(&bob), "{bob}");
    for (credentials, namespace) in [(alice.trim(), "alice"), (bob.trim(), "bob")] {
        let (user, key) = credentials.split_once(':').unwrap();
        let body = ureq::get(&format!("{url}/api/v1/namespaces"))
            .set(
                "Authorization",
                &format!("Basic {}", base64_encode(&format!("{user}:{key}"))),
            )
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        assert_eq!(body, format!("[\"{namespace}\"]"));
    }
    let listed = String::from_utf8(admin(&data, &["list"]).stdout).unwrap();
    assert!(
        listed.contains("alice") && listed.contains("bob"),
        "{listed}"
    );
    assert!(!listed.contains("guest"), "{listed}");
    drop(server);
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
