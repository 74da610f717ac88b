//! What `whirl serve` logs when clients send broken HTTP: a 400 for the client and, at the default
//! level, no ERROR line in the server's log (those are the client's faults); `-v` shows them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Broken requests, each on its own connection.
const BROKEN: [&[u8]; 3] = [
    b"GARBAGE\r\n\r\n",
    b"GET /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /api/v1 HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n",
];

struct Serve {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(verbose: bool) -> Serve {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("serve.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_whirl"));
    if verbose {
        command.arg("-v");
    }
    let child = command
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let serve = Serve {
        child,
        port,
        log,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while exchange(
        serve.port,
        b"GET /api/v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .is_none_or(|answer| !answer.starts_with("HTTP/1.1 200"))
    {
        assert!(Instant::now() < deadline, "whirl serve did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    serve
}

/// Sends `request` on a new connection and returns what comes back before the server closes it.
fn exchange(port: u16, request: &[u8]) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

fn send_broken(serve: &Serve) {
    for request in BROKEN {
        let answer = exchange(serve.port, request).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "{request:?} was answered {answer:?}"
        );
    }
    // The server still serves after them.
    let answer = exchange(
        serve.port,
        b"GET /api/v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// The log once the server has had a moment to write what the broken requests caused.
fn log_after(serve: &Serve) -> String {
    std::thread::sleep(Duration::from_millis(300));
    std::fs::read_to_string(&serve.log).unwrap()
}

#[test]
fn broken_requests_get_400_and_no_error_line_by_default() {
    let serve = serve(false);
    send_broken(&serve);
    let log = log_after(&serve);
    assert!(log.contains("API listening"), "{log}");
    assert!(
        !log.lines().any(|line| line.contains(" ERROR ")),
        "the default log has an ERROR line:\n{log}"
    );
}

#[test]
fn broken_requests_show_with_verbose() {
    let serve = serve(true);
    send_broken(&serve);
    let log = log_after(&serve);
    assert!(
        log.lines()
            .any(|line| line.contains("actix_http::h1::dispatcher")),
        "-v does not show the broken requests:\n{log}"
    );
}
