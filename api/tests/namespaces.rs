//! Namespaces and keys against a real platform: a key reaches only its own namespace (reading,
//! writing, invoking, firing and reading activations across namespaces are refused), public
//! packages are the exception for reading and invoking, keys are stored hashed, the admin routes
//! need the operator's token, and the guest namespace is created (or not) on first start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{python, test_options, Client, TestServer};
use serde_json::json;

#[test]
fn a_key_reaches_only_its_own_namespace() {
    let server = TestServer::start();
    let alice = server.namespace("alice", json!({}));
    let bob = server.namespace("bob", json!({}));
    assert_eq!(alice.get("/api/v1/namespaces").json, json!(["alice"]));
    assert_eq!(
        alice
            .put(
                "/api/v1/namespaces/_/actions/secret",
                &python("def main(a):\n    return {'s': 1}")
            )
            .status,
        200
    );
    alice.put("/api/v1/namespaces/_/triggers/t", &json!({}));
    alice.put("/api/v1/namespaces/_/packages/private", &json!({}));
    let run = alice.post(
        "/api/v1/namespaces/_/actions/secret?blocking=true",
        &json!({}),
    );
    let activation = run.json["activationId"].as_str().unwrap().to_owned();

    let forbidden = "not authorized to access 'alice'";
    // Reading.
    bob.get("/api/v1/namespaces/alice/actions/secret")
        .assert_error(403, forbidden);
    bob.get("/api/v1/namespaces/alice/actions")
        .assert_error(403, forbidden);
    bob.get("/api/v1/namespaces/alice/triggers/t")
        .assert_error(403, forbidden);
    bob.get("/api/v1/namespaces/alice/rules")
        .assert_error(403, forbidden);
    bob.get("/api/v1/namespaces/alice/packages/private")
        .assert_error(403, forbidden);
    bob.get(&format!(
        "/api/v1/namespaces/alice/activations/{activation}"
    ))
    .assert_error(403, forbidden);
    bob.get("/api/v1/namespaces/alice/limits")
        .assert_error(403, forbidden);
    // Bob's own namespace does not hold Alice's activation either.
    bob.get(&format!("/api/v1/namespaces/_/activations/{activation}"))
        .assert_error(404, "does not exist");
    // Private packages do not show in another namespace's listing.
    assert_eq!(bob.get("/api/v1/namespaces/alice/packages").json, json!([]));
    // Writing.
    bob.put(
        "/api/v1/namespaces/alice/actions/secret?overwrite=true",
        &python("def main(a):\n    return {}"),
    )
    .assert_error(403, forbidden);
    bob.delete("/api/v1/namespaces/alice/actions/secret")
        .assert_error(403, forbidden);
    bob.put("/api/v1/namespaces/alice/triggers/t2", &json!({}))
        .assert_error(403, forbidden);
    // Invoking and firing.
    bob.post(
        "/api/v1/namespaces/alice/actions/secret?blocking=true",
        &json!({}),
    )
    .assert_error(403, forbidden);
    bob.post("/api/v1/namespaces/alice/triggers/t", &json!({}))
        .assert_error(403, forbidden);
    // A rule or sequence of Bob's cannot reach Alice's action either.
    bob.put("/api/v1/namespaces/_/triggers/bt", &json!({}));
    bob.put(
        "/api/v1/namespaces/_/rules/br",
        &json!({"trigger": "/_/bt", "action": "/alice/secret"}),
    )
    .assert_error(403, forbidden);
    bob.put(
        "/api/v1/namespaces/_/actions/bseq",
        &json!({"exec": {"kind": "sequence", "components": ["/alice/secret"]}}),
    )
    .assert_error(400, "Sequence component does not exist: '/alice/secret'");
    // Alice's action is unchanged.
    let still = alice.get("/api/v1/namespaces/_/actions/secret");
    assert_eq!(still.json["version"], "0.0.1");

    // A public package of Alice's is readable and invokable by Bob; its activation is Bob's.
    alice.put(
        "/api/v1/namespaces/_/packages/shared",
        &json!({"publish": true}),
    );
    alice.put(
        "/api/v1/namespaces/_/actions/shared/hi",
        &python("def main(a):\n    return {'hi': a.get('who')}"),
    );
    assert_eq!(
        bob.get("/api/v1/namespaces/alice/packages/shared").json["actions"][0]["name"],
        "hi"
    );
    let reply = bob.post(
        "/api/v1/namespaces/alice/actions/shared/hi?blocking=true",
        &json!({"who": "bob"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["namespace"], "bob");
    assert_eq!(reply.json["response"]["result"], json!({"hi": "bob"}));
    // ...but not writable.
    bob.put(
        "/api/v1/namespaces/alice/actions/shared/hi?overwrite=true",
        &python("def main(a):\n    return {}"),
    )
    .assert_error(403, forbidden);

    // Keys are stored hashed: the key projection holds no secret.
    let projection_dir = server.data_dir.join("projections");
    let mut leaked = false;
    let secret = server.guest.split(':').nth(1).unwrap().to_owned();
    for entry in walk(&projection_dir).chain(walk(&server.data_dir.join("log"))) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        if bytes
            .windows(secret.len())
            .any(|window| window == secret.as_bytes())
        {
            leaked = true;
        }
    }
    assert!(!leaked, "a key's secret was found on disk");
}

fn walk(dir: &std::path::Path) -> impl Iterator<Item = std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.into_iter()
}

#[test]
fn credentials_are_checked_and_admin_routes_need_the_token() {
    let server = TestServer::start();
    // The guest key is in guest.auth and works.
    let written = std::fs::read_to_string(server.data_dir.join("guest.auth")).unwrap();
    assert_eq!(written.trim(), server.guest);
    assert_eq!(server.guest().get("/api/v1/namespaces").status, 200);
    let uuid = server.guest.split(':').next().unwrap();
    let wrong = Client::new(&server.url, Some(&format!("{uuid}:{}", "0".repeat(64))));
    let reply = wrong.get("/api/v1/namespaces");
    reply.assert_error(401, "The supplied authentication is invalid");
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Basic realm=\"whirl\"")
    );
    server
        .anonymous()
        .get("/api/v1/namespaces/_/actions")
        .assert_error(401, "requires authentication");
    // Admin routes: no token, a wrong token, the right one.
    server
        .anonymous()
        .post("/admin/v1/namespaces", &json!({"name": "x"}))
        .assert_error(401, "requires authentication");
    server
        .anonymous()
        .request_with(
            "POST",
            "/admin/v1/namespaces",
            Some(&json!({"name": "x"})),
            &[("Authorization", "Bearer nope")],
        )
        .assert_error(401, "wrong admin token");
    let token = format!("Bearer {}", server.admin_token);
    let listed = server.anonymous().request_with(
        "GET",
        "/admin/v1/namespaces",
        None,
        &[("Authorization", &token)],
    );
    let names: Vec<&str> = listed
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["guest", "whisk.system"]);
    assert_eq!(listed.json[0]["keys"][0], uuid);
    let duplicate = server.anonymous().request_with(
        "POST",
        "/admin/v1/namespaces",
        Some(&json!({"name": "guest"})),
        &[("Authorization", &token)],
    );
    duplicate.assert_error(409, "already exists");
    let bad = server.anonymous().request_with(
        "POST",
        "/admin/v1/namespaces",
        Some(&json!({"name": "no/slash"})),
        &[("Authorization", &token)],
    );
    bad.assert_error(400, "is not valid");
}

#[test]
fn no_guest_means_no_guest_namespace() {
    let mut options = test_options();
    options.create_guest = false;
    options.create_catalog = false;
    let server = TestServer::start_with(options);
    assert!(server.guest.is_empty());
    assert!(!server.data_dir.join("guest.auth").exists());
    let token = format!("Bearer {}", server.admin_token);
    let listed = server.anonymous().request_with(
        "GET",
        "/admin/v1/namespaces",
        None,
        &[("Authorization", &token)],
    );
    assert_eq!(listed.json, json!([]));
}
