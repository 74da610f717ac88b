//! `whirl trigger create --feed` and `whirl trigger delete` against a real `whirl serve`, as wsk
//! does them: the trigger is annotated with its feed, the feed action gets CREATE (with the `-p`
//! parameters) and DELETE, a refused feed leaves no trigger behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running `whirl serve`, stopped on drop.
struct Server {
    child: Child,
    apihost: String,
    auth: String,
    home: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("data");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_whirl"))
            .args(["serve", "--data-dir"])
            .arg(&data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            apihost: format!("http://127.0.0.1:{port}"),
            auth: String::new(),
            home,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "whirl serve did not come up");
            assert!(
                server.child.try_wait().unwrap().is_none(),
                "whirl serve exited"
            );
            if let Ok(key) = std::fs::read_to_string(data.join("guest.auth")) {
                server.auth = key.trim().to_string();
                if !server.auth.is_empty() && server.whirl(&["namespace", "list"]).status.success()
                {
                    return server;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn whirl(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_whirl"))
            .args(args)
            .env("HOME", self.home.path())
            .env("WHIRL_APIHOST", &self.apihost)
            .env("WHIRL_AUTH", &self.auth)
            .env_remove("WHIRL_CONFIG_FILE")
            .env("RUST_LOG", "off")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.whirl(args);
        assert!(
            out.status.success(),
            "whirl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The feed's READ answer (or the error result) for trigger `name`.
    fn read_feed(&self, name: &str) -> serde_json::Value {
        let out = self.whirl(&[
            "action",
            "invoke",
            "/whisk.system/alarms/alarm",
            "--result",
            "-p",
            "lifecycleEvent",
            "READ",
            "-p",
            "triggerName",
            &format!("/_/{name}"),
            "-p",
            "authKey",
            &self.auth,
        ]);
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn trigger_create_with_a_feed_and_delete_drive_the_feed_lifecycle() {
    let server = Server::start();
    let created = server.ok(&[
        "trigger",
        "create",
        "nightly",
        "--feed",
        "/whisk.system/alarms/alarm",
        "-p",
        "cron",
        "0 3 * * *",
        "-p",
        "trigger_payload",
        "{\"job\":\"backup\"}",
    ]);
    assert!(created.contains("created trigger nightly"), "{created}");
    let trigger: serde_json::Value =
        serde_json::from_str(&server.ok(&["trigger", "get", "nightly", "--json"])).unwrap();
    let annotations = trigger["annotations"].as_array().unwrap();
    assert!(
        annotations
            .iter()
            .any(|a| a["key"] == "feed" && a["value"] == "/whisk.system/alarms/alarm"),
        "{trigger}"
    );
    // The parameters went to the feed, not to the trigger.
    assert_eq!(trigger["parameters"], serde_json::json!([]), "{trigger}");
    let read = server.read_feed("nightly");
    assert_eq!(read["config"]["cron"], "0 3 * * *", "{read}");
    assert_eq!(
        read["config"]["payload"],
        serde_json::json!({"job": "backup"})
    );
    assert_eq!(read["status"]["active"], true);

    // A cron the feed refuses: the error names the field and no trigger is left.
    let refused = server.whirl(&[
        "trigger",
        "create",
        "broken",
        "--feed",
        "/whisk.system/alarms/alarm",
        "-p",
        "cron",
        "0 25 * * *",
    ]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("Unable to create trigger 'broken'") && stderr.contains("cron"),
        "{stderr}"
    );
    assert!(!server.whirl(&["trigger", "get", "broken"]).status.success());

    let deleted = server.whirl(&["trigger", "delete", "nightly"]);
    assert!(deleted.status.success());
    // The feed's DELETE succeeded (a refusal would be a warning).
    assert!(
        deleted.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    let gone = server.read_feed("nightly");
    assert_eq!(gone["statusCode"], 404, "{gone}");
}
