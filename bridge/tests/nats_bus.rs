//! The NATS bus against a real nats-server: every message kind crosses from one connection to
//! another intact (bincode of the same types), activations reach only their invoker and in
//! order, completions, start notices and pings reach every subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bridge::bus::{
    ActivationMessage, ActivationStarted, Bus, BusMessageKind, CompletionMessage, InvokerPing,
    NatsBus,
};
use store::{
    ActionDoc, ActionLimits, ActivationDoc, ActivationId, ActivationStatus, ChangedBy, Exec,
    JsonText, SemVer,
};

struct NatsServer {
    child: Child,
    url: String,
}

impl NatsServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server must be installed (the test command installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        NatsServer {
            child,
            url: format!("nats://127.0.0.1:{port}"),
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn activation(invoker: &str, n: u8) -> ActivationMessage {
    ActivationMessage {
        activation_id: ActivationId([n; 16]),
        transaction_id: format!("tx{n}"),
        invoker: invoker.into(),
        action: ActionDoc {
            namespace: "guest".into(),
            package: Some("tools".into()),
            name: "hello".into(),
            version: SemVer::default(),
            publish: false,
            exec: Exec::Code {
                kind: "python:3".into(),
                code: "def main(a):\n    return a\n".into(),
                binary: false,
                main: None,
            },
            annotations: JsonText::from_value(&serde_json::json!([{"key": "a", "value": 1}])),
            parameters: JsonText::empty_array(),
            limits: ActionLimits::default(),
            updated_ms: 7,
        },
        params: JsonText::from_value(&serde_json::json!({"name": "Ada"})),
        subject: "guest".into(),
        by: ChangedBy::System,
        api_key: Some("uuid:key".into()),
        blocking: true,
        cause: Some(ActivationId([9; 16])),
        accepted_at_ms: 1_000,
        caused_by: Some("sequence".into()),
    }
}

fn completion(n: u8) -> CompletionMessage {
    CompletionMessage {
        invoker: "invoker1".into(),
        record: ActivationDoc {
            activation_id: ActivationId([n; 16]),
            namespace: "guest".into(),
            name: "hello".into(),
            package: None,
            subject: "guest".into(),
            version: SemVer::default(),
            start_ms: 1,
            end_ms: 2,
            duration_ms: 1,
            cause: None,
            status: ActivationStatus::Success,
            result: JsonText::from_value(&serde_json::json!({"ok": true})),
            logs: vec!["2026-11-26T00:00:00.000000000Z stdout: hi".into()],
            annotations: JsonText::empty_array(),
        },
        recorded: false,
        system_error: false,
    }
}

async fn next<T>(receiver: &mut tokio::sync::mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), receiver.recv())
        .await
        .expect("nothing arrived")
        .expect("the subscription closed")
}

/// Returns once the server has every subscription `subscriber` made so far. `flush` only empties
/// the client's buffer into the socket; the server handles one connection's operations in order, so
/// once a subscription made after the others hears a publish from `publisher`, all are in place.
async fn subscriptions_ready(subscriber: &async_nats::Client, publisher: &async_nats::Client) {
    use futures::StreamExt;
    let subject = subscriber.new_inbox();
    let mut ready = subscriber.subscribe(subject.clone()).await.unwrap();
    subscriber.flush().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        publisher
            .publish(subject.clone(), "ready".into())
            .await
            .unwrap();
        publisher.flush().await.unwrap();
        if tokio::time::timeout(Duration::from_millis(100), ready.next())
            .await
            .is_ok()
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server never confirmed the subscriptions"
        );
    }
}

#[tokio::test]
async fn every_message_crosses_intact_to_the_right_subscribers() {
    let nats = NatsServer::start();
    let controller = NatsBus::connect(&nats.url, "controller").await.unwrap();
    let invoker = NatsBus::connect(&nats.url, "invoker").await.unwrap();

    let mut zero = invoker.subscribe_activations("invoker0").await.unwrap();
    let mut one = invoker.subscribe_activations("invoker1").await.unwrap();
    let mut completions_a = controller.subscribe_completions().await.unwrap();
    let mut completions_b = controller.subscribe_completions().await.unwrap();
    let mut pings = controller.subscribe_pings().await.unwrap();
    let mut started = controller.subscribe_started().await.unwrap();
    subscriptions_ready(invoker.client(), controller.client()).await;
    subscriptions_ready(controller.client(), invoker.client()).await;

    for n in 1..=20 {
        let to = if n % 4 == 0 { "invoker1" } else { "invoker0" };
        controller.send_activation(activation(to, n)).await.unwrap();
    }
    for n in (1..=20).filter(|n| n % 4 != 0) {
        assert_eq!(next(&mut zero).await, activation("invoker0", n), "in order");
    }
    for n in (1..=20).filter(|n| n % 4 == 0) {
        assert_eq!(next(&mut one).await, activation("invoker1", n));
    }

    invoker.publish_completion(completion(3)).await.unwrap();
    assert_eq!(next(&mut completions_a).await, completion(3));
    assert_eq!(next(&mut completions_b).await, completion(3));

    let ping = InvokerPing {
        invoker: "invoker1".into(),
        incarnation: 42,
        user_memory_mb: 2048,
        sent_at_ms: 5,
    };
    invoker.publish_ping(ping.clone()).await.unwrap();
    assert_eq!(next(&mut pings).await, ping);

    let notice = ActivationStarted {
        activation_id: ActivationId([3; 16]),
        invoker: "invoker1".into(),
    };
    invoker.publish_started(notice.clone()).await.unwrap();
    assert_eq!(next(&mut started).await, notice);
}

#[tokio::test]
async fn a_bad_server_address_is_an_error_naming_it() {
    let error = NatsBus::connect("not a url at all", "x").await.unwrap_err();
    assert!(error.to_string().contains("not a url at all"), "{error}");
}

#[tokio::test]
async fn the_bus_counts_what_it_carries_and_times_its_round_trip() {
    let server = NatsServer::start();
    let controller = NatsBus::connect(&server.url, "controller").await.unwrap();
    let invoker = NatsBus::connect(&server.url, "invoker").await.unwrap();
    let mut activations = invoker.subscribe_activations("invoker0").await.unwrap();
    let mut completions = controller.subscribe_completions().await.unwrap();
    subscriptions_ready(invoker.client(), controller.client()).await;
    subscriptions_ready(controller.client(), invoker.client()).await;

    for n in 1..=3 {
        controller
            .send_activation(activation("invoker0", n))
            .await
            .unwrap();
        next(&mut activations).await;
    }
    invoker.publish_completion(completion(1)).await.unwrap();
    next(&mut completions).await;

    let (sent, heard) = (controller.stats(), invoker.stats());
    assert_eq!(sent.published(BusMessageKind::Activation), 3);
    assert_eq!(heard.received(BusMessageKind::Activation), 3);
    assert_eq!(heard.published(BusMessageKind::Completion), 1);
    assert_eq!(sent.received(BusMessageKind::Completion), 1);
    assert_eq!(sent.received(BusMessageKind::Activation), 0);
    assert_eq!(sent.publish_failures() + sent.decode_failures(), 0);

    // A message that does not decode is dropped and counted.
    controller
        .client()
        .publish(
            format!("{}.completions", bridge::bus::SUBJECT_PREFIX),
            vec![0xff].into(),
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while controller.stats().decode_failures() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no decode failure counted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The first probe goes at connect: one round trip through the server, well under a second.
    while controller.stats().round_trip.snapshot().count == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no round trip measured"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let round_trip = controller.stats().round_trip.snapshot();
    assert_eq!(round_trip.count, 1);
    assert!(round_trip.sum_micros < 1_000_000, "{round_trip:?}");
    assert_eq!(controller.stats().probe_failures(), 0);
}
