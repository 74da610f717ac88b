//! The test harness: a real platform (`api::Platform`, the same wiring as `whirl serve`) on an
//! ephemeral loopback port in its own thread and actix system, and a small HTTP client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod nats;

use api::{Platform, PlatformOptions};
use base64::Engine;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A running platform; stopped when dropped.
pub struct TestServer {
    pub url: String,
    pub guest: String,
    pub admin_token: String,
    pub data_dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Options for tests: any free port, no signals, one Node.js stem cell.
pub fn test_options() -> PlatformOptions {
    PlatformOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        handle_signals: false,
        stem_cells: vec![(bridge::RuntimeKind::Nodejs20, 1)],
        user_memory_mb: 4096,
        ..PlatformOptions::default()
    }
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(test_options())
    }

    pub fn start_with(options: PlatformOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_dir = data_dir.clone();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let platform = match Platform::start(&thread_dir, options).await {
                    Ok(platform) => platform,
                    Err(error) => {
                        ready_tx.send(Err(error.to_string())).unwrap();
                        return;
                    }
                };
                let guest = platform
                    .guest()
                    .map(|guest| guest.credentials.clone())
                    .unwrap_or_default();
                let token = std::fs::read_to_string(platform.admin_token_path()).unwrap();
                ready_tx
                    .send(Ok((platform.url(), guest, token.trim().to_owned())))
                    .unwrap();
                let _ = stop_rx.await;
                platform.handle().stop(false).await;
                let _ = platform.wait().await;
            });
        });
        let (url, guest, admin_token) = ready_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the platform did not start in time")
            .expect("the platform failed to start");
        Self {
            url,
            guest,
            admin_token,
            data_dir,
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// A client authenticated as the guest.
    pub fn guest(&self) -> Client {
        Client::new(&self.url, Some(&self.guest))
    }

    /// A client without credentials.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.url, None)
    }

    /// Creates a namespace through the admin routes; returns a client with its key.
    pub fn namespace(&self, name: &str, limits: Value) -> Client {
        let reply = Client::new(&self.url, None).request_with(
            "POST",
            "/admin/v1/namespaces",
            Some(&serde_json::json!({"name": name, "limits": limits})),
            &[("Authorization", &format!("Bearer {}", self.admin_token))],
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        let credentials = format!(
            "{}:{}",
            reply.json["uuid"].as_str().unwrap(),
            reply.json["key"].as_str().unwrap()
        );
        Client::new(&self.url, Some(&credentials))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub text: String,
    pub bytes: Vec<u8>,
    pub json: Value,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Asserts the OpenWhisk error shape: `{"error", "code"}` with `code` = `X-Request-ID`.
    pub fn assert_error(&self, status: u16, message_part: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        let error = self.json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {}", self.text));
        assert!(
            error.contains(message_part),
            "expected {message_part:?} in {error:?}"
        );
        let code = self.json["code"].as_str().unwrap();
        assert!(!code.is_empty());
        assert_eq!(Some(code), self.header("x-request-id"));
    }
}

/// A small blocking HTTP client.
#[derive(Clone)]
pub struct Client {
    base: String,
    authorization: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str, credentials: Option<&str>) -> Self {
        Self {
            base: base.to_owned(),
            authorization: credentials.map(|c| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(c)
                )
            }),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(90))
                .build(),
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None)
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        self.request("PUT", path, Some(body))
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path, Some(body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.request("DELETE", path, None)
    }

    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.request_with(method, path, body, &[])
    }

    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        let mut all: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        self.raw(method, path, bytes.as_deref(), &all)
    }

    /// Any request with raw bytes and headers.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .agent
            .request(method, &format!("{}{}", self.base, path));
        if let Some(authorization) = &self.authorization {
            request = request.set("Authorization", authorization);
        }
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {path}: {error}"),
        };
        let status = response.status();
        let mut names = response.headers_names();
        let mut seen = std::collections::BTreeSet::new();
        names.retain(|name| seen.insert(name.to_ascii_lowercase()));
        let headers = names
            .into_iter()
            .flat_map(|name| {
                response
                    .all(&name)
                    .into_iter()
                    .map(|value| (name.clone(), value.to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            text,
            bytes,
            json,
            headers,
        }
    }
}

/// A Python action body.
pub fn python(code: &str) -> Value {
    serde_json::json!({"exec": {"kind": "python:3", "code": code}})
}

/// Polls until the activation has a record (it is recorded asynchronously after a 202).
pub fn wait_for_activation(client: &Client, id: &str) -> Reply {
    for _ in 0..200 {
        let reply = client.get(&format!("/api/v1/namespaces/_/activations/{id}"));
        if reply.status == 200 {
            return reply;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("activation {id} was never recorded");
}
