//! The web console's server side against a real platform: the embedded page and assets, the
//! console endpoints refusing requests without a valid key (and never asking the browser for
//! Basic credentials), the live event stream confined to the signed-in namespace, an entity's
//! history with who changed what, the live log's verification, and the statistics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use common::{python, Client, TestServer};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Creates a namespace through the admin routes; returns its `uuid:key`.
fn namespace_key(server: &TestServer, name: &str) -> String {
    let reply = server.anonymous().request_with(
        "POST",
        "/admin/v1/namespaces",
        Some(&json!({"name": name})),
        &[("Authorization", &format!("Bearer {}", server.admin_token))],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    format!(
        "{}:{}",
        reply.json["uuid"].as_str().unwrap(),
        reply.json["key"].as_str().unwrap()
    )
}

/// One server-sent event.
#[derive(Debug, Clone)]
struct SseEvent {
    event: String,
    data: Value,
}

/// Opens `/console/api/events` with `credentials`; the events arrive on the receiver.
fn open_events(server: &TestServer, credentials: &str) -> mpsc::Receiver<SseEvent> {
    open_events_from(server, credentials, "")
}

/// Opens `/console/api/events{query}`.
fn open_events_from(
    server: &TestServer,
    credentials: &str,
    query: &str,
) -> mpsc::Receiver<SseEvent> {
    let authorization = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    );
    let response = ureq::AgentBuilder::new()
        .build()
        .get(&format!("{}/console/api/events{query}", server.url))
        .set("Authorization", &authorization)
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_type(), "text/event-stream");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in BufReader::new(response.into_reader()).lines() {
            let Ok(line) = line else { return };
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                let data = serde_json::from_str(data).unwrap();
                if sender
                    .send(SseEvent {
                        event: event.clone(),
                        data,
                    })
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    let ready = receiver.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(ready.event, "ready");
    receiver
}

/// Collects events until one satisfies `until` (which is included); fails after 20 s.
fn events_until(
    receiver: &mpsc::Receiver<SseEvent>,
    until: impl Fn(&SseEvent) -> bool,
) -> Vec<SseEvent> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = receiver
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("the awaited event never came; seen: {seen:?}"));
        let done = until(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

fn invoke(client: &Client, name: &str) -> String {
    let reply = client.post(
        &format!("/api/v1/namespaces/_/actions/{name}?blocking=true"),
        &json!({"who": name}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json["activationId"].as_str().unwrap().to_owned()
}

#[test]
fn the_page_and_its_assets_are_served_from_the_binary() {
    let server = TestServer::start();
    let anonymous = server.anonymous();
    for path in ["/console", "/console/"] {
        let page = anonymous.get(path);
        assert_eq!(page.status, 200);
        assert!(page
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        assert!(
            page.text.contains("/console/assets/app.js"),
            "{}",
            page.text
        );
        assert!(page.text.contains("/console/assets/app.css"));
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
    }
    let script = anonymous.get("/console/assets/app.js");
    assert_eq!(script.status, 200);
    assert!(script
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.bytes.len() > 10_000, "the bundle holds CodeMirror");
    assert!(script.text.contains("/console/api/events"));
    let etag = script.header("etag").unwrap().to_owned();
    let again = anonymous.raw(
        "GET",
        "/console/assets/app.js",
        None,
        &[("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    assert!(again.bytes.is_empty());
    // Browsers get the gzipped copy.
    let gzipped = anonymous.raw(
        "GET",
        "/console/assets/app.js",
        None,
        &[("Accept-Encoding", "gzip, deflate, br")],
    );
    assert_eq!(gzipped.status, 200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(&gzipped.bytes[..2], &[0x1f, 0x8b]);
    assert!(gzipped.bytes.len() < script.bytes.len() / 2);
    assert_eq!(gzipped.header("vary"), Some("Accept-Encoding"));
    let refused = anonymous.raw(
        "GET",
        "/console/assets/app.js",
        None,
        &[("Accept-Encoding", "gzip;q=0, identity")],
    );
    assert_eq!(refused.header("content-encoding"), None);
    assert_eq!(refused.bytes, script.bytes);
    let styles = anonymous.get("/console/assets/app.css");
    assert_eq!(styles.status, 200);
    assert!(styles
        .header("content-type")
        .unwrap()
        .starts_with("text/css"));
    anonymous
        .get("/console/assets/nothing.js")
        .assert_error(404, "does not exist");
}

#[test]
fn console_event_stream_refuses_a_bad_from_and_takes_the_largest() {
    let server = TestServer::start();
    for from in ["abc", "-1", "1.5", "18446744073709551616", ""] {
        server
            .guest()
            .get(&format!("/console/api/events?from={from}"))
            .assert_error(400, "must be a non-negative integer");
    }
    // The largest seq there can be: the stream opens (`open_events_from` waits for its `ready`)
    // and the server goes on serving; nothing will ever come after it.
    let _events = open_events_from(&server, &server.guest, "?from=18446744073709551615");
    let session = server.guest().get("/console/api/session");
    assert_eq!(session.status, 200, "{}", session.text);
}

#[test]
fn console_endpoints_refuse_requests_without_a_valid_key() {
    let server = TestServer::start();
    let wrong = format!("{}:{}", uuid::Uuid::new_v4(), "0".repeat(64));
    for path in [
        "/console/api/session",
        "/console/api/events",
        "/console/api/stats",
        "/console/api/history/actions/hello",
        "/console/api/verify",
    ] {
        for client in [server.anonymous(), Client::new(&server.url, Some(&wrong))] {
            let reply = client.get(path);
            assert_eq!(reply.status, 401, "{path}: {}", reply.text);
            assert!(reply.json["error"]
                .as_str()
                .unwrap()
                .contains("authentication"));
            // The browser must not open its own Basic dialog over the console's sign-in.
            assert_eq!(reply.header("www-authenticate"), None, "{path}");
        }
    }
    let session = server.guest().get("/console/api/session");
    assert_eq!(session.status, 200, "{}", session.text);
    assert_eq!(session.json["namespace"], "guest");
    assert_eq!(
        session.json["uuid"].as_str().unwrap(),
        server.guest.split(':').next().unwrap()
    );
}

#[test]
fn the_event_stream_carries_only_the_signed_in_namespace() {
    let server = TestServer::start();
    let alice_key = namespace_key(&server, "alice");
    let alice = Client::new(&server.url, Some(&alice_key));
    let guest = server.guest();
    let guest_events = open_events(&server, &server.guest);
    let alice_events = open_events(&server, &alice_key);

    let code = python("def main(args):\n    return args");
    assert_eq!(
        alice.put("/api/v1/namespaces/_/actions/echo", &code).status,
        200
    );
    assert_eq!(
        guest.put("/api/v1/namespaces/_/actions/echo", &code).status,
        200
    );
    let alice_first = invoke(&alice, "echo");
    let guest_id = invoke(&guest, "echo");
    let alice_second = invoke(&alice, "echo");

    // Records stream in log order: anything of alice's recorded before guest's own record
    // would have come first on guest's stream.
    let seen = events_until(&guest_events, |e| {
        e.event == "activation" && e.data["activationId"] == guest_id.as_str()
    });
    assert!(seen.iter().any(|e| e.event == "entity"
        && e.data == json!({"kind": "actions", "name": "echo", "event": "ActionPut"})));
    for event in &seen {
        let text = event.data.to_string();
        assert!(!text.contains(&alice_first), "{text}");
        assert!(!text.contains("alice"), "{text}");
    }
    let activation = &seen.last().unwrap().data;
    assert_eq!(activation["namespace"], "guest");
    assert_eq!(activation["name"], "echo");
    assert_eq!(activation["statusCode"], 0);

    let seen = events_until(&alice_events, |e| {
        e.event == "activation" && e.data["activationId"] == alice_second.as_str()
    });
    let ids: Vec<&str> = seen
        .iter()
        .filter(|e| e.event == "activation")
        .map(|e| e.data["activationId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [alice_first.as_str(), alice_second.as_str()]);
    assert!(seen
        .iter()
        .all(|e| e.data.get("namespace").is_none_or(|ns| ns == "alice")));

    // A reconnecting client resumes from a seq: the log is read again from there, still
    // confined to its namespace.
    let resumed = open_events_from(&server, &server.guest, "?from=1");
    let replayed = events_until(&resumed, |e| {
        e.event == "activation" && e.data["activationId"] == guest_id.as_str()
    });
    assert!(replayed.iter().any(|e| e.event == "entity"
        && e.data["kind"] == "namespaces"
        && e.data["name"] == "guest"));
    assert!(replayed
        .iter()
        .all(|e| !e.data.to_string().contains("alice")));
}

#[test]
fn history_shows_every_change_with_its_key_and_diff_in_the_callers_namespace() {
    let server = TestServer::start();
    let guest = server.guest();
    let created = guest.put(
        "/api/v1/namespaces/_/actions/hello",
        &python("def main(args):\n    return {'v': 1}"),
    );
    assert_eq!(created.status, 200);
    let updated = guest.put(
        "/api/v1/namespaces/_/actions/hello?overwrite=true",
        &python("def main(args):\n    return {'v': 2}"),
    );
    assert_eq!(updated.status, 200);

    let history = guest.get("/console/api/history/actions/hello");
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(history.json["entity"], "guest/actions/hello");
    let changes = history.json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{}", history.text);
    let uuid = server.guest.split(':').next().unwrap();
    for change in changes {
        assert_eq!(change["event"], "ActionPut");
        assert_eq!(change["by"], "key");
        assert_eq!(change["key"], uuid);
        assert_eq!(change["own_key"], true);
    }
    assert_eq!(changes[0]["fields"][0]["path"], "(created)");
    assert!(changes[0]["seq"].as_u64() < changes[1]["seq"].as_u64());
    let fields = changes[1]["fields"].as_array().unwrap();
    let code = fields
        .iter()
        .find(|field| field["path"] == "exec.Code.code")
        .unwrap_or_else(|| panic!("no code change in {fields:?}"));
    assert_eq!(code["before"], "def main(args):\n    return {'v': 1}");
    assert_eq!(code["after"], "def main(args):\n    return {'v': 2}");
    assert!(fields.iter().any(|field| field["path"] == "version.patch"));

    // Another namespace sees only its own entities.
    let alice = Client::new(&server.url, Some(&namespace_key(&server, "alice")));
    alice
        .get("/console/api/history/actions/hello")
        .assert_error(404, "alice/actions/hello");
    alice
        .get("/console/api/history/namespaces/guest")
        .assert_error(403, "guest");
    let own = alice.get("/console/api/history/namespaces/alice");
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.json["changes"][0]["event"], "NamespaceCreated");
    assert_eq!(own.json["changes"][0]["by"], "admin");
    guest
        .get("/console/api/history/widgets/hello")
        .assert_error(400, "entity kind");
}

#[test]
fn the_live_log_verifies_and_statistics_count_cold_and_warm_starts() {
    let server = TestServer::start();
    let guest = server.guest();
    assert_eq!(
        guest
            .put(
                "/api/v1/namespaces/_/actions/twice",
                &python("def main(args):\n    return {}")
            )
            .status,
        200
    );
    invoke(&guest, "twice");
    invoke(&guest, "twice");
    let failing = guest.put(
        "/api/v1/namespaces/_/actions/fails",
        &python("def main(args):\n    return {'error': 'no'}"),
    );
    assert_eq!(failing.status, 200);
    let failed = guest.post(
        "/api/v1/namespaces/_/actions/fails?blocking=true",
        &json!({}),
    );
    assert_eq!(failed.status, 502);

    let verify = guest.get("/console/api/verify");
    assert_eq!(verify.status, 200, "{}", verify.text);
    assert_eq!(verify.json["valid"], true, "{}", verify.text);
    let records = verify.json["records"].as_u64().unwrap();
    assert!(records >= 8, "{}", verify.text);
    assert_eq!(verify.json["head_seq"].as_u64(), Some(records));
    assert_eq!(verify.json["head_hash"].as_str().unwrap().len(), 64);
    assert_eq!(verify.json["bad_seq"], Value::Null);

    let stats = guest.get("/console/api/stats");
    assert_eq!(stats.status, 200, "{}", stats.text);
    let twice = &stats.json["functions"]["twice"]["total"];
    assert_eq!(twice["invocations"], 2, "{}", stats.text);
    assert_eq!(twice["cold"], 1, "{}", stats.text);
    assert_eq!(twice["warm"], 1);
    assert_eq!(twice["errors"], 0);
    let fails = &stats.json["functions"]["fails"]["total"];
    assert_eq!(fails["errors"], 1);
    let overall = &stats.json["overall"];
    assert_eq!(overall["total"]["invocations"], 3);
    assert_eq!(overall["invocations"].as_array().unwrap().len(), 60);
    assert_eq!(
        overall["invocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>(),
        3
    );
    assert_eq!(stats.json["bucket_ms"], 60_000);
    let pool = &stats.json["pool"];
    let containers: u64 = pool["containers"]
        .as_object()
        .unwrap_or_else(|| panic!("no pool in {}", stats.text))
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert!(containers >= 2, "two actions ran: {}", stats.text);
    assert!(pool["cold_starts"].as_u64().unwrap() >= 2);
    guest
        .get("/console/api/stats?minutes=0")
        .assert_error(400, "minutes");
    // Another namespace's statistics are its own (empty).
    let alice = Client::new(&server.url, Some(&namespace_key(&server, "alice")));
    let theirs = alice.get("/console/api/stats");
    assert_eq!(theirs.json["overall"]["total"]["invocations"], 0);
    assert_eq!(theirs.json["functions"], json!({}));
}
