//! The durable-queue path on real parts (sled store, process driver with python3, in-process bus)
//! with an in-memory [`InvocationQueue`] that redelivers what is not settled: queued invocations end
//! with exactly one record across controller and invoker restarts, platform failures are retried
//! with the policy's backoff and then dead-lettered, and a delivery whose record is already in the
//! log is settled without running.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix::Addr;
use actors::controller_actor::ControllerActor;
use actors::core::controller::ControllerConfig;
use actors::core::ids::InvokerId;
use actors::core::pool::PoolConfig;
use actors::core::retry::RetryPolicy;
use actors::invoker_actor::{InvokerActor, InvokerConfig};
use actors::queue_consumer::{QueueConsumer, QueueConsumerConfig};
use actors::Restart;
use async_trait::async_trait;
use bridge::bus::{
    ActivationMessage, Bus, BusError, BusReceiver, DeliverySettlement, InProcessBus,
    InvocationQueue, QueuedDelivery,
};
use bridge::{ProcessDriver, ProcessDriverConfig};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{
    ActionDoc, ActionLimits, ActivationDoc, ActivationId, ActivationStatus, ChangedBy, Event,
    EventLog, Exec, JsonText, SemVer, Store, StoreOptions, SystemClock,
};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// What happened to each activation in the queue.
#[derive(Default)]
struct QueueJournal {
    done: BTreeMap<ActivationId, u32>,
    retries: Vec<(ActivationId, u32, Duration)>,
}

/// An in-memory queue: a delivery sent back with `retry_after` comes again with the next attempt
/// number after its delay.
struct MemoryQueue {
    deliveries: UnboundedSender<QueuedDelivery>,
    receiver: Mutex<Option<BusReceiver<QueuedDelivery>>>,
    journal: Arc<Mutex<QueueJournal>>,
}

impl MemoryQueue {
    fn new() -> Arc<Self> {
        let (deliveries, receiver) = unbounded_channel();
        Arc::new(MemoryQueue {
            deliveries,
            receiver: Mutex::new(Some(receiver)),
            journal: Arc::default(),
        })
    }

    fn deliver(&self, message: ActivationMessage, attempt: u32) {
        let settlement = MemorySettlement {
            message: message.clone(),
            attempt,
            deliveries: self.deliveries.clone(),
            journal: self.journal.clone(),
        };
        let _ = self.deliveries.send(QueuedDelivery {
            message,
            attempt,
            settlement: Box::new(settlement),
        });
    }
}

#[async_trait]
impl InvocationQueue for MemoryQueue {
    async fn enqueue(&self, message: &ActivationMessage) -> Result<(), BusError> {
        self.deliver(message.clone(), 1);
        Ok(())
    }

    async fn deliveries(&self) -> Result<BusReceiver<QueuedDelivery>, BusError> {
        self.receiver
            .lock()
            .unwrap()
            .take()
            .ok_or_else(|| BusError::Closed("taken".into()))
    }
}

struct MemorySettlement {
    message: ActivationMessage,
    attempt: u32,
    deliveries: UnboundedSender<QueuedDelivery>,
    journal: Arc<Mutex<QueueJournal>>,
}

#[async_trait]
impl DeliverySettlement for MemorySettlement {
    async fn done(&self) -> Result<(), BusError> {
        *self
            .journal
            .lock()
            .unwrap()
            .done
            .entry(self.message.activation_id)
            .or_default() += 1;
        Ok(())
    }

    async fn retry_after(&self, delay: Duration) -> Result<(), BusError> {
        self.journal.lock().unwrap().retries.push((
            self.message.activation_id,
            self.attempt,
            delay,
        ));
        let next = MemorySettlement {
            message: self.message.clone(),
            attempt: self.attempt + 1,
            deliveries: self.deliveries.clone(),
            journal: self.journal.clone(),
        };
        let deliveries = self.deliveries.clone();
        let message = self.message.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let attempt = next.attempt;
            let _ = deliveries.send(QueuedDelivery {
                message,
                attempt,
                settlement: Box::new(next),
            });
        });
        Ok(())
    }

    async fn working(&self) -> Result<(), BusError> {
        Ok(())
    }
}

struct Platform {
    _dir: tempfile::TempDir,
    store: Store,
    controller: Addr<ControllerActor>,
    invoker: Option<Addr<InvokerActor>>,
    queue: Arc<MemoryQueue>,
}

async fn platform(with_invoker: bool, retry: RetryPolicy) -> Platform {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("data"), StoreOptions::default()).unwrap();
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let clock = Arc::new(SystemClock);
    let controller = ControllerActor::new(
        ControllerConfig::default(),
        store.clone(),
        bus.clone(),
        clock.clone(),
    )
    .with_tick(Duration::from_millis(200))
    .start_supervised()
    .await
    .unwrap();
    let invoker = if with_invoker {
        let mut driver_config = ProcessDriverConfig::new(dir.path().join("runtimes"));
        driver_config.stem_cells.clear();
        let driver = Arc::new(ProcessDriver::start(driver_config).await.unwrap());
        let pool = PoolConfig {
            user_memory_mb: 1024,
            ..PoolConfig::default()
        };
        Some(
            InvokerActor::new(
                InvokerConfig::new(InvokerId(0), pool),
                driver,
                bus,
                clock.clone(),
            )
            .start_supervised()
            .await
            .unwrap(),
        )
    } else {
        None
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let queue = MemoryQueue::new();
    QueueConsumer::new(
        controller.clone(),
        store.clone(),
        clock,
        QueueConsumerConfig {
            retry,
            working_every: Duration::from_millis(100),
            throttled_wait: Duration::from_millis(20),
        },
    )
    .start(queue.clone())
    .await
    .unwrap();
    Platform {
        _dir: dir,
        store,
        controller,
        invoker,
        queue,
    }
}

fn action() -> ActionDoc {
    ActionDoc {
        namespace: "guest".into(),
        package: None,
        name: "slow".into(),
        version: SemVer {
            major: 0,
            minor: 0,
            patch: 1,
        },
        publish: false,
        exec: Exec::Code {
            kind: "python:3".into(),
            code: "import time\ndef main(args):\n    time.sleep(args.get('sleep', 0))\n    return {'n': args.get('n')}\n".into(),
            binary: false,
            main: None,
        },
        annotations: JsonText::empty_array(),
        parameters: JsonText::empty_array(),
        limits: ActionLimits {
            timeout_ms: 10_000,
            memory_mb: 128,
            ..ActionLimits::default()
        },
        updated_ms: 0,
    }
}

fn message(n: u32, sleep: f64) -> ActivationMessage {
    ActivationMessage {
        activation_id: ActivationId::random(),
        transaction_id: "test".into(),
        invoker: String::new(),
        action: action(),
        params: JsonText::from_value(&serde_json::json!({ "n": n, "sleep": sleep })),
        subject: "guest".into(),
        by: ChangedBy::System,
        api_key: None,
        blocking: false,
        cause: None,
        accepted_at_ms: 0,
        caused_by: None,
    }
}

/// Every record in the log, by activation id.
fn records(store: &Store) -> BTreeMap<ActivationId, Vec<ActivationDoc>> {
    let mut by_id: BTreeMap<ActivationId, Vec<ActivationDoc>> = BTreeMap::new();
    for record in store.log().read_from(0) {
        if let Event::ActivationRecorded(doc) = record.unwrap().event {
            by_id.entry(doc.activation_id).or_default().push(doc);
        }
    }
    by_id
}

/// Waits until every id is settled done, then returns the records.
async fn settled(p: &Platform, ids: &[ActivationId]) -> BTreeMap<ActivationId, Vec<ActivationDoc>> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let all_done = {
            let journal = p.queue.journal.lock().unwrap();
            ids.iter().all(|id| journal.done.contains_key(id))
        };
        if all_done {
            return records(&p.store);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not every delivery was settled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_rt::test]
async fn queued_invocations_survive_controller_and_invoker_restarts_and_are_recorded_once() {
    let p = platform(true, RetryPolicy::default()).await;
    let mut ids = Vec::new();
    for n in 0..12 {
        let msg = message(n, 0.3);
        ids.push(msg.activation_id);
        p.queue.enqueue(&msg).await.unwrap();
        if n == 4 {
            // Let the first ones start, then restart the invoker under them: they are retried.
            tokio::time::sleep(Duration::from_millis(150)).await;
            p.invoker.as_ref().unwrap().send(Restart).await.unwrap();
        }
        if n == 8 {
            p.controller.send(Restart).await.unwrap();
        }
    }
    let records = settled(&p, &ids).await;
    for id in &ids {
        let of_id = records.get(id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(of_id.len(), 1, "activation {id}: {of_id:?}");
        assert_eq!(of_id[0].status, ActivationStatus::Success, "{:?}", of_id[0]);
    }
    let journal = p.queue.journal.lock().unwrap();
    assert!(
        ids.iter().all(|id| journal.done[id] == 1),
        "settled more than once"
    );
    // The invoker's restart cut some runs short: those came back through the queue.
    assert!(!journal.retries.is_empty(), "nothing was retried");
    assert!(journal
        .retries
        .iter()
        .all(|(_, attempt, delay)| *attempt == 1 && *delay == Duration::from_millis(500)));
}

#[actix_rt::test]
async fn without_invokers_a_queued_invocation_backs_off_then_is_dead_lettered() {
    let policy = RetryPolicy {
        max_attempts: 4,
        base_delay_ms: 20,
        max_delay_ms: 50,
    };
    let p = platform(false, policy).await;
    let msg = message(1, 0.0);
    let id = msg.activation_id;
    p.queue.enqueue(&msg).await.unwrap();
    let records = settled(&p, &[id]).await;
    let record = &records[&id];
    assert_eq!(record.len(), 1);
    assert_eq!(record[0].status, ActivationStatus::WhiskInternalError);
    let result = record[0].result.to_value().unwrap();
    assert_eq!(
        result["error"],
        "The invocation failed 4 times and was given up: No invokers available."
    );
    let annotations = record[0].annotations.to_value().unwrap();
    assert!(annotations
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({"key": "deadLetter", "value": true})));
    let journal = p.queue.journal.lock().unwrap();
    let delays: Vec<_> = journal.retries.iter().map(|(_, a, d)| (*a, *d)).collect();
    assert_eq!(
        delays,
        vec![
            (1, Duration::from_millis(20)),
            (2, Duration::from_millis(40)),
            (3, Duration::from_millis(50)),
        ]
    );
}

#[actix_rt::test]
async fn a_delivery_already_recorded_is_settled_without_running() {
    let p = platform(true, RetryPolicy::default()).await;
    let msg = message(7, 0.0);
    let id = msg.activation_id;
    // The record of an earlier delivery is durable; its settlement was lost (a crash).
    let mut earlier = ActivationDoc {
        activation_id: id,
        namespace: "guest".into(),
        name: "slow".into(),
        package: None,
        subject: "guest".into(),
        version: msg.action.version,
        start_ms: 1,
        end_ms: 2,
        duration_ms: 1,
        cause: None,
        status: ActivationStatus::Success,
        result: JsonText::from_value(&serde_json::json!({"n": "earlier"})),
        logs: Vec::new(),
        annotations: JsonText::empty_array(),
    };
    earlier.logs.push("earlier run".into());
    p.store
        .log()
        .append(vec![Event::ActivationRecorded(earlier)])
        .await
        .unwrap();
    p.queue.enqueue(&msg).await.unwrap();
    let records = settled(&p, &[id]).await;
    assert_eq!(records[&id].len(), 1, "{:?}", records[&id]);
    assert_eq!(records[&id][0].logs, vec!["earlier run".to_owned()]);
}
