//! `whirl trigger create --feed` and `whirl trigger delete` against a real `whirl serve`, as wsk
//! does them: the trigger is annotated with its feed, the feed action gets CREATE (with the `-p`
//! parameters) and DELETE, a refused feed leaves no trigger behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use server::Server;

/// The feed's READ answer (or the error result) for trigger `name`.
fn read_feed(server: &Server, name: &str) -> serde_json::Value {
    let out = server.whirl(&[
        "action",
        "invoke",
        "/whisk.system/alarms/alarm",
        "--result",
        "-p",
        "lifecycleEvent",
        "READ",
        "-p",
        "triggerName",
        &format!("/_/{name}"),
        "-p",
        "authKey",
        &server.auth,
    ]);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn trigger_create_with_a_feed_and_delete_drive_the_feed_lifecycle() {
    let server = Server::start();
    let created = server.ok(&[
        "trigger",
        "create",
        "nightly",
        "--feed",
        "/whisk.system/alarms/alarm",
        "-p",
        "cron",
        "0 3 * * *",
        "-p",
        "trigger_payload",
        "{\"job\":\"backup\"}",
    ]);
    assert!(created.contains("created trigger nightly"), "{created}");
    let trigger: serde_json::Value =
        serde_json::from_str(&server.ok(&["trigger", "get", "nightly", "--json"])).unwrap();
    let annotations = trigger["annotations"].as_array().unwrap();
    assert!(
        annotations
            .iter()
            .any(|a| a["key"] == "feed" && a["value"] == "/whisk.system/alarms/alarm"),
        "{trigger}"
    );
    // The parameters went to the feed, not to the trigger.
    assert_eq!(trigger["parameters"], serde_json::json!([]), "{trigger}");
    let read = read_feed(&server, "nightly");
    assert_eq!(read["config"]["cron"], "0 3 * * *", "{read}");
    assert_eq!(
        read["config"]["payload"],
        serde_json::json!({"job": "backup"})
    );
    assert_eq!(read["status"]["active"], true);

    // A cron the feed refuses: the error names the field and no trigger is left.
    let refused = server.whirl(&[
        "trigger",
        "create",
        "broken",
        "--feed",
        "/whisk.system/alarms/alarm",
        "-p",
        "cron",
        "0 25 * * *",
    ]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("Unable to create trigger 'broken'") && stderr.contains("cron"),
        "{stderr}"
    );
    assert!(!server.whirl(&["trigger", "get", "broken"]).status.success());

    let deleted = server.whirl(&["trigger", "delete", "nightly"]);
    assert!(deleted.status.success());
    // The feed's DELETE succeeded (a refusal would be a warning).
    assert!(
        deleted.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    let gone = read_feed(&server, "nightly");
    assert_eq!(gone["statusCode"], 404, "{gone}");
}
