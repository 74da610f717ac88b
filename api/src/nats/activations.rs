//! Activation records for consumers: every `ActivationRecorded` of the log, once durable, is
//! published as JSON (the REST API's activation shape) on `whirl.activations.<namespace>.<name>`
//! (a name inside a package is `<package>.<name>`... see [`activation_subject`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use store::{Event, EventLog, Store};

use crate::wire::Activation;

/// The subject an activation record is published on: `whirl.activations.<namespace>.<name>`,
/// where a packaged action's name is `<package>.<name>` (NATS tokens are separated by dots;
/// subscribers use `whirl.activations.<namespace>.>` for all of a namespace).
pub fn activation_subject(namespace: &str, package: Option<&str>, name: &str) -> String {
    match package {
        Some(package) => format!("whirl.activations.{namespace}.{package}.{name}"),
        None => format!("whirl.activations.{namespace}.{name}"),
    }
}

/// Follows the log from the head at start and publishes each record; stops when dropped. One
/// thread waits for each flush, reads what it made durable and hands it to the NATS client
/// itself (the client's queue takes it without a runtime; no task hop on the way).
pub struct ActivationPublisher {
    stop: Arc<AtomicBool>,
}

impl ActivationPublisher {
    pub fn start(store: &Store, client: async_nats::Client) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut subscription = store.log().subscribe(store.head_seq() + 1);
        let stopping = Arc::clone(&stop);
        let reader = std::thread::Builder::new()
            .name("whirl-nats-activations".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    let batch = match subscription.next_batch(1024, Duration::from_millis(100)) {
                        Ok(batch) => batch,
                        Err(error) => {
                            tracing::error!(%error, "activation publishing stopped");
                            return;
                        }
                    };
                    for record in batch {
                        let Event::ActivationRecorded(doc) = &record.event else {
                            continue;
                        };
                        let subject =
                            activation_subject(&doc.namespace, doc.package.as_deref(), &doc.name);
                        let body = match serde_json::to_vec(&Activation::from_doc(doc)) {
                            Ok(body) => body,
                            Err(error) => {
                                tracing::warn!(%error, "cannot encode an activation");
                                continue;
                            }
                        };
                        let published =
                            futures::executor::block_on(client.publish(subject, body.into()));
                        if let Err(error) = published {
                            tracing::warn!(%error, "cannot publish an activation");
                        }
                    }
                }
            });
        if let Err(error) = reader {
            tracing::error!(%error, "cannot start the activation publisher");
        }
        ActivationPublisher { stop }
    }
}

impl Drop for ActivationPublisher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
