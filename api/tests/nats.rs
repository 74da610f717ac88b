//! The platform on a real nats-server: triggers fired by a NATS publish (and a NATS request,
//! which answers the activation id), the records published on `whirl.activations.*`, and bad
//! messages answered with an error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use api::PlatformOptions;
use common::nats::NatsServer;
use common::{python, test_options, TestServer};
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

#[test]
fn a_publish_fires_a_trigger_like_http_and_records_are_published() {
    let nats = NatsServer::start();
    let server = TestServer::start_with(PlatformOptions {
        nats: Some(nats.url.clone()),
        ..test_options()
    });
    let guest = server.guest();
    let code = "def main(args):\n    return {'seen': args.get('door'), 'p': args.get('p')}\n";
    assert_eq!(
        guest
            .put("/api/v1/namespaces/_/actions/greet", &python(code))
            .status,
        200
    );
    let trigger = json!({"parameters": [{"key": "p", "value": "from-trigger"}]});
    assert_eq!(
        guest
            .put("/api/v1/namespaces/_/triggers/door", &trigger)
            .status,
        200
    );
    let rule = json!({"trigger": "/_/door", "action": "/_/greet"});
    assert_eq!(guest.put("/api/v1/namespaces/_/rules/r", &rule).status, 200);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(&nats.url).await.unwrap();
        let mut records = client.subscribe("whirl.activations.guest.>").await.unwrap();
        client.flush().await.unwrap();
        let answer = client
            .request("whirl.triggers.guest.door", r#"{"door":"open"}"#.into())
            .await
            .unwrap();
        let answer: Value = serde_json::from_slice(&answer.payload).unwrap();
        let trigger_activation = answer["activationId"].as_str().unwrap().to_owned();
        assert_eq!(trigger_activation.len(), 32, "{answer}");

        // The trigger's record and the action's record come out on the records subjects.
        let mut action_record = None;
        let mut trigger_record = None;
        while action_record.is_none() || trigger_record.is_none() {
            let message = tokio::time::timeout(Duration::from_secs(20), records.next())
                .await
                .expect("no record published")
                .unwrap();
            let record: Value = serde_json::from_slice(&message.payload).unwrap();
            match message.subject.as_str() {
                "whirl.activations.guest.greet" => action_record = Some(record),
                "whirl.activations.guest.door" => trigger_record = Some(record),
                other => panic!("unexpected subject {other}"),
            }
        }
        let action_record = action_record.unwrap();
        assert_eq!(
            action_record["response"]["result"],
            json!({"seen": "open", "p": "from-trigger"})
        );
        assert_eq!(action_record["cause"], trigger_activation.as_str());
        assert_eq!(
            trigger_record.unwrap()["activationId"],
            trigger_activation.as_str()
        );

        // A plain publish (no reply) fires too: its rule's invocation starts at once on the
        // controller while JetStream stores it, and is recorded once.
        client
            .publish("whirl.triggers.guest.door", r#"{"door":"shut"}"#.into())
            .await
            .unwrap();
        let mut shut_records = 0;
        // Until the first record (20 s at most), then 1.5 s more for a second one.
        let mut wait = Duration::from_secs(20);
        while let Ok(Some(message)) = tokio::time::timeout(wait, records.next()).await {
            let record: Value = serde_json::from_slice(&message.payload).unwrap();
            if record["response"]["result"]["seen"] == "shut" {
                shut_records += 1;
                wait = Duration::from_millis(1500);
            }
        }
        assert_eq!(
            shut_records, 1,
            "the publish's action was recorded more than once"
        );

        // Bad messages are answered with an error, and fire nothing.
        for (subject, body, expected) in [
            ("whirl.triggers.guest.door", "[1,2]", "JSON object"),
            ("whirl.triggers.guest.door", "{not json", "not valid JSON"),
            ("whirl.triggers.guest.nosuch", "{}", "does not exist"),
        ] {
            let answer = client.request(subject, body.into()).await.unwrap();
            let answer: Value = serde_json::from_slice(&answer.payload).unwrap();
            let error = answer["error"].as_str().unwrap_or_default();
            assert!(error.contains(expected), "{subject} {body}: {answer}");
        }
    });
    // JetStream stored both fires' invocations and their deliveries were settled.
    let (messages, delivered) = settled_queue_state(&nats.url);
    assert_eq!((messages, delivered), (0, 2), "queue after the fires");
}

#[test]
fn a_subject_feed_fires_its_trigger_for_every_message_until_deleted() {
    let nats = NatsServer::start();
    let server = TestServer::start_with(PlatformOptions {
        nats: Some(nats.url.clone()),
        ..test_options()
    });
    let guest = server.guest();
    let code = "def main(args):\n    return {'celsius': args.get('celsius'), 'message': args.get('message')}\n";
    assert_eq!(
        guest
            .put("/api/v1/namespaces/_/actions/thermo", &python(code))
            .status,
        200
    );
    assert_eq!(
        guest
            .put("/api/v1/namespaces/_/triggers/sensor", &json!({}))
            .status,
        200
    );
    let rule = json!({"trigger": "/_/sensor", "action": "/_/thermo"});
    assert_eq!(guest.put("/api/v1/namespaces/_/rules/r", &rule).status, 200);
    let feed = |event: &str, subject: &str| {
        guest.post(
            "/api/v1/namespaces/whisk.system/actions/nats/subject?blocking=true&result=true",
            &json!({
                "lifecycleEvent": event,
                "triggerName": "/guest/sensor",
                "authKey": server.guest,
                "subject": subject,
            }),
        )
    };
    let created = feed("CREATE", "sensors.temperature");
    assert_eq!(created.status, 200, "{}", created.text);
    let read = feed("READ", "");
    assert_eq!(
        read.json["config"]["subject"], "sensors.temperature",
        "{}",
        read.text
    );
    let refused = feed("UPDATE", "whirl.triggers.guest.sensor");
    assert_eq!(refused.status, 502, "{}", refused.text);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(&nats.url).await.unwrap();
        let mut records = client
            .subscribe("whirl.activations.guest.thermo")
            .await
            .unwrap();
        client.flush().await.unwrap();
        // The feed subscribes once it has read its creation from the log.
        let mut seen = None;
        for _ in 0..50 {
            client
                .publish("sensors.temperature", r#"{"celsius":21}"#.into())
                .await
                .unwrap();
            client.flush().await.unwrap();
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(200), records.next()).await
            {
                seen = Some(serde_json::from_slice::<Value>(&message.payload).unwrap());
                break;
            }
        }
        let record = seen.expect("the subject feed never fired");
        assert_eq!(record["response"]["result"]["celsius"], 21);
        // Drain what the retries fired.
        while tokio::time::timeout(Duration::from_millis(500), records.next())
            .await
            .is_ok()
        {}
        client
            .publish("sensors.temperature", "plain text".into())
            .await
            .unwrap();
        let message = tokio::time::timeout(Duration::from_secs(10), records.next())
            .await
            .expect("a text message fired nothing")
            .unwrap();
        let record: Value = serde_json::from_slice(&message.payload).unwrap();
        assert_eq!(record["response"]["result"]["message"], "plain text");
    });

    let deleted = feed("DELETE", "");
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    runtime.block_on(async {
        let client = async_nats::connect(&nats.url).await.unwrap();
        let mut records = client
            .subscribe("whirl.activations.guest.thermo")
            .await
            .unwrap();
        client.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        client
            .publish("sensors.temperature", r#"{"celsius":99}"#.into())
            .await
            .unwrap();
        client.flush().await.unwrap();
        let after = tokio::time::timeout(Duration::from_secs(2), records.next()).await;
        assert!(after.is_err(), "a deleted feed still fired");
    });
}

/// The queue's stream and consumer, as JetStream reports them: (messages stored, deliveries made).
fn queue_state(url: &str) -> (u64, u64) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let jetstream = async_nats::jetstream::new(client);
        let mut stream = jetstream
            .get_stream(bridge::bus::QUEUE_STREAM)
            .await
            .unwrap();
        let messages = stream.info().await.unwrap().state.messages;
        let consumer: async_nats::jetstream::consumer::PullConsumer = stream
            .get_consumer(bridge::bus::QUEUE_CONSUMER)
            .await
            .unwrap();
        let mut consumer = consumer;
        let delivered = consumer.info().await.unwrap().delivered.stream_sequence;
        (messages, delivered)
    })
}

/// [`queue_state`] once nothing is left in the stream (or after 10 s).
fn settled_queue_state(url: &str) -> (u64, u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let state = queue_state(url);
        if state.0 == 0 || std::time::Instant::now() > deadline {
            return state;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_non_blocking_invocation_is_accepted_through_jetstream_and_runs_once() {
    let nats = NatsServer::start();
    let server = TestServer::start_with(PlatformOptions {
        nats: Some(nats.url.clone()),
        ..test_options()
    });
    let guest = server.guest();
    let code = "def main(args):\n    return {'twice': args.get('n', 0) * 2}\n";
    assert_eq!(
        guest
            .put("/api/v1/namespaces/_/actions/double", &python(code))
            .status,
        200
    );
    let mut ids = Vec::new();
    for n in 0..3 {
        let accepted = guest.post("/api/v1/namespaces/_/actions/double", &json!({"n": n}));
        assert_eq!(accepted.status, 202, "{}", accepted.text);
        ids.push(accepted.json["activationId"].as_str().unwrap().to_owned());
    }
    for (n, id) in ids.iter().enumerate() {
        let record = common::wait_for_activation(&guest, id);
        assert_eq!(
            record.json["response"]["status"], "success",
            "{}",
            record.text
        );
        assert_eq!(record.json["response"]["result"], json!({"twice": n * 2}));
    }
    // JetStream carried all three, and each was settled (a work queue keeps nothing settled;
    // the controller started each at once and settles the queue's delivery once it recorded it).
    let (messages, delivered) = settled_queue_state(&nats.url);
    assert_eq!(delivered, 3, "deliveries");
    assert_eq!(messages, 0, "settled invocations left in the queue");
    // A blocking invocation does not go through the queue.
    let blocking = guest.post(
        "/api/v1/namespaces/_/actions/double?blocking=true&result=true",
        &json!({"n": 21}),
    );
    assert_eq!(blocking.json, json!({"twice": 42}), "{}", blocking.text);
    assert_eq!(queue_state(&nats.url).0, 0);
}

#[test]
fn platform_failures_are_retried_with_backoff_then_dead_lettered() {
    let nats = NatsServer::start();
    // A controller without any invoker: every attempt fails on the platform.
    let server = TestServer::start_with(PlatformOptions {
        nats: Some(nats.url.clone()),
        start_invoker: false,
        durable_async: api::queue::DurableAsyncOptions {
            retry: actors::core::retry::RetryPolicy {
                max_attempts: 3,
                base_delay_ms: 100,
                max_delay_ms: 1_000,
            },
            ..api::queue::DurableAsyncOptions::default()
        },
        ..test_options()
    });
    let guest = server.guest();
    let code = "def main(args):\n    return {}\n";
    assert_eq!(
        guest
            .put("/api/v1/namespaces/_/actions/nowhere", &python(code))
            .status,
        200
    );
    let started = std::time::Instant::now();
    let accepted = guest.post("/api/v1/namespaces/_/actions/nowhere", &json!({}));
    assert_eq!(accepted.status, 202, "{}", accepted.text);
    let id = accepted.json["activationId"].as_str().unwrap().to_owned();
    let record = common::wait_for_activation(&guest, &id);
    // Two backoffs (100 ms, then 200 ms) passed before the third attempt gave up.
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        record.json["response"]["status"], "whisk internal error",
        "{}",
        record.text
    );
    let error = record.json["response"]["result"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("failed 3 times") && error.contains("No invokers available"),
        "{error}"
    );
    let annotation = |key: &str| {
        record.json["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
    };
    assert_eq!(annotation("deadLetter"), Some(json!(true)));
    assert_eq!(annotation("attempts"), Some(json!(3)));
    let (messages, delivered) = queue_state(&nats.url);
    assert_eq!((messages, delivered), (0, 1), "settled once dead-lettered");
}

#[test]
fn queued_invocations_are_throttled_when_accepted() {
    let nats = NatsServer::start();
    let mut options = PlatformOptions {
        nats: Some(nats.url.clone()),
        ..test_options()
    };
    options.controller.throttles.invocations_per_minute = 2;
    let server = TestServer::start_with(options);
    let guest = server.guest();
    assert_eq!(
        guest
            .put(
                "/api/v1/namespaces/_/actions/hi",
                &python("def main(a):\n    return {}\n")
            )
            .status,
        200
    );
    for _ in 0..2 {
        assert_eq!(
            guest
                .post("/api/v1/namespaces/_/actions/hi", &json!({}))
                .status,
            202
        );
    }
    let refused = guest.post("/api/v1/namespaces/_/actions/hi", &json!({}));
    refused.assert_error(429, "Too many requests");
    // Nothing refused reached the queue.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(queue_state(&nats.url).1, 2);
}
