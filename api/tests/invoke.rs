//! Invocation semantics over HTTP against a real platform: blocking 200 / 502 / 202 after the wait,
//! `result=true`, non-blocking 202 then a record, 413, 429 with OpenWhisk's message, parameters
//! merged package < action < request, and the activation routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{python, test_options, wait_for_activation, TestServer};
use serde_json::json;

#[test]
fn blocking_and_non_blocking_invocations_follow_openwhisk() {
    let server = TestServer::start();
    let guest = server.guest();
    let ok = guest.put(
        "/api/v1/namespaces/_/actions/hello",
        &json!({
            "exec": {"kind": "python:3", "code": "def main(a):\n    print('hello', a.get('name'))\n    return {'greeting': 'hi ' + a.get('name', 'x'), 'p': a.get('p')}"},
            "parameters": [{"key": "p", "value": "action"}, {"key": "name", "value": "default"}]
        }),
    );
    assert_eq!(ok.status, 200, "{}", ok.text);

    // Blocking: 200 with the whole activation; the request body overrides the action's parameters.
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/hello?blocking=true",
        &json!({"name": "bob"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json["response"]["result"],
        json!({"greeting": "hi bob", "p": "action"})
    );
    assert_eq!(reply.json["response"]["status"], "success");
    assert_eq!(reply.json["namespace"], "guest");
    let id = reply.json["activationId"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);

    // result=true: only the result.
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/hello?blocking=true&result=true",
        &json!({}),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json, json!({"greeting": "hi default", "p": "action"}));

    // The record, its result and its logs.
    let record = guest.get(&format!("/api/v1/namespaces/_/activations/{id}"));
    assert_eq!(record.status, 200);
    assert_eq!(record.json["activationId"], id.as_str());
    let result = guest.get(&format!("/api/v1/namespaces/_/activations/{id}/result"));
    assert_eq!(result.json["result"]["greeting"], "hi bob");
    assert_eq!(result.json["success"], true);
    let logs = guest.get(&format!("/api/v1/namespaces/_/activations/{id}/logs"));
    let lines = logs.json["logs"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.as_str().unwrap().contains("stdout: hello bob")),
        "{lines:?}"
    );

    // Non-blocking: 202 with an id; the record follows.
    let reply = guest.post("/api/v1/namespaces/_/actions/hello", &json!({"name": "nb"}));
    assert_eq!(reply.status, 202, "{}", reply.text);
    let id = reply.json["activationId"].as_str().unwrap().to_owned();
    let record = wait_for_activation(&guest, &id);
    assert_eq!(record.json["response"]["result"]["greeting"], "hi nb");

    // Application error: 502 with the record; developer error (the process dies): 502.
    guest.put(
        "/api/v1/namespaces/_/actions/fails",
        &python("def main(a):\n    return {'error': 'it went wrong'}"),
    );
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/fails?blocking=true",
        &json!({}),
    );
    assert_eq!(reply.status, 502, "{}", reply.text);
    assert_eq!(reply.json["response"]["status"], "application error");
    assert_eq!(reply.json["response"]["statusCode"], 1);
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/fails?blocking=true&result=true",
        &json!({}),
    );
    assert_eq!(reply.status, 502);
    assert_eq!(reply.json, json!({"error": "it went wrong"}));
    guest.put(
        "/api/v1/namespaces/_/actions/crashes",
        &python("import os\ndef main(a):\n    os._exit(3)"),
    );
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/crashes?blocking=true",
        &json!({}),
    );
    assert_eq!(reply.status, 502, "{}", reply.text);
    assert_eq!(reply.json["response"]["status"], "action developer error");

    // Still running when the wait ends: 202 with the id; the record arrives later.
    guest.put(
        "/api/v1/namespaces/_/actions/slow",
        &python("import time\ndef main(a):\n    time.sleep(1.5)\n    return {'done': True}"),
    );
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/slow?blocking=true&timeout=200",
        &json!({}),
    );
    assert_eq!(reply.status, 202, "{}", reply.text);
    let id = reply.json["activationId"].as_str().unwrap().to_owned();
    let record = wait_for_activation(&guest, &id);
    assert_eq!(record.json["response"]["result"], json!({"done": true}));

    // Too large: 413 with the sizes.
    let big = "x".repeat(1024 * 1024 + 10);
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/hello?blocking=true",
        &json!({ "big": big }),
    );
    reply.assert_error(413, "allowed 1048576 bytes");

    // Listing: newest first, name filter, count, docs.
    let list = guest.get("/api/v1/namespaces/_/activations?name=hello&limit=2");
    let entries = list.json.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e["name"] == "hello"));
    assert!(entries[0]["start"].as_u64() >= entries[1]["start"].as_u64());
    assert!(entries[0].get("response").is_none());
    let count = guest.get("/api/v1/namespaces/_/activations?name=hello&count=true");
    assert_eq!(count.json["activations"], 3);
    let docs = guest.get("/api/v1/namespaces/_/activations?docs=true&limit=1");
    assert!(docs.json[0]["response"].is_object());
    let since = entries[0]["start"].as_u64().unwrap() + 1;
    let later = guest.get(&format!(
        "/api/v1/namespaces/_/activations?name=hello&since={since}"
    ));
    assert_eq!(later.json, json!([]));
}

#[test]
fn throttles_answer_429_with_openwhisk_messages_and_limits_show_them() {
    let server = TestServer::start();
    let limited = server.namespace(
        "limited",
        json!({"invocationsPerMinute": 2, "firesPerMinute": 1}),
    );
    let limits = limited.get("/api/v1/namespaces/_/limits");
    assert_eq!(limits.status, 200);
    assert_eq!(limits.json["invocationsPerMinute"], 2);
    assert_eq!(limits.json["concurrentInvocations"], 30);
    assert_eq!(limits.json["firesPerMinute"], 1);
    assert_eq!(limits.json["maxActionMemory"], 512);
    limited.put(
        "/api/v1/namespaces/_/actions/a",
        &python("def main(a):\n    return {}"),
    );
    // Six calls span at most one minute boundary, so one minute sees at least three of them.
    let mut refused = None;
    for _ in 0..6 {
        let reply = limited.post("/api/v1/namespaces/_/actions/a?blocking=true", &json!({}));
        assert!(reply.status == 200 || reply.status == 429, "{}", reply.text);
        if reply.status == 429 && refused.is_none() {
            refused = Some(reply);
        }
    }
    let refused = refused.expect("no invocation was throttled");
    refused.assert_error(429, "Too many requests in the last minute (count: ");
    refused.assert_error(429, ", allowed: 2).");
    // Concurrency: one slow invocation in flight holds the only slot of `single`.
    let single = server.namespace("single", json!({"concurrentInvocations": 1}));
    single.put(
        "/api/v1/namespaces/_/actions/slow",
        &python("import time\ndef main(a):\n    time.sleep(1)\n    return {}"),
    );
    let background = single.clone();
    let first = std::thread::spawn(move || {
        background.post(
            "/api/v1/namespaces/_/actions/slow?blocking=true",
            &json!({}),
        )
    });
    std::thread::sleep(std::time::Duration::from_millis(400));
    single
        .post(
            "/api/v1/namespaces/_/actions/slow?blocking=true",
            &json!({}),
        )
        .assert_error(
            429,
            "Too many concurrent requests in flight (count: 1, allowed: 1).",
        );
    assert_eq!(first.join().unwrap().status, 200);
    // Fires are throttled per namespace too.
    limited.put("/api/v1/namespaces/_/triggers/t", &json!({}));
    let statuses: Vec<u16> = (0..4)
        .map(|_| {
            limited
                .post("/api/v1/namespaces/_/triggers/t", &json!({}))
                .status
        })
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    // Without an active rule a fire that is not throttled answers 204.
    assert!(
        statuses.iter().all(|s| *s == 429 || *s == 204),
        "{statuses:?}"
    );
}

#[test]
fn packages_pass_parameters_to_their_actions_and_bindings_override_them() {
    let server = TestServer::start();
    let guest = server.guest();
    let reply = guest.put(
        "/api/v1/namespaces/_/packages/tools",
        &json!({"parameters": [{"key": "a", "value": "package"}, {"key": "b", "value": "package"}, {"key": "c", "value": "package"}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = guest.put(
        "/api/v1/namespaces/_/actions/tools/show",
        &json!({
            "exec": {"kind": "python:3", "code": "def main(a):\n    return a"},
            "parameters": [{"key": "b", "value": "action"}]
        }),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["namespace"], "guest/tools");
    let result = guest.post(
        "/api/v1/namespaces/_/actions/tools/show?blocking=true&result=true",
        &json!({"c": "request"}),
    );
    assert_eq!(
        result.json,
        json!({"a": "package", "b": "action", "c": "request"})
    );
    // A binding overrides the package's parameters, not the action's.
    let reply = guest.put(
        "/api/v1/namespaces/_/packages/mine",
        &json!({"binding": {"namespace": "_", "name": "tools"}, "parameters": [{"key": "a", "value": "binding"}, {"key": "b", "value": "binding"}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json["binding"],
        json!({"namespace": "guest", "name": "tools"})
    );
    let result = guest.post(
        "/api/v1/namespaces/_/actions/mine/show?blocking=true&result=true",
        &json!({}),
    );
    assert_eq!(
        result.json,
        json!({"a": "binding", "b": "action", "c": "package"})
    );
    let binding = guest.get("/api/v1/namespaces/_/packages/mine");
    assert_eq!(binding.json["actions"][0]["name"], "show");
    let listed = guest.get("/api/v1/namespaces/_/actions/mine/");
    assert_eq!(listed.json[0]["name"], "show");

    // The public catalog: readable, bindable and invokable from guest.
    let utils = guest.get("/api/v1/namespaces/whisk.system/packages/utils");
    assert_eq!(utils.status, 200, "{}", utils.text);
    let names: Vec<&str> = utils.json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for wanted in ["echo", "sort", "cat", "head", "date"] {
        assert!(names.contains(&wanted), "{names:?}");
    }
    let sorted = guest.post(
        "/api/v1/namespaces/whisk.system/actions/utils/sort?blocking=true&result=true",
        &json!({"lines": ["b", "c", "a"]}),
    );
    assert_eq!(sorted.status, 200, "{}", sorted.text);
    assert_eq!(sorted.json, json!({"length": 3, "lines": ["a", "b", "c"]}));
    // The activation belongs to the caller.
    let reply = guest.post(
        "/api/v1/namespaces/whisk.system/actions/utils/echo?blocking=true",
        &json!({"x": 1}),
    );
    assert_eq!(reply.json["namespace"], "guest");
    let path = reply.json["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "path")
        .unwrap()["value"]
        .clone();
    assert_eq!(path, "whisk.system/utils/echo");
    guest.put(
        "/api/v1/namespaces/_/packages/myutils",
        &json!({"binding": {"namespace": "whisk.system", "name": "utils"}, "parameters": [{"key": "lines", "value": ["z", "y"]}]}),
    );
    let head = guest.post(
        "/api/v1/namespaces/_/actions/myutils/head?blocking=true&result=true",
        &json!({"num": 1}),
    );
    assert_eq!(head.json, json!({"lines": ["z"], "num": 1}));
    let listing = guest.get("/api/v1/namespaces/whisk.system/packages");
    let names: Vec<&str> = listing
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|package| package["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"utils") && names.contains(&"alarms"),
        "{names:?}"
    );
    // Writing into another namespace is refused.
    let reply = guest.put(
        "/api/v1/namespaces/whisk.system/actions/utils/mine",
        &python("def main(a):\n    return a"),
    );
    reply.assert_error(403, "not authorized to access 'whisk.system'");

    // Delete: a package with actions needs force=true.
    guest.delete("/api/v1/namespaces/_/packages/mine");
    let refused = guest.delete("/api/v1/namespaces/_/packages/tools");
    refused.assert_error(409, "Package not empty (contains 1 entities)");
    let deleted = guest.delete("/api/v1/namespaces/_/packages/tools?force=true");
    assert_eq!(deleted.status, 200);
    let gone = guest.get("/api/v1/namespaces/_/actions/tools/show");
    gone.assert_error(404, "The requested resource does not exist.");
}

#[test]
fn without_an_invoker_invocations_answer_503() {
    let mut options = test_options();
    options.start_invoker = false;
    options.create_catalog = false;
    let server = TestServer::start_with(options);
    let guest = server.guest();
    guest.put(
        "/api/v1/namespaces/_/actions/a",
        &python("def main(a):\n    return a"),
    );
    guest
        .post("/api/v1/namespaces/_/actions/a?blocking=true", &json!({}))
        .assert_error(503, "No invokers available.");
    guest
        .post("/api/v1/namespaces/_/actions/a", &json!({}))
        .assert_error(503, "No invokers available.");
    // Nothing was accepted, so nothing is recorded.
    assert_eq!(
        guest
            .get("/api/v1/namespaces/_/activations?count=true")
            .json,
        json!({"activations": 0})
    );
}

/// An action the backend cannot run as asked fails on its own, as the action's fault, and never
/// takes the invoker out of service for everyone else (found by fuzzing the API: three runs of
/// such an action used to mark the only invoker unhealthy, so every invocation answered 503).
#[test]
fn an_action_the_backend_cannot_run_fails_alone_and_the_invoker_stays_in_service() {
    let server = TestServer::start();
    let guest = server.guest();
    // A Python launcher runs one activation at a time: `concurrency: 5` gives containers that take
    // one each, and the action runs.
    let mut concurrent = python("def main(a):\n    return {'n': a.get('n')}");
    concurrent["limits"] = json!({"concurrency": 5});
    let put = guest.put("/api/v1/namespaces/_/actions/five", &concurrent);
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.json["limits"]["concurrency"], 5);
    // A blackbox image on the process backend: a developer error naming the way out.
    let put = guest.put(
        "/api/v1/namespaces/_/actions/boxed",
        &json!({"exec": {"kind": "blackbox", "image": "example/skeleton:1"}}),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    for n in 0..4 {
        let reply = guest.post(
            "/api/v1/namespaces/_/actions/five?blocking=true&result=true",
            &json!({"n": n}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.json, json!({"n": n}));
        let reply = guest.post(
            "/api/v1/namespaces/_/actions/boxed?blocking=true",
            &json!({}),
        );
        assert_eq!(reply.status, 502, "{}", reply.text);
        assert_eq!(
            reply.json["response"]["status"], "action developer error",
            "{}",
            reply.text
        );
        let error = reply.json["response"]["result"]["error"]
            .as_str()
            .unwrap_or_default();
        assert!(
            error.contains("example/skeleton:1") && error.contains("--backend docker"),
            "{error}"
        );
    }
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/five?blocking=true&result=true",
        &json!({"n": "after"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
}
