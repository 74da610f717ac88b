//! The `whirl` client against a real `whirl serve` (a fresh data directory, a free loopback port):
//! what a user types and what they read back, wsk style, for actions, triggers and rules,
//! packages and bindings, activations and errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use server::Server;
use std::path::Path;
use std::time::{Duration, Instant};

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Waits until `check` passes (records are written when actions finish).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const HELLO: &str = "def main(args):\n    print('greeting ' + args.get('name', 'stranger'))\n    return {'greeting': 'Hello, ' + args.get('name', 'stranger') + '!'}\n";

#[test]
fn a_user_session_reads_like_wsk() {
    let server = Server::start();
    let hello = server.file("hello.py", HELLO);

    assert_eq!(
        server.ok(&["action", "create", "hello", path(&hello)]),
        "ok: created action hello\n"
    );
    let again = server.whirl(&["action", "create", "hello", path(&hello)]);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.starts_with("error: Unable to create action 'hello': resource already exists (code "),
        "{err}"
    );
    assert!(err.contains("hint: the action exists already"), "{err}");

    assert_eq!(
        server.ok(&["action", "invoke", "hello", "-p", "name", "World", "-r"]),
        "{\n  \"greeting\": \"Hello, World!\"\n}\n"
    );
    let invoked = server.ok(&["action", "invoke", "hello"]);
    let id = invoked
        .strip_prefix("ok: invoked /_/hello with id ")
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(id.len(), 32, "{invoked}");
    eventually("the non-blocking activation", || {
        server.whirl(&["activation", "get", &id]).status.success()
    });
    assert_eq!(
        server.ok(&["activation", "result", &id]),
        "{\n  \"greeting\": \"Hello, stranger!\"\n}\n"
    );
    assert_eq!(
        server.ok(&["activation", "logs", &id, "--strip"]),
        "greeting stranger\n"
    );

    let blocking = server.ok(&["action", "invoke", "hello", "-b", "-p", "name", "B"]);
    let (first, json) = blocking.split_once('\n').unwrap();
    assert!(
        first.starts_with("ok: invoked /_/hello with id "),
        "{blocking}"
    );
    let record: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(record["response"]["result"]["greeting"], "Hello, B!");

    let updated = server.ok(&["action", "update", "hello", "-p", "name", "Default"]);
    assert_eq!(updated, "ok: updated action hello\n");
    let got: serde_json::Value = serde_json::from_str(
        server
            .ok(&["action", "get", "hello", "--no-code"])
            .strip_prefix("ok: got action hello\n")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(got["version"], "0.0.2");
    assert!(got["exec"].get("code").is_none());

    // An update that adds an annotation keeps the others (wsk merges them client-side).
    server.ok(&["action", "update", "hello", "--web", "true"]);
    server.ok(&["action", "update", "hello", "--web-secure", "s3cret"]);
    let got: serde_json::Value =
        serde_json::from_str(&server.ok(&["action", "get", "hello", "--json"])).unwrap();
    let annotations = got["annotations"].as_array().unwrap();
    let value_of = |key: &str| {
        annotations
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
    };
    assert_eq!(value_of("web-export"), Some(serde_json::json!(true)));
    assert_eq!(
        value_of("require-whisk-auth"),
        Some(serde_json::json!("s3cret"))
    );
    assert_eq!(value_of("exec"), Some(serde_json::json!("python:3")));

    let list = server.ok(&["action", "list"]);
    assert_eq!(list, "actions\n/guest/hello private python:3\n");

    let listed = server.ok(&["activation", "list", "hello"]);
    let header = listed.lines().next().unwrap();
    assert!(
        header.starts_with("Datetime            Activation ID                    Kind"),
        "{listed}"
    );
    assert!(listed.lines().count() >= 4, "{listed}");

    let missing = server.whirl(&["action", "invoke", "nope", "-r"]);
    assert_eq!(missing.status.code(), Some(1));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.starts_with(
            "error: Unable to invoke action 'nope': The requested resource does not exist."
        ),
        "{err}"
    );
    assert!(err.contains("hint: check the name and namespace with `whirl action list`"));

    assert_eq!(
        server.ok(&["action", "delete", "hello"]),
        "ok: deleted action hello\n"
    );

    // A result nested deeper than serde_json builds values for (128 levels) still prints.
    let deep = server.file(
        "deep.py",
        "def main(a):\n    r = {}\n    for _ in range(200):\n        r = {'d': r}\n    return r\n",
    );
    server.ok(&["action", "create", "deep", path(&deep)]);
    let levels = |text: &str| text.matches("\"d\": {").count();
    assert_eq!(levels(&server.ok(&["action", "invoke", "deep", "-r"])), 200);
    assert_eq!(levels(&server.ok(&["action", "invoke", "deep", "-b"])), 200);
    assert_eq!(levels(&server.ok(&["activation", "result", "--last"])), 200);
}

#[test]
fn triggers_rules_packages_and_the_last_activation() {
    let server = Server::start();
    let record = server.file(
        "record.py",
        "def main(args):\n    return {'product_id': args['product_id'], 'change': args['stock_change']}\n",
    );
    server.ok(&["action", "create", "record", path(&record)]);
    assert_eq!(
        server.ok(&[
            "trigger",
            "create",
            "itemSold",
            "--param",
            "stock_change",
            "-1"
        ]),
        "ok: created trigger itemSold\n"
    );
    assert_eq!(
        server.ok(&["rule", "create", "saleRule", "itemSold", "record"]),
        "ok: created rule saleRule\n"
    );
    assert_eq!(
        server.ok(&["rule", "list"]),
        "rules\n/guest/saleRule private active\n"
    );

    let fired = server.ok(&["trigger", "fire", "itemSold", "-p", "product_id", "42"]);
    let fire_id = fired
        .strip_prefix("ok: triggered /_/itemSold with id ")
        .unwrap()
        .trim()
        .to_string();
    let trigger_record = loop_until_json(&server, &["activation", "get", &fire_id, "--json"]);
    let rule_log: serde_json::Value =
        serde_json::from_str(trigger_record["logs"][0].as_str().unwrap()).unwrap();
    let action_id = rule_log["activationId"].as_str().unwrap().to_string();
    loop_until_json(&server, &["activation", "get", &action_id, "--json"]);
    assert_eq!(
        server.ok(&["activation", "result", "--last"]),
        "{\n  \"change\": -1,\n  \"product_id\": 42\n}\n"
    );

    assert_eq!(
        server.ok(&["rule", "disable", "saleRule"]),
        "ok: disabled rule saleRule\n"
    );
    let quiet = server.whirl(&["trigger", "fire", "itemSold", "-p", "product_id", "1"]);
    assert!(quiet.status.success());
    assert_eq!(
        String::from_utf8_lossy(&quiet.stdout),
        "ok: triggered /_/itemSold\n"
    );
    assert!(String::from_utf8_lossy(&quiet.stderr).contains("no active rule"));

    let greet = server.file(
        "greet.py",
        "def main(args):\n    return {'text': args['greeting'] + ' ' + args['name']}\n",
    );
    server.ok(&["package", "create", "demo", "-p", "greeting", "Hello"]);
    server.ok(&["action", "create", "demo/greet", path(&greet)]);
    assert_eq!(
        server.ok(&["package", "bind", "demo", "demoFr", "-p", "greeting", "Bonjour"]),
        "ok: created binding demoFr\n"
    );
    assert_eq!(
        server.ok(&[
            "action",
            "invoke",
            "demoFr/greet",
            "-p",
            "name",
            "Ada",
            "-r"
        ]),
        "{\n  \"text\": \"Bonjour Ada\"\n}\n"
    );
    assert_eq!(
        server.ok(&["package", "list", "--name-sort"]),
        "packages\n/guest/demo   private\n/guest/demoFr private binding\n"
    );
    let refused = server.whirl(&["package", "delete", "demo"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(
        server.ok(&["package", "delete", "demo", "--force"]),
        "ok: deleted package demo\n"
    );
}

/// Runs a `--json` command until it succeeds and returns its JSON.
fn loop_until_json(server: &Server, args: &[&str]) -> serde_json::Value {
    let mut found = None;
    eventually(&format!("whirl {args:?}"), || {
        let out = server.whirl(args);
        if out.status.success() {
            found = Some(serde_json::from_slice(&out.stdout).unwrap());
        }
        found.is_some()
    });
    found.unwrap()
}
