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

#[test]
fn the_first_python_call_runs_in_a_stem_cell_the_pool_prewarmed() {
    let server = TestServer::start_with(docker_options());
    let guest = server.guest();
    // Give the pool a moment to create its stem cell, then note the time.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let before_action = bridge::format_rfc3339_nanos(std::time::SystemTime::now());
    let code = "import socket\ndef main(args):\n    return {'container': socket.gethostname()}\n";
    let reply = guest.put("/api/v1/namespaces/_/actions/where", &python(code));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/where?blocking=true&result=true",
        &json!({}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let container = reply.json["container"].as_str().unwrap();
    let inspect = std::process::Command::new("docker")
        .args(["inspect", "-f", "{{.Created}}", container])
        .output()
        .unwrap();
    assert!(inspect.status.success(), "{inspect:?}");
    let created = String::from_utf8_lossy(&inspect.stdout).trim().to_owned();
    assert!(
        created < before_action,
        "the container ({created}) was created after the action ({before_action}): no stem cell"
    );
}

/// Whether the cgroup freezer holds the container (cgroup v1 or v2), or Docker says it is paused.
fn paused(container: &str) -> bool {
    let inspect = std::process::Command::new("docker")
        .args([
            "inspect",
            "-f",
            "{{.State.Paused}} {{.State.Pid}}",
            container,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&inspect.stdout).trim().to_owned();
    let (docker_paused, pid) = text.split_once(' ').unwrap();
    if docker_paused == "true" {
        return true;
    }
    let table = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    table.lines().any(|line| {
        let parts: Vec<&str> = line.splitn(3, ':').collect();
        let path = parts[2].trim_start_matches('/');
        if parts[1].split(',').any(|c| c == "freezer") {
            std::fs::read_to_string(format!("/sys/fs/cgroup/freezer/{path}/freezer.state"))
                .is_ok_and(|state| state.trim() == "FROZEN")
        } else if parts[1].is_empty() {
            std::fs::read_to_string(format!("/sys/fs/cgroup/{path}/cgroup.freeze"))
                .is_ok_and(|state| state.trim() == "1")
        } else {
            false
        }
    })
}

fn exists(container: &str) -> bool {
    std::process::Command::new("docker")
        .args(["inspect", container])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn idle_containers_are_paused_reused_after_unpause_then_removed_after_keep_alive() {
    let server = TestServer::start_with(PlatformOptions {
        pause_grace_ms: 300,
        keep_alive: actors::core::pool::KeepAlivePolicy::IdleFor { idle_ms: 3_000 },
        stem_cells: Vec::new(),
        ..docker_options()
    });
    let guest = server.guest();
    let code = "import socket\ndef main(args):\n    return {'container': socket.gethostname()}\n";
    let reply = guest.put("/api/v1/namespaces/_/actions/idle", &python(code));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let invoke = || {
        let reply = guest.post(
            "/api/v1/namespaces/_/actions/idle?blocking=true&result=true",
            &json!({}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json["container"].as_str().unwrap().to_owned()
    };
    let first = invoke();
    // The pool's tick is 500 ms: paused within a second of the grace.
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    assert!(paused(&first), "the idle container was not paused");
    assert_eq!(invoke(), first, "the paused container was not reused");
    assert!(!paused(&first));
    std::thread::sleep(std::time::Duration::from_millis(5_000));
    assert!(!exists(&first), "the container outlived its keep-alive");
}

#[test]
fn a_default_network_of_none_applies_unless_the_action_asks_for_bridge() {
    let server = TestServer::start_with(PlatformOptions {
        backend: Backend::Docker {
            default_network: NetworkAccess::None,
        },
        stem_cells: Vec::new(),
        ..test_options()
    });
    let guest = server.guest();
    let probe = "import socket\ndef main(args):\n    return {'interfaces': sorted(n for _, n in socket.if_nameindex())}\n";
    let interfaces = |name: &str, annotations: serde_json::Value| {
        let mut action = python(probe);
        action["annotations"] = annotations;
        let reply = guest.put(&format!("/api/v1/namespaces/_/actions/{name}"), &action);
        assert_eq!(reply.status, 200, "{}", reply.text);
        let reply = guest.post(
            &format!("/api/v1/namespaces/_/actions/{name}?blocking=true&result=true"),
            &json!({}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json["interfaces"].clone()
    };
    assert_eq!(interfaces("plain", json!([])), json!(["lo"]));
    assert_eq!(
        interfaces("online", json!([{"key": "network", "value": "bridge"}])),
        json!(["eth0", "lo"])
    );
}
