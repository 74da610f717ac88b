//! The harness of the CLI tests: a real `whirl serve` on a fresh data directory and a free
//! loopback port, and the `whirl` client pointed at it (its own HOME, so no developer's
//! properties are read or written).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running `whirl serve`, stopped on drop.
pub struct Server {
    child: Child,
    pub apihost: String,
    pub auth: String,
    pub home: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("data");
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
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

    pub fn whirl(&self, args: &[&str]) -> Output {
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

    /// Runs `whirl`, requires success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.whirl(args);
        assert!(
            out.status.success(),
            "whirl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
