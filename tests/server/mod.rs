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
    data: PathBuf,
    /// Flags given to `whirl serve` besides the data directory and the address.
    flags: Vec<String>,
}

/// Starts `whirl serve` on `data` and a free loopback port; returns it and its API host.
fn spawn_serve(data: &std::path::Path, flags: &[String]) -> (Child, String) {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let child = Command::new(env!("CARGO_BIN_EXE_whirl"))
        .args(["serve", "--data-dir"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(flags)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// A server started with more `whirl serve` flags.
    pub fn start_with(flags: &[&str]) -> Server {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("data");
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        let (child, apihost) = spawn_serve(&data, &flags);
        let mut server = Server {
            child,
            apihost,
            auth: String::new(),
            home,
            data,
            flags,
        };
        server.wait_until_up();
        server
    }

    /// Kills `whirl serve` with SIGKILL (no shutdown of any kind) and starts it again on the same
    /// data directory (and a new port).
    pub fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let (child, apihost) = spawn_serve(&self.data, &self.flags);
        self.child = child;
        self.apihost = apihost;
        self.wait_until_up();
    }

    fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "whirl serve did not come up");
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "whirl serve exited"
            );
            if let Ok(key) = std::fs::read_to_string(self.data.join("guest.auth")) {
                self.auth = key.trim().to_string();
                if !self.auth.is_empty() && self.whirl(&["namespace", "list"]).status.success() {
                    return;
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
