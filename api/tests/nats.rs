//! The platform on a real nats-server: triggers fired by a NATS publish (and a NATS request,
//! which answers the activation id), the records published on `whirl.activations.*`, and bad
//! messages answered with an error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use api::PlatformOptions;
use common::{python, test_options, TestServer};
use futures::StreamExt;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A nats-server on a free loopback port, killed on drop.
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

        // A plain publish (no reply) fires too.
        client
            .publish("whirl.triggers.guest.door", r#"{"door":"shut"}"#.into())
            .await
            .unwrap();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(20), records.next())
                .await
                .expect("the publish fired nothing")
                .unwrap();
            let record: Value = serde_json::from_slice(&message.payload).unwrap();
            if record["response"]["result"]["seen"] == "shut" {
                break;
            }
        }

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
