//! How the API is served (`api::serving`): on the platform thread by default, stopped gracefully
//! or at once; and on actix-web workers with `--http-workers N`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use api::Platform;
use common::{test_options, Client, TestServer};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A platform in its own thread and actix system, stopped when told (gracefully or not).
struct Served {
    url: String,
    guest: String,
    stop: Option<tokio::sync::oneshot::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<bool>();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let platform = Platform::start(&data_dir, test_options()).await.unwrap();
                let guest = platform.guest().unwrap().credentials.clone();
                ready_tx.send((platform.url(), guest)).unwrap();
                let graceful = stop_rx.await.unwrap_or(false);
                platform.handle().stop(graceful).await;
                platform.wait().await.unwrap();
            });
        });
        let (url, guest) = ready_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        Self {
            url,
            guest,
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        }
    }

    fn authority(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }

    /// Stops the server and waits until the platform has stopped; how long that took.
    fn stop(&mut self, graceful: bool) -> Duration {
        let started = Instant::now();
        self.stop.take().unwrap().send(graceful).unwrap();
        self.thread.take().unwrap().join().unwrap();
        started.elapsed()
    }
}

/// An idle keep-alive connection: one request answered, the connection left open.
fn idle_connection(authority: &str) -> TcpStream {
    let mut stream = TcpStream::connect(authority).unwrap();
    stream
        .write_all(format!("GET /api/v1 HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes())
        .unwrap();
    let mut answer = [0u8; 4096];
    let read = stream.read(&mut answer).unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer[..read])
    );
    stream
}

/// Reads until the server closes the connection (or 10 s pass).
fn closed_by_server(mut stream: TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).is_ok()
}

#[test]
fn a_graceful_stop_finishes_the_invocation_in_flight_closes_idle_connections_and_refuses_new_ones()
{
    let mut served = Served::start();
    let guest = Client::new(&served.url, Some(&served.guest));
    let reply = guest.put(
        "/api/v1/namespaces/_/actions/slow",
        &json!({"exec": {"kind": "python:3",
            "code": "import time\ndef main(args):\n    time.sleep(1.5)\n    return {'done': True}\n"}}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let idle = idle_connection(&served.authority());
    let in_flight = {
        let guest = guest.clone();
        std::thread::spawn(move || {
            guest.post(
                "/api/v1/namespaces/_/actions/slow?blocking=true&result=true",
                &json!({}),
            )
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let took = served.stop(true);
    let reply = in_flight.join().unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json, json!({"done": true}));
    assert!(
        took < Duration::from_secs(4),
        "the graceful stop waited {took:?}: an idle keep-alive connection held it (5 s keep-alive)"
    );
    assert!(closed_by_server(idle), "the idle connection stayed open");
    assert!(
        TcpStream::connect(served.authority()).is_err(),
        "a new connection was accepted after the stop"
    );
}

#[test]
fn a_stop_at_once_closes_open_connections_without_waiting() {
    let mut served = Served::start();
    let idle = idle_connection(&served.authority());
    let took = served.stop(false);
    assert!(took < Duration::from_secs(5), "the stop took {took:?}");
    assert!(closed_by_server(idle));
}

#[test]
fn with_http_workers_the_api_is_served_from_actix_web_workers() {
    let server = TestServer::start_with(api::PlatformOptions {
        http_workers: 2,
        ..test_options()
    });
    let guest = server.guest();
    let reply = guest.put(
        "/api/v1/namespaces/_/actions/hello",
        &json!({"exec": {"kind": "python:3", "code": "def main(args):\n    return {'hi': args.get('n')}\n"}}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/hello?blocking=true&result=true",
        &json!({"n": 7}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json, json!({"hi": 7}));
}
