//! The durable-queue path on real parts (sled store, process driver with python3, in-process bus)
//! with an in-memory [`InvocationQueue`] that redelivers what is not settled: queued invocations end
//! with exactly one record across controller and invoker restarts, platform failures are retried
//! with the policy's backoff and then dead-lettered, and a delivery whose record is already in the
//! log is settled without running. With a [`LocalFirstQueue`] in front, an invocation started
//! on the controller ahead of its delivery runs once and is recorded once: the delivery settles
//! it, runs it when the local run failed, and runs it after a crash took the local run away.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix::Addr;
use actors::controller_actor::ControllerActor;
use actors::core::controller::ControllerConfig;
use actors::core::ids::InvokerId;
use actors::core::pool::PoolConfig;
use actors::core::retry::RetryPolicy;
use actors::invoker_actor::{InvokerActor, InvokerConfig};
use actors::local_first_queue::LocalFirstQueue;
use actors::queue_consumer::{QueueConsumer, QueueConsumerConfig};
use actors::Restart;
use async_trait::async_trait;
use bridge::bus::{
    ActivationMessage, Bus, BusError, BusReceiver, DeliverySettlement, InProcessBus,
    InvocationQueue, QueuedDelivery,
};
use bridge::{ProcessDriver, ProcessDriverConfig};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
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
/// number after its delay. While `holding`, what is enqueued is stored and delivered only at
/// `release`; while `refusing`, enqueue fails (the queue did not store it).
struct MemoryQueue {
    deliveries: UnboundedSender<QueuedDelivery>,
    receiver: Mutex<Option<BusReceiver<QueuedDelivery>>>,
    journal: Arc<Mutex<QueueJournal>>,
    holding: AtomicBool,
    held: Mutex<Vec<ActivationMessage>>,
    refusing: AtomicBool,
}

impl MemoryQueue {
    fn new() -> Arc<Self> {
        let (deliveries, receiver) = unbounded_channel();
        Arc::new(MemoryQueue {
            deliveries,
            receiver: Mutex::new(Some(receiver)),
            journal: Arc::default(),
            holding: AtomicBool::new(false),
            held: Mutex::new(Vec::new()),
            refusing: AtomicBool::new(false),
        })
    }

    /// Delivers what was stored while holding (and goes on delivering at once).
    fn release(&self) {
        self.holding.store(false, Ordering::SeqCst);
        for message in std::mem::take(&mut *self.held.lock().unwrap()) {
            self.deliver(message, 1);
        }
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
        if self.refusing.load(Ordering::SeqCst) {
            return Err(BusError::Closed("the queue refuses".into()));
        }
        if self.holding.load(Ordering::SeqCst) {
            self.held.lock().unwrap().push(message.clone());
        } else {
            self.deliver(message.clone(), 1);
        }
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
    consumer: Arc<QueueConsumer>,
}

impl Platform {
    /// The queue as the API uses it: the memory queue behind a [`LocalFirstQueue`].
    fn local_first(&self) -> LocalFirstQueue {
        LocalFirstQueue::new(self.queue.clone(), self.consumer.clone())
    }
}

async fn platform(with_invoker: bool, retry: RetryPolicy) -> Platform {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("data"), StoreOptions::default()).unwrap();
    let (controller, invoker) =
        controller_and_invoker(&store, with_invoker, &dir.path().join("runtimes")).await;
    let queue = MemoryQueue::new();
    let consumer = consumer(&controller, &store, retry)
        .start(queue.clone())
        .await
        .unwrap();
    Platform {
        _dir: dir,
        store,
        controller,
        invoker,
        queue,
        consumer,
    }
}

fn consumer(
    controller: &Addr<ControllerActor>,
    store: &Store,
    retry: RetryPolicy,
) -> QueueConsumer {
    QueueConsumer::new(
        controller.clone(),
        store.clone(),
        Arc::new(SystemClock),
        QueueConsumerConfig {
            retry,
            working_every: Duration::from_millis(100),
            throttled_wait: Duration::from_millis(20),
        },
    )
}

/// A controller on `store` and (when asked) an invoker with the process driver, on a bus of their own.
async fn controller_and_invoker(
    store: &Store,
    with_invoker: bool,
    runtimes: &std::path::Path,
) -> (Addr<ControllerActor>, Option<Addr<InvokerActor>>) {
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
        let mut driver_config = ProcessDriverConfig::new(runtimes.to_path_buf());
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
    (controller, invoker)
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
            code: "import time\ndef main(args):\n    if args.get('runs'):\n        with open(args['runs'], 'a') as f:\n            f.write(str(args.get('n')) + '\\n')\n    time.sleep(args.get('sleep', 0))\n    if args.get('runs'):\n        open(args['runs'] + '.done', 'a').close()\n    return {'n': args.get('n')}\n".into(),
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
        activation_id: ActivationId::generate(),
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

/// A message whose run appends `n` to the file `runs` (so a test counts the runs).
fn counted_message(n: u32, sleep: f64, runs: &std::path::Path) -> ActivationMessage {
    let mut msg = message(n, sleep);
    msg.params = JsonText::from_value(
        &serde_json::json!({ "n": n, "sleep": sleep, "runs": runs.display().to_string() }),
    );
    msg
}

/// How often each `n` ran, from the `runs` file.
fn runs_of(runs: &std::path::Path) -> BTreeMap<u32, u32> {
    let mut counted = BTreeMap::new();
    for line in std::fs::read_to_string(runs).unwrap_or_default().lines() {
        *counted.entry(line.parse::<u32>().unwrap()).or_default() += 1;
    }
    counted
}

/// Waits until `ids` all have a record in the log (or fails after 30 s).
async fn recorded(
    store: &Store,
    ids: &[ActivationId],
) -> BTreeMap<ActivationId, Vec<ActivationDoc>> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let records = records(store);
        if ids.iter().all(|id| records.contains_key(id)) {
            return records;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not every invocation was recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
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

#[actix_rt::test]
async fn a_locally_started_invocation_runs_once_and_its_delivery_settles_it() {
    let p = platform(true, RetryPolicy::default()).await;
    let runs = p._dir.path().join("runs");
    let queue = p.local_first();
    p.queue.holding.store(true, Ordering::SeqCst);
    // 0 and 1: delivered while their local run is under way; 2 and 3: after their record.
    let msgs: Vec<_> = (0..4).map(|n| counted_message(n, 0.4, &runs)).collect();
    let ids: Vec<_> = msgs.iter().map(|m| m.activation_id).collect();
    queue.enqueue(&msgs[0]).await.unwrap();
    queue.enqueue_unacknowledged(&msgs[1]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    p.queue.release();
    p.queue.holding.store(true, Ordering::SeqCst);
    queue.enqueue(&msgs[2]).await.unwrap();
    queue.enqueue_unacknowledged(&msgs[3]).await.unwrap();
    recorded(&p.store, &ids[2..]).await;
    p.queue.release();
    let records = settled(&p, &ids).await;
    for id in &ids {
        assert_eq!(records[id].len(), 1, "activation {id}: {:?}", records[id]);
        assert_eq!(records[id][0].status, ActivationStatus::Success);
    }
    let journal = p.queue.journal.lock().unwrap();
    assert!(
        ids.iter().all(|id| journal.done[id] == 1),
        "settled more than once"
    );
    assert!(journal.retries.is_empty(), "{:?}", journal.retries);
    assert_eq!(
        runs_of(&runs),
        (0..4).map(|n| (n, 1)).collect::<BTreeMap<_, _>>()
    );
}

#[actix_rt::test]
async fn a_local_run_the_platform_fails_is_run_by_the_delivery() {
    // No invoker: the local run is refused, the delivery backs off and dead-letters it, once.
    let policy = RetryPolicy {
        max_attempts: 2,
        base_delay_ms: 20,
        max_delay_ms: 20,
    };
    let p = platform(false, policy).await;
    let msg = message(1, 0.0);
    let id = msg.activation_id;
    p.local_first().enqueue_unacknowledged(&msg).await.unwrap();
    let records = settled(&p, &[id]).await;
    assert_eq!(records[&id].len(), 1, "{:?}", records[&id]);
    assert_eq!(records[&id][0].status, ActivationStatus::WhiskInternalError);
}

#[actix_rt::test]
async fn an_unacknowledged_invocation_the_queue_refused_runs_here_only() {
    let p = platform(true, RetryPolicy::default()).await;
    let runs = p._dir.path().join("runs");
    p.queue.refusing.store(true, Ordering::SeqCst);
    let queue = p.local_first();
    let msg = counted_message(5, 0.0, &runs);
    let id = msg.activation_id;
    // Acknowledged, a refusal is an error and nothing runs.
    assert!(queue.enqueue(&message(6, 0.0)).await.is_err());
    queue.enqueue_unacknowledged(&msg).await.unwrap();
    let recorded = recorded(&p.store, &[id]).await;
    assert_eq!(recorded[&id].len(), 1);
    assert_eq!(recorded[&id][0].status, ActivationStatus::Success);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(records(&p.store).len(), 1, "the refused invocation ran");
    assert_eq!(runs_of(&runs), BTreeMap::from([(5, 1)]));
}

#[actix_rt::test]
async fn without_a_queue_or_an_invoker_an_unacknowledged_invocation_is_refused() {
    let p = platform(false, RetryPolicy::default()).await;
    p.queue.refusing.store(true, Ordering::SeqCst);
    let msg = message(1, 0.0);
    assert!(p.local_first().enqueue_unacknowledged(&msg).await.is_err());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(records(&p.store).is_empty());
}

#[actix_rt::test]
async fn a_controller_crash_during_a_local_run_leaves_the_queued_copy_to_run_once() {
    let p = platform(true, RetryPolicy::default()).await;
    let runs = p._dir.path().join("runs");
    p.queue.holding.store(true, Ordering::SeqCst);
    let msg = counted_message(3, 1.0, &runs);
    let id = msg.activation_id;
    // A first controller (its own actix system, as if another process on the same log) stores
    // the invocation in the queue and starts it; then its process dies mid-run.
    let (store, queue, dir) = (
        p.store.clone(),
        p.queue.clone(),
        p._dir.path().to_path_buf(),
    );
    let first = msg.clone();
    std::thread::spawn(move || {
        let system = actix_rt::System::new();
        system.block_on(async move {
            let (controller, _invoker) =
                controller_and_invoker(&store, true, &dir.join("runtimes-first")).await;
            let consumer = consumer(&controller, &store, RetryPolicy::default())
                .start(MemoryQueue::new())
                .await
                .unwrap();
            LocalFirstQueue::new(queue, consumer)
                .enqueue_unacknowledged(&first)
                .await
                .unwrap();
            // Started: the action is running when the process dies.
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while !runs_of(&runs_path(&dir)).contains_key(&3) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the local run never started"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        // Dropping the system drops its actors and tasks: the run's completion never comes.
    })
    .join()
    .unwrap();
    assert!(
        !records(&p.store).contains_key(&id),
        "recorded before the crash"
    );
    // The queue delivers its copy to the surviving controller, which runs and records it once.
    p.queue.release();
    let records = settled(&p, &[id]).await;
    assert_eq!(records[&id].len(), 1, "{:?}", records[&id]);
    assert_eq!(records[&id][0].status, ActivationStatus::Success);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(record_count(&p.store, &id), 1, "a second record came later");
    assert_eq!(
        runs_of(&runs).get(&3),
        Some(&2),
        "the crashed run and the queue's run"
    );
}

fn runs_path(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("runs")
}

fn record_count(store: &Store, id: &ActivationId) -> usize {
    records(store).get(id).map_or(0, Vec::len)
}

#[actix_rt::test]
async fn a_delivery_while_the_local_record_is_not_yet_durable_waits_for_it() {
    let p = platform(true, RetryPolicy::default()).await;
    let runs = p._dir.path().join("runs");
    let done = p._dir.path().join("runs.done");
    p.queue.holding.store(true, Ordering::SeqCst);
    let msg = counted_message(4, 0.3, &runs);
    let id = msg.activation_id;
    p.local_first().enqueue(&msg).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the local run never ended"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // A large write keeps the log's next flush busy, so the run's record is appended (the
    // controller forgets the run) well before it is durable; the delivery comes in between.
    let filler: Vec<Event> = (0..40_000)
        .map(|n| {
            let mut doc = records_filler(n);
            doc.logs = vec!["x".repeat(512)];
            Event::ActivationRecorded(doc)
        })
        .collect();
    let big = p.store.log().append(filler);
    tokio::time::sleep(Duration::from_millis(30)).await;
    p.queue.release();
    big.await.unwrap();
    let records = settled(&p, &[id]).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(records[&id].len(), 1, "{:?}", records[&id]);
    assert_eq!(record_count(&p.store, &id), 1, "recorded twice");
    assert_eq!(runs_of(&runs), BTreeMap::from([(4, 1)]), "ran twice");
}

/// A record of some other activation (filler for the log).
fn records_filler(n: u32) -> ActivationDoc {
    ActivationDoc {
        activation_id: ActivationId::generate(),
        namespace: "guest".into(),
        name: format!("filler{n}"),
        package: None,
        subject: "guest".into(),
        version: action().version,
        start_ms: 1,
        end_ms: 1,
        duration_ms: 0,
        cause: None,
        status: ActivationStatus::Success,
        result: JsonText::empty_array(),
        logs: Vec::new(),
        annotations: JsonText::empty_array(),
    }
}
