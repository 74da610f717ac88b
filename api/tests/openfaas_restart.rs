//! OpenFaaS async calls across restarts, on a platform whose data directory outlives it: a call
//! accepted before a "crash" (its attempt left in the log without a record) runs again and calls
//! back; a callback cut short by a stop after the call's record was written is delivered exactly
//! once after the restart, with the headers and body of the first time; a delivered callback is
//! never sent again; a callback that kept failing is recorded as given up and not retried.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod callback_receiver;
mod common;

use callback_receiver::CallbackReceiver;
use common::Client;
use serde_json::json;
use std::time::Duration;

fn deploy(client: &Client, body: serde_json::Value) {
    let reply = client.post("/system/functions", &body);
    assert!(
        matches!(reply.status, 200 | 202),
        "deploy {body}: {} {}",
        reply.status,
        reply.text
    );
}

/// A platform on a data directory that outlives it (stopped and started again by the test).
struct DurableServer {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DurableServer {
    fn start(data_dir: &std::path::Path) -> Self {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let dir = data_dir.to_path_buf();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let platform = api::Platform::start(&dir, common::test_options())
                    .await
                    .unwrap();
                ready_tx.send(platform.url()).unwrap();
                let _ = stop_rx.await;
                platform.handle().stop(false).await;
                let _ = platform.wait().await;
            });
        });
        let url = ready_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        DurableServer {
            url,
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

#[test]
fn an_async_call_accepted_before_a_crash_runs_again_after_the_restart_and_calls_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = DurableServer::start(&data);
    let key = std::fs::read_to_string(data.join("guest.auth"))
        .unwrap()
        .trim()
        .to_owned();
    let guest = Client::new(&server.url, Some(&key));
    deploy(&guest, json!({"service": "echo", "envProcess": "cat"}));
    let version = guest.get("/api/v1/namespaces/_/actions/echo").json["version"]
        .as_str()
        .unwrap()
        .parse::<store::SemVer>()
        .unwrap();
    server.stop();

    // What a crash leaves in the log: the 202'd call's acceptance (the request and the callback
    // in its parameters) with no record.
    let receiver = CallbackReceiver::start(&[]);
    let lost = store::ActivationId::generate();
    {
        let store = store::Store::open(&data, store::StoreOptions::default()).unwrap();
        let params = json!({
            "__whirl_http": {"method": "POST", "path": "/", "query": "", "headers": [],
                             "body": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"survived")},
            "__whirl_async": {"callId": "call-restart", "attempt": 1, "callbackUrl": receiver.url},
        });
        let accepted = store::InvocationAccepted {
            activation_id: lost,
            action: store::FullyQualifiedName::new("guest", "echo"),
            version,
            params: store::JsonText::from_value(&params),
            blocking: false,
            cause: None,
            by: store::ChangedBy::System,
        };
        store::EventLog::append_blocking(
            store.log(),
            vec![store::Event::InvocationAccepted(accepted)],
        )
        .unwrap();
    }

    let server = DurableServer::start(&data);
    let guest = Client::new(&server.url, Some(&key));
    let got = receiver
        .next(Duration::from_secs(20))
        .expect("no callback after the restart");
    assert_eq!(got.body, b"survived");
    assert_eq!(got.headers["x-call-id"], "call-restart");
    assert_eq!(got.headers["x-function-status"], "200");
    // The lost attempt has its one record; the second attempt is linked to it.
    let first = guest.get(&format!("/api/v1/namespaces/_/activations/{lost}"));
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["response"]["status"], "whisk internal error");
    let records = guest
        .get("/api/v1/namespaces/_/activations?name=echo&docs=true")
        .json;
    let second = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cause"] == json!(lost.to_string()))
        .expect("a second attempt caused by the lost one")
        .clone();
    assert_eq!(second["response"]["success"], true);
    assert!(second["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["key"] == "openfaas.attempt" && a["value"] == 2));
    server.stop();
}

/// A data directory with `echo` deployed; the guest key.
fn platform_with_echo(data: &std::path::Path) -> (DurableServer, String) {
    let server = DurableServer::start(data);
    let key = std::fs::read_to_string(data.join("guest.auth"))
        .unwrap()
        .trim()
        .to_owned();
    deploy(
        &Client::new(&server.url, Some(&key)),
        json!({"service": "echo", "envProcess": "cat"}),
    );
    (server, key)
}

/// Calls `/async-function/echo` with `body` and a callback; the reply must be 202.
fn call_async(url: &str, body: &[u8], call_id: &str, callback: &str) {
    let reply = Client::new(url, None).raw(
        "POST",
        "/async-function/echo",
        Some(body),
        &[
            ("X-Callback-Url", callback),
            ("X-Call-Id", call_id),
            ("Content-Type", "application/octet-stream"),
        ],
    );
    assert_eq!(reply.status, 202, "{}", reply.text);
}

/// The value of a record's annotation.
fn annotation(record: &serde_json::Value, key: &str) -> Option<serde_json::Value> {
    record["annotations"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| a["value"].clone())
}

/// The records named `name` annotated with `call_id`.
fn records_of_call(guest: &Client, name: &str, call_id: &str) -> Vec<serde_json::Value> {
    let list = guest.get(&format!(
        "/api/v1/namespaces/_/activations?name={name}&docs=true"
    ));
    assert_eq!(list.status, 200, "{}", list.text);
    list.json
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| annotation(r, "openfaas.callId") == Some(json!(call_id)))
        .cloned()
        .collect()
}

/// Polls until the call has `count` records named `name` (or fails after 20 s).
fn wait_for_records(
    guest: &Client,
    name: &str,
    call_id: &str,
    count: usize,
) -> Vec<serde_json::Value> {
    for _ in 0..400 {
        let records = records_of_call(guest, name, call_id);
        if records.len() >= count {
            return records;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{call_id} never had {count} {name} records");
}

#[test]
fn a_callback_cut_short_by_a_stop_is_delivered_once_after_the_restart_and_never_again() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (server, key) = platform_with_echo(&data);
    let guest = Client::new(&server.url, Some(&key));

    // Delivered before the stop, and recorded so.
    let delivered = CallbackReceiver::start(&[]);
    call_async(&server.url, b"first", "call-delivered", &delivered.url);
    let got = delivered
        .next(Duration::from_secs(20))
        .expect("no callback");
    assert_eq!(got.body, b"first");
    let record = wait_for_records(&guest, "echo:callback", "call-delivered", 1).remove(0);
    assert_eq!(record["response"]["status"], "success", "{record}");

    // Held: the receiver takes the connection and never answers, so the delivery is still
    // retrying (10 s per try) when Whirl stops, after the call's record was written.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = hole.local_addr().unwrap();
    let body: Vec<u8> = (0..=255u8).rev().cycle().take(3_000).collect();
    call_async(
        &server.url,
        &body,
        "call-held",
        &format!("http://{address}/callback"),
    );
    let attempt = wait_for_records(&guest, "echo", "call-held", 1).remove(0);
    assert_eq!(attempt["response"]["success"], true);
    std::thread::sleep(Duration::from_millis(300));
    assert!(records_of_call(&guest, "echo:callback", "call-held").is_empty());
    server.stop();
    drop(hole);

    // After the restart: the held callback arrives once, as it would have the first time.
    let receiver = CallbackReceiver::start_at(address, &[]);
    let server = DurableServer::start(&data);
    let guest = Client::new(&server.url, Some(&key));
    let got = receiver
        .next(Duration::from_secs(20))
        .expect("the held callback was not delivered after the restart");
    assert_eq!(got.path, "/callback");
    assert_eq!(got.body, body);
    assert_eq!(got.headers["x-call-id"], "call-held");
    assert_eq!(got.headers["x-function-status"], "200");
    assert_eq!(got.headers["x-function-name"], "echo");
    assert_eq!(got.headers["content-type"], "application/octet-stream");
    let seconds: f64 = got.headers["x-duration-seconds"].parse().unwrap();
    assert!((0.0..20.0).contains(&seconds), "{seconds}");
    assert!(
        receiver.next(Duration::from_secs(2)).is_none(),
        "delivered twice"
    );
    assert!(
        delivered.next(Duration::from_millis(100)).is_none(),
        "a delivered callback was sent again"
    );
    // One delivery record per call; the held one carried the attempt's answer.
    let held = wait_for_records(&guest, "echo:callback", "call-held", 1);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["response"]["status"], "success", "{}", held[0]);
    assert_eq!(held[0]["cause"], attempt["activationId"]);
    assert_eq!(
        records_of_call(&guest, "echo:callback", "call-delivered").len(),
        1
    );
    // Deliveries are not invocations of the function.
    assert_eq!(
        guest.get("/system/function/echo").json["invocationCount"],
        2.0
    );
    server.stop();

    // Another restart: nothing is sent again.
    let server = DurableServer::start(&data);
    let guest = Client::new(&server.url, Some(&key));
    assert!(
        receiver.next(Duration::from_secs(2)).is_none(),
        "sent again after a second restart"
    );
    assert!(delivered.next(Duration::from_millis(100)).is_none());
    for call_id in ["call-held", "call-delivered"] {
        assert_eq!(records_of_call(&guest, "echo:callback", call_id).len(), 1);
    }
    server.stop();
}

#[test]
fn a_callback_that_keeps_failing_is_recorded_as_given_up_and_not_retried_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (server, key) = platform_with_echo(&data);
    let guest = Client::new(&server.url, Some(&key));
    // Refuses every try (five), then would accept: a sixth POST would show up.
    let receiver = CallbackReceiver::start(&[500; 5]);
    call_async(&server.url, b"refused", "call-refused", &receiver.url);
    for n in 1..=5 {
        let got = receiver
            .next(Duration::from_secs(20))
            .unwrap_or_else(|| panic!("no try {n}"));
        assert_eq!(
            (got.answered, got.body.as_slice()),
            (500, b"refused".as_slice())
        );
    }
    let record = wait_for_records(&guest, "echo:callback", "call-refused", 1).remove(0);
    assert_eq!(
        record["response"]["status"], "application error",
        "{record}"
    );
    assert_eq!(record["response"]["result"]["deliveries"], 5);
    assert!(record["response"]["result"]["error"]
        .as_str()
        .unwrap()
        .contains("answered 500"));
    assert_eq!(
        annotation(&record, "openfaas.callbackUrl"),
        Some(json!(receiver.url))
    );
    server.stop();

    let server = DurableServer::start(&data);
    let guest = Client::new(&server.url, Some(&key));
    assert!(
        receiver.next(Duration::from_secs(3)).is_none(),
        "a given-up callback was retried after the restart"
    );
    assert_eq!(
        records_of_call(&guest, "echo:callback", "call-refused").len(),
        1
    );
    server.stop();
}
