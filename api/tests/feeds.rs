//! Alarm feeds end to end on a real platform: a trigger, a rule and an action; an interval feed
//! created through `/whisk.system/alarms/interval` as `wsk trigger create --feed` does; the
//! action's activations appear; the platform restarts on the same data directory and the feed
//! resumes with one catch-up fire and no occurrence fired twice; DELETE stops the fires. And the
//! lifecycle's refusals (bad cron, foreign key, duplicate, missing feed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use api::{Platform, PlatformOptions};
use common::{python, test_options, Client};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use store::{Event, EventLog, Store, StoreOptions};

/// A platform with its alarm feeds on a data directory that outlives it.
struct FeedServer {
    url: String,
    data_dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FeedServer {
    fn start(data_dir: &Path) -> Self {
        let options = PlatformOptions {
            create_guest: true,
            ..test_options()
        };
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let dir = data_dir.to_path_buf();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let platform = Platform::start(&dir, options).await.unwrap();
                api::feeds::start_alarm_feeds(platform.state()).unwrap();
                ready_tx.send(platform.url()).unwrap();
                let _ = stop_rx.await;
                platform.handle().stop(false).await;
                let _ = platform.wait().await;
            });
        });
        let url = ready_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        Self {
            url,
            data_dir: data_dir.to_path_buf(),
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn guest_credentials(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join("guest.auth"))
        .unwrap()
        .trim()
        .to_owned()
}

/// Invokes a feed action blocking, as `wsk trigger create --feed` does; (status, result).
fn feed_action(client: &Client, action: &str, params: Value) -> (u16, Value) {
    let reply = client.post(
        &format!(
            "/api/v1/namespaces/whisk.system/actions/alarms/{action}?blocking=true&result=true"
        ),
        &params,
    );
    (reply.status, reply.json)
}

/// The trigger activations of `name`, oldest first.
fn trigger_activations(client: &Client, name: &str) -> Vec<Value> {
    let reply = client.get(&format!(
        "/api/v1/namespaces/_/activations?name={name}&limit=200&docs=true"
    ));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let mut list = reply.json.as_array().unwrap().clone();
    list.reverse();
    list
}

/// Every `FeedFired` checkpoint in the log of a stopped platform, in log order.
fn checkpoints(data_dir: &Path) -> Vec<u64> {
    let store = Store::open(data_dir, StoreOptions::default()).unwrap();
    let records = store
        .log()
        .subscribe(1)
        .next_batch(1_000_000, Duration::from_millis(10))
        .unwrap();
    records
        .into_iter()
        .filter_map(|record| match record.event {
            Event::FeedFired { fired_up_to_ms, .. } => Some(fired_up_to_ms),
            _ => None,
        })
        .collect()
}

fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    (dir, data)
}

#[test]
fn an_interval_feed_fires_resumes_after_a_restart_without_duplicates_and_stops_on_delete() {
    let (_dir, data) = data_dir();
    let server = FeedServer::start(&data);
    let key = guest_credentials(&data);
    let guest = Client::new(&server.url, Some(&key));
    let made = guest.put(
        "/api/v1/namespaces/_/actions/record",
        &python("def main(a):\n    return {'from': a.get('from'), 'missed': a.get('missed')}"),
    );
    assert_eq!(made.status, 200, "{}", made.text);
    let trigger = guest.put(
        "/api/v1/namespaces/_/triggers/tick",
        &json!({"annotations": [{"key": "feed", "value": "/whisk.system/alarms/interval"}]}),
    );
    assert_eq!(trigger.status, 200, "{}", trigger.text);
    let rule = guest.put(
        "/api/v1/namespaces/_/rules/on-tick",
        &json!({"trigger": "/_/tick", "action": "/_/record"}),
    );
    assert_eq!(rule.status, 200, "{}", rule.text);

    let (status, result) = feed_action(
        &guest,
        "interval",
        json!({"lifecycleEvent": "CREATE", "triggerName": "/guest/tick", "authKey": key,
               "seconds": 1, "trigger_payload": {"from": "alarm"}}),
    );
    assert_eq!((status, &result), (200, &json!({"status": "success"})));
    std::thread::sleep(Duration::from_millis(3_400));

    let fired = trigger_activations(&guest, "tick");
    assert!(fired.len() >= 2, "{fired:?}");
    for record in &fired {
        assert_eq!(record["response"]["result"]["from"], "alarm", "{record}");
        let logs = record["logs"].as_array().unwrap();
        assert_eq!(logs.len(), 1, "one line per rule: {record}");
    }
    // The rule's action ran with the payload.
    let mut ran = Vec::new();
    for _ in 0..100 {
        ran = trigger_activations(&guest, "record");
        if !ran.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!ran.is_empty());
    assert_eq!(
        ran[0]["response"]["result"]["from"], "alarm",
        "{:?}",
        ran[0]
    );

    let (status, read) = feed_action(
        &guest,
        "interval",
        json!({"lifecycleEvent": "READ", "triggerName": "/guest/tick", "authKey": key}),
    );
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["config"]["seconds"], 1);
    assert_eq!(read["config"]["payload"], json!({"from": "alarm"}));
    assert_eq!(read["status"]["active"], true);
    assert!(read["status"]["firedUpTo"].is_string(), "{read}");

    // Down for 2.5 s: about two occurrences fall due meanwhile.
    server.stop();
    let before_restart = checkpoints(&data);
    std::thread::sleep(Duration::from_millis(2_500));
    let server = FeedServer::start(&data);
    let guest = Client::new(&server.url, Some(&key));
    std::thread::sleep(Duration::from_millis(2_300));
    let after_restart = trigger_activations(&guest, "tick");
    let catch_up = &after_restart[fired.len().max(before_restart.len())..];
    assert!(!catch_up.is_empty(), "no fire after the restart");
    assert!(
        catch_up
            .iter()
            .any(|record| record["response"]["result"]["missed"].as_u64() >= Some(1)),
        "no catch-up fire with \"missed\": {catch_up:?}"
    );

    let (status, deleted) = feed_action(
        &guest,
        "interval",
        json!({"lifecycleEvent": "DELETE", "triggerName": "/guest/tick", "authKey": key}),
    );
    assert_eq!((status, &deleted), (200, &json!({"status": "success"})));
    let at_delete = trigger_activations(&guest, "tick").len();
    std::thread::sleep(Duration::from_millis(2_200));
    assert_eq!(
        trigger_activations(&guest, "tick").len(),
        at_delete,
        "fires after DELETE"
    );
    let total = at_delete;
    server.stop();

    // Every fire has exactly one checkpoint, strictly increasing across the restart: no
    // occurrence fired twice.
    let all = checkpoints(&data);
    assert!(all.len() > before_restart.len());
    assert!(all.windows(2).all(|pair| pair[0] < pair[1]), "{all:?}");
    assert_eq!(all.len(), total, "fires {total} vs checkpoints {all:?}");
}

#[test]
fn the_lifecycle_refuses_bad_requests_with_the_provider_s_errors() {
    let (_dir, data) = data_dir();
    let server = FeedServer::start(&data);
    let key = guest_credentials(&data);
    let guest = Client::new(&server.url, Some(&key));
    guest.put("/api/v1/namespaces/_/triggers/t", &json!({}));

    // The catalog lists the feed actions, annotated as feeds.
    let listed = guest.get("/api/v1/namespaces/whisk.system/actions/alarms/");
    assert_eq!(listed.status, 200, "{}", listed.text);
    let names: Vec<&str> = listed
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for name in ["alarm", "interval", "once"] {
        assert!(names.contains(&name), "{names:?}");
    }

    let base = |extra: Value| {
        let mut params = json!({"triggerName": "/guest/t", "authKey": key});
        params
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        params
    };
    let (status, result) = feed_action(&guest, "alarm", base(json!({"cron": "61 * * * *"})));
    assert_eq!(status, 502, "{result}");
    assert_eq!(result["statusCode"], 400);
    assert!(
        result["error"].as_str().unwrap().starts_with("cron:"),
        "{result}"
    );

    let other = server_namespace_key(&server, "other");
    let (status, result) = feed_action(
        &guest,
        "alarm",
        json!({"triggerName": "/guest/t", "authKey": other, "cron": "* * * * *"}),
    );
    assert_eq!(
        (status, result["statusCode"].as_u64()),
        (502, Some(403)),
        "{result}"
    );

    let (status, result) = feed_action(&guest, "alarm", base(json!({"lifecycleEvent": "READ"})));
    assert_eq!(
        (status, result["statusCode"].as_u64()),
        (502, Some(404)),
        "{result}"
    );

    let (status, _) = feed_action(&guest, "alarm", base(json!({"cron": "0 9 * * MON-FRI"})));
    assert_eq!(status, 200);
    let (status, result) = feed_action(&guest, "alarm", base(json!({"cron": "* * * * *"})));
    assert_eq!(
        (status, result["statusCode"].as_u64()),
        (502, Some(409)),
        "{result}"
    );
    let (status, result) = feed_action(
        &guest,
        "alarm",
        base(json!({"lifecycleEvent": "UPDATE", "cron": "30 9 * * *", "trigger_payload": "hi"})),
    );
    assert_eq!(status, 200, "{result}");
    let (_, read) = feed_action(&guest, "alarm", base(json!({"lifecycleEvent": "READ"})));
    assert_eq!(read["config"]["cron"], "30 9 * * *");
    assert_eq!(read["config"]["payload"], json!({"payload": "hi"}));

    let (status, result) = feed_action(&guest, "alarm", base(json!({"lifecycleEvent": "PAUSE"})));
    assert_eq!(
        (status, result["statusCode"].as_u64()),
        (502, Some(400)),
        "{result}"
    );
    server.stop();
}

/// Creates a namespace through the admin routes; its `uuid:key`.
fn server_namespace_key(server: &FeedServer, name: &str) -> String {
    let token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let reply = Client::new(&server.url, None).request_with(
        "POST",
        "/admin/v1/namespaces",
        Some(&json!({"name": name, "limits": {}})),
        &[("Authorization", &format!("Bearer {}", token.trim()))],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    format!(
        "{}:{}",
        reply.json["uuid"].as_str().unwrap(),
        reply.json["key"].as_str().unwrap()
    )
}

#[test]
fn a_feed_whose_trigger_was_deleted_through_the_api_removes_itself_at_its_next_fire() {
    let (_dir, data) = data_dir();
    let server = FeedServer::start(&data);
    let key = guest_credentials(&data);
    let guest = Client::new(&server.url, Some(&key));
    assert_eq!(
        guest
            .put("/api/v1/namespaces/_/triggers/gone", &json!({}))
            .status,
        200
    );
    let (status, result) = feed_action(
        &guest,
        "interval",
        json!({"triggerName": "/_/gone", "authKey": key, "seconds": 1}),
    );
    assert_eq!(status, 200, "{result}");
    // Deleted without the feed's DELETE (not as wsk does it).
    assert_eq!(
        guest.delete("/api/v1/namespaces/_/triggers/gone").status,
        200
    );
    std::thread::sleep(Duration::from_millis(1_600));
    assert_eq!(
        guest
            .put("/api/v1/namespaces/_/triggers/gone", &json!({}))
            .status,
        200
    );
    let (status, read) = feed_action(
        &guest,
        "interval",
        json!({"lifecycleEvent": "READ", "triggerName": "/_/gone", "authKey": key}),
    );
    assert_eq!(
        (status, read["statusCode"].as_u64()),
        (502, Some(404)),
        "{read}"
    );
    assert!(trigger_activations(&guest, "gone").is_empty());
    server.stop();
}
