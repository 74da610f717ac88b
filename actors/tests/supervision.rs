//! The actors on real parts (sled store, process driver with python3, in-process bus): blocking and
//! non-blocking invocations end with their records, warm containers are reused, and stopping the
//! controller or the invoker in the middle of a load restarts it and leaves no accepted activation
//! without exactly one record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix::Addr;
use actors::controller_actor::{
    ControllerActor, ControllerStats, Detach, Detached, Invoke, InvokeBlocking,
};
use actors::core::controller::ControllerConfig;
use actors::core::ids::InvokerId;
use actors::core::pool::PoolConfig;
use actors::invoker_actor::{GetInvokerStats, InvokerActor, InvokerConfig};
use actors::Restart;
use bridge::bus::{ActivationMessage, Bus, InProcessBus};
use bridge::{ProcessDriver, ProcessDriverConfig};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use store::{
    ActionDoc, ActionLimits, ActivationDoc, ActivationId, ActivationStatus, ChangedBy, Event,
    EventLog, Exec, JsonText, SemVer, Store, StoreOptions, SystemClock,
};

struct Platform {
    _dir: tempfile::TempDir,
    store: Store,
    controller: Addr<ControllerActor>,
    invoker: Addr<InvokerActor>,
}

async fn platform() -> Platform {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("data"), StoreOptions::default()).unwrap();
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let clock = Arc::new(SystemClock);
    let mut driver_config = ProcessDriverConfig::new(dir.path().join("runtimes"));
    driver_config.stem_cells.clear();
    let driver = Arc::new(ProcessDriver::start(driver_config).await.unwrap());
    let config = ControllerConfig::default();
    // The controller first, so it hears the invoker's first ping.
    let controller = ControllerActor::new(config, store.clone(), bus.clone(), clock.clone())
        .with_tick(Duration::from_millis(200))
        .start_supervised()
        .await
        .unwrap();
    let pool = PoolConfig {
        user_memory_mb: 1024,
        ..PoolConfig::default()
    };
    let invoker = InvokerActor::new(InvokerConfig::new(InvokerId(0), pool), driver, bus, clock)
        .start_supervised()
        .await
        .unwrap();
    // Wait for the invoker's first ping to register it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    Platform {
        _dir: dir,
        store,
        controller,
        invoker,
    }
}

fn action(name: &str, code: &str) -> ActionDoc {
    ActionDoc {
        namespace: "guest".into(),
        package: None,
        name: name.into(),
        version: SemVer {
            major: 0,
            minor: 0,
            patch: 1,
        },
        publish: false,
        exec: Exec::Code {
            kind: "python:3".into(),
            code: code.into(),
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

fn message(action: &ActionDoc, params: serde_json::Value, blocking: bool) -> ActivationMessage {
    ActivationMessage {
        activation_id: ActivationId::generate(),
        transaction_id: "test".into(),
        invoker: String::new(),
        action: action.clone(),
        params: JsonText::from_value(&params),
        subject: "guest".into(),
        by: ChangedBy::System,
        api_key: None,
        blocking,
        cause: None,
        accepted_at_ms: 0,
        caused_by: None,
    }
}

/// Counts the records per activation id in the whole log.
fn records_per_activation(store: &Store) -> BTreeMap<ActivationId, usize> {
    let mut counts = BTreeMap::new();
    for record in store.log().read_from(0) {
        if let Event::ActivationRecorded(doc) = record.unwrap().event {
            *counts.entry(doc.activation_id).or_insert(0) += 1;
        }
    }
    counts
}

/// Invokes blocking and returns the durable record.
async fn invoke_blocking(
    p: &Platform,
    action: &ActionDoc,
    params: serde_json::Value,
) -> ActivationDoc {
    let accepted = p
        .controller
        .send(Invoke {
            message: message(action, params, true),
            wait_for_record: true,
        })
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), accepted.result.unwrap())
        .await
        .unwrap()
        .unwrap()
}

const SLOW: &str = "import time\ndef main(args):\n    time.sleep(args.get('sleep', 0))\n    return {'n': args.get('n')}\n";

#[actix_rt::test]
async fn blocking_invocations_return_durable_records_and_reuse_warm_containers() {
    let p = platform().await;
    let hello = action("hello", "def main(args):\n    print('hi', args.get('name'))\n    return {'greeting': 'hello ' + args.get('name', 'stranger')}\n");
    for n in 0..3 {
        let record =
            invoke_blocking(&p, &hello, serde_json::json!({ "name": format!("n{n}") })).await;
        assert_eq!(record.status, ActivationStatus::Success, "{record:?}");
        assert_eq!(
            record.result.to_value().unwrap()["greeting"],
            format!("hello n{n}")
        );
        assert!(
            record.logs.iter().any(|l| l.contains(" stdout: hi n")),
            "{:?}",
            record.logs
        );
        // Durable: the projection has it once caught up.
        p.store
            .projections()
            .wait_applied(p.store.head_seq(), Duration::from_secs(5))
            .unwrap();
        assert!(p
            .store
            .projections()
            .activation(&record.activation_id)
            .unwrap()
            .is_some());
    }
    let stats = p.invoker.send(GetInvokerStats).await.unwrap();
    assert_eq!(stats.counters.cold_starts, 1, "{stats:?}");
    assert_eq!(stats.counters.warm_starts, 2, "{stats:?}");
}

#[actix_rt::test]
async fn developer_errors_are_recorded_and_the_broken_container_is_replaced() {
    let p = platform().await;
    // An exception is an application error, as OpenWhisk's Python launcher reports it.
    let raises = action("raises", "def main(args):\n    raise ValueError('boom')\n");
    let record = invoke_blocking(&p, &raises, serde_json::json!({})).await;
    assert_eq!(
        record.status,
        ActivationStatus::ApplicationError,
        "{record:?}"
    );
    assert_eq!(
        record.result.to_value().unwrap()["error"],
        "ValueError: boom"
    );
    // A result that is not a JSON object is a developer error, and the container is replaced.
    let broken = action("broken", "def main(args):\n    return 42\n");
    for _ in 0..2 {
        let record = invoke_blocking(&p, &broken, serde_json::json!({})).await;
        assert_eq!(
            record.status,
            ActivationStatus::ActionDeveloperError,
            "{record:?}"
        );
    }
    let syntax = action("syntax", "def main(args)\n    return {}\n");
    let record = invoke_blocking(&p, &syntax, serde_json::json!({})).await;
    assert_eq!(
        record.status,
        ActivationStatus::ActionDeveloperError,
        "{record:?}"
    );
    // raises: one container, kept; broken: a fresh container each time; syntax: one.
    let stats = p.invoker.send(GetInvokerStats).await.unwrap();
    assert_eq!(stats.counters.cold_starts, 4, "{stats:?}");
}

async fn load_with_restarts(restart_controller: bool, restart_invoker: bool) {
    let p = platform().await;
    let slow = action("slow", SLOW);
    let mut accepted_ids = Vec::new();
    let mut waiting = Vec::new();
    for n in 0..24 {
        let blocking = n % 2 == 0;
        let msg = message(
            &slow,
            serde_json::json!({ "n": n, "sleep": 0.05 }),
            blocking,
        );
        if blocking {
            // Blocking callers: nothing reaches the log before the record.
            let accepted = p
                .controller
                .send(InvokeBlocking { message: msg })
                .await
                .unwrap()
                .unwrap();
            accepted_ids.push(accepted.activation_id);
            waiting.push(accepted.result);
        } else {
            let accepted = p
                .controller
                .send(Invoke {
                    message: msg,
                    wait_for_record: false,
                })
                .await
                .unwrap()
                .unwrap();
            // Non-blocking callers are answered once the acceptance is durable.
            accepted.durable.await.unwrap();
            accepted_ids.push(accepted.activation_id);
        }
        if n == 8 && restart_invoker {
            p.invoker.send(Restart).await.unwrap();
        }
        if n == 12 && restart_controller {
            p.controller.send(Restart).await.unwrap();
        }
    }
    // Every accepted activation ends with exactly one record.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let counts = records_per_activation(&p.store);
        if accepted_ids.iter().all(|id| counts.contains_key(id)) {
            for id in &accepted_ids {
                assert_eq!(
                    counts[id], 1,
                    "activation {id} recorded {} times",
                    counts[id]
                );
            }
            assert_eq!(
                counts.len(),
                accepted_ids.len(),
                "records for activations never accepted"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "activations without a record after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Blocking callers got an answer.
    for result in waiting {
        tokio::time::timeout(Duration::from_secs(5), result)
            .await
            .unwrap()
            .unwrap();
    }
    if restart_invoker {
        assert_eq!(p.invoker.send(GetInvokerStats).await.unwrap().restarts, 1);
    }
    if restart_controller {
        assert_eq!(
            p.controller.send(ControllerStats).await.unwrap().restarts,
            1
        );
    }
    // And the platform still works after the restarts.
    let record = invoke_blocking(&p, &slow, serde_json::json!({ "n": 99 })).await;
    assert_eq!(record.status, ActivationStatus::Success, "{record:?}");
}

#[actix_rt::test]
async fn an_invoker_stopped_under_load_restarts_and_every_activation_ends_once() {
    load_with_restarts(false, true).await;
}

#[actix_rt::test]
async fn a_controller_stopped_under_load_restarts_and_every_activation_ends_once() {
    load_with_restarts(true, false).await;
}

/// The acceptances (`InvocationAccepted`) in the whole log, by activation id.
fn acceptances(store: &Store) -> Vec<ActivationId> {
    store
        .log()
        .read_from(0)
        .filter_map(|record| match record.unwrap().event {
            Event::InvocationAccepted(accepted) => Some(accepted.activation_id),
            _ => None,
        })
        .collect()
}

#[actix_rt::test]
async fn a_blocking_invocation_reaches_the_log_with_its_record_unless_its_caller_detaches() {
    let p = platform().await;
    let slow = action("slow", SLOW);
    // Waited for to the end: one record, no acceptance of its own.
    let quick = p
        .controller
        .send(InvokeBlocking {
            message: message(&slow, serde_json::json!({ "sleep": 0.01 }), true),
        })
        .await
        .unwrap()
        .unwrap();
    let record = tokio::time::timeout(Duration::from_secs(10), quick.result)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, ActivationStatus::Success, "{record:?}");
    assert!(!acceptances(&p.store).contains(&quick.activation_id));
    // Its caller stops waiting while it runs: the acceptance is appended (and durable) before the
    // caller may hand out the id, so a crash now would still end it with a record.
    let long = p
        .controller
        .send(InvokeBlocking {
            message: message(&slow, serde_json::json!({ "sleep": 0.5 }), true),
        })
        .await
        .unwrap()
        .unwrap();
    match p
        .controller
        .send(Detach {
            activation_id: long.activation_id,
        })
        .await
        .unwrap()
    {
        Detached::Accepted(ticket) => {
            ticket.await.unwrap();
        }
        _ => panic!("a running blocking invocation detaches with its acceptance"),
    }
    assert!(acceptances(&p.store).contains(&long.activation_id));
    let pending = p.store.projections();
    pending
        .wait_applied(p.store.head_seq(), Duration::from_secs(5))
        .unwrap();
    assert!(pending
        .pending_invocations()
        .unwrap()
        .iter()
        .any(|accepted| accepted.activation_id == long.activation_id));
    // Detaching twice appends nothing more.
    assert!(matches!(
        p.controller
            .send(Detach {
                activation_id: long.activation_id,
            })
            .await
            .unwrap(),
        Detached::AlreadyAccepted
    ));
    let record = tokio::time::timeout(Duration::from_secs(10), long.result)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, ActivationStatus::Success, "{record:?}");
    // Once recorded, a late detach has nothing to append.
    assert!(matches!(
        p.controller
            .send(Detach {
                activation_id: long.activation_id,
            })
            .await
            .unwrap(),
        Detached::AlreadyRecorded
    ));
    let counts = records_per_activation(&p.store);
    assert_eq!(counts.get(&long.activation_id), Some(&1));
    assert_eq!(counts.get(&quick.activation_id), Some(&1));
    assert_eq!(
        acceptances(&p.store)
            .iter()
            .filter(|id| **id == long.activation_id)
            .count(),
        1
    );
}
