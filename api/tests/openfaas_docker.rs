//! OpenFaaS functions on the Docker backend (the same wiring as `whirl serve --backend docker`)
//! against the real dockerd the test command starts: an OpenFaaS-style image the test builds
//! (its watchdog's `fprocess` in its environment) answers binary bodies with the request's
//! `Content-Type`; `envProcess` overrides the image's command; `envProcess` without an image runs
//! in Whirl's exec image with the watchdog's `Http_*` variables; an of-watchdog image in `http`
//! mode gets the request forwarded as it came; replicas are containers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use api::{Backend, PlatformOptions};
use bridge::docker::images::{build_image_from_files, build_runtime_images};
use bridge::NetworkAccess;
use common::{test_options, Client, TestServer};
use serde_json::json;

const IMAGE: &str = "whirl-test-openfaas-cat:1";
const HTTP_IMAGE: &str = "whirl-test-openfaas-http:1";

/// Stands in for an of-watchdog in `http` mode with its upstream: serves port 8080 itself,
/// echoes the body with the request's Content-Type, answers the status `X-Want-Status` asks for
/// and says which path and query it got.
const HTTP_FUNCTION: &str = r#"
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length)
        self.send_response(int(self.headers.get('X-Want-Status') or 200))
        self.send_header('Content-Type', self.headers.get('Content-Type') or 'text/plain')
        self.send_header('X-Path', self.path)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = answer
    def log_message(self, *args):
        pass
HTTPServer(('0.0.0.0', 8080), Handler).serve_forever()
"#;

fn docker_options() -> PlatformOptions {
    PlatformOptions {
        backend: Backend::Docker {
            default_network: NetworkAccess::Egress,
        },
        stem_cells: Vec::new(),
        ..test_options()
    }
}

/// An OpenFaaS classic-watchdog image: `fprocess` in its environment, a long-running entrypoint
/// standing in for the watchdog (the driver runs `fprocess` per request with `docker exec`).
fn build_openfaas_image() {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let docker = bridge::docker::connect().await.unwrap();
        let images = build_runtime_images(&docker, false, &|_| {}).await.unwrap();
        let dockerfile = format!(
            "FROM {}\nENV fprocess=\"cat\"\nCMD [\"sleep\", \"infinity\"]\n",
            images.base
        );
        build_image_from_files(&docker, IMAGE, &dockerfile, &[], &|_| {})
            .await
            .unwrap();
        let dockerfile = format!(
            "FROM {}\nCOPY function.py /function.py\nENV fprocess=\"python3 /function.py\" mode=\"http\"\nCMD [\"python3\", \"/function.py\"]\n",
            images.base
        );
        let files = [bridge::docker::images::ContextFile {
            path: "function.py".into(),
            mode: 0o644,
            contents: HTTP_FUNCTION.as_bytes().to_vec(),
        }];
        build_image_from_files(&docker, HTTP_IMAGE, &dockerfile, &files, &|_| {})
            .await
            .unwrap();
    });
}

fn deploy(client: &Client, body: serde_json::Value) {
    let reply = client.post("/system/functions", &body);
    assert!(matches!(reply.status, 200 | 202), "{body}: {}", reply.text);
}

#[test]
fn openfaas_images_and_commands_answer_in_docker_containers() {
    build_openfaas_image();
    let server = TestServer::start_with(docker_options());
    let guest = server.guest();
    let web = server.anonymous();
    let info = guest.get("/system/info");
    assert_eq!(info.json["provider"]["orchestration"], "docker");

    // The image's own fprocess, binary safe.
    deploy(&guest, json!({"service": "cat", "image": IMAGE}));
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let reply = web.raw(
        "POST",
        "/function/cat",
        Some(&bytes),
        &[("Content-Type", "image/jpeg")],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.bytes, bytes);
    assert_eq!(reply.header("content-type"), Some("image/jpeg"));
    let status = guest.get("/system/function/cat").json;
    assert_eq!(status["image"], IMAGE);
    assert!(
        status["availableReplicas"].as_u64().unwrap() >= 1,
        "{status}"
    );

    // envProcess overrides the image's command.
    deploy(
        &guest,
        json!({"service": "count", "image": IMAGE, "envProcess": "wc -c"}),
    );
    let reply = web.raw("POST", "/function/count", Some(b"12345"), &[]);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text.trim(), "5");

    // envProcess alone: Whirl's exec image, with the watchdog's variables.
    deploy(&guest, json!({"service": "env", "envProcess": "env"}));
    let reply = web.raw(
        "PUT",
        "/function/env/a/b?x=1",
        Some(b"abc"),
        &[("X-Served-By", "docker")],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    for expected in [
        "Http_Method=PUT",
        "Http_Path=/a/b",
        "Http_Query=x=1",
        "Http_X_Served_By=docker",
    ] {
        assert!(
            reply.text.lines().any(|line| line == expected),
            "missing {expected} in\n{}",
            reply.text
        );
    }

    // An of-watchdog image in http mode: the request is forwarded to its port 8080 as it came;
    // its status, headers and body come back.
    deploy(&guest, json!({"service": "http", "image": HTTP_IMAGE}));
    let reply = web.raw(
        "PUT",
        "/function/http/some/where?q=1",
        Some(&bytes),
        &[("Content-Type", "image/png"), ("X-Want-Status", "201")],
    );
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.bytes, bytes);
    assert_eq!(reply.header("content-type"), Some("image/png"));
    assert_eq!(reply.header("x-path"), Some("/some/where?q=1"));

    // An image that is not on the host: Whirl never pulls, so the call fails naming the image.
    deploy(
        &guest,
        json!({"service": "ghost", "image": "whirl-test/absent:1"}),
    );
    let reply = web.get("/function/ghost");
    assert_eq!(reply.status, 500, "{}", reply.text);
    assert!(reply.text.contains("whirl-test/absent:1"), "{}", reply.text);
}
