//! Tests of the invoker core: executions settle into outcomes, failed containers are replaced,
//! a restart ends every activation exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::core::action::{ActionKey, ActionLimits, Kind};
use crate::core::lifecycle::{ActivationStatus, InitResult, PhaseFacts, RunResult};
use crate::core::pool::PoolConfig;

fn spec(n: u32, version: &str) -> RunSpec {
    RunSpec {
        activation: ActivationId::new(format!("a{n}")),
        action: ActionKey::new("guest", "/guest/hello", version),
        path: "guest/hello".into(),
        kind: Kind::new("python:3"),
        limits: ActionLimits::default(),
        max_result_bytes: 1024 * 1024,
        accepted_at: Millis(0),
        scaling: None,
    }
}

fn config() -> PoolConfig {
    PoolConfig {
        user_memory_mb: 512,
        ..PoolConfig::default()
    }
}

fn ran(container: ContainerId, n: u32, init: bool, body: &str, at: u64) -> InvokerInput {
    InvokerInput::Executed(Executed {
        container,
        activation: ActivationId::new(format!("a{n}")),
        init: init.then(|| PhaseFacts {
            started: Millis(at),
            finished: Millis(at + 5),
            result: InitResult::Succeeded,
        }),
        run: Some(PhaseFacts {
            started: Millis(at + 5),
            finished: Millis(at + 7),
            result: RunResult::Responded {
                ok: true,
                body: body.into(),
            },
        }),
        platform_error: None,
        logs: vec![],
        container_lost: false,
    })
}

fn created(effects: &[InvokerEffect]) -> ContainerId {
    effects
        .iter()
        .find_map(|e| match e {
            InvokerEffect::Create { container, .. } => Some(*container),
            _ => None,
        })
        .expect("a create")
}

fn completes(effects: &[InvokerEffect]) -> Vec<ActivationOutcome> {
    effects
        .iter()
        .filter_map(|e| match e {
            InvokerEffect::Complete { outcome, .. } => Some((**outcome).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn cold_then_warm_execution_settles_outcomes_with_init_time_only_when_cold() {
    let mut invoker = Invoker::new(config());
    let container = created(&invoker.handle(InvokerInput::Run(spec(1, "0.0.1")), Millis(0)));
    let effects = invoker.handle(InvokerInput::Created { container }, Millis(3));
    assert_eq!(
        effects,
        vec![InvokerEffect::Execute {
            container,
            activation: ActivationId::new("a1"),
            init: true
        }]
    );
    let outcomes =
        completes(&invoker.handle(ran(container, 1, true, r#"{"ok":1}"#, 3), Millis(10)));
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].status, ActivationStatus::Success);
    assert_eq!(outcomes[0].annotations.init_time_ms, Some(5));
    assert_eq!(outcomes[0].annotations.wait_time_ms, 3);

    let effects = invoker.handle(InvokerInput::Run(spec(2, "0.0.1")), Millis(20));
    assert_eq!(
        effects,
        vec![InvokerEffect::Execute {
            container,
            activation: ActivationId::new("a2"),
            init: false
        }]
    );
    let outcomes = completes(&invoker.handle(
        ran(container, 2, false, r#"{"error":"no"}"#, 20),
        Millis(30),
    ));
    assert_eq!(outcomes[0].status, ActivationStatus::ApplicationError);
    assert_eq!(outcomes[0].annotations.init_time_ms, None);
    assert_eq!(invoker.in_flight(), 0);
}

#[test]
fn a_developer_error_replaces_the_container_and_a_new_version_never_reuses_the_old_one() {
    let mut invoker = Invoker::new(config());
    let first = created(&invoker.handle(InvokerInput::Run(spec(1, "0.0.1")), Millis(0)));
    invoker.handle(InvokerInput::Created { container: first }, Millis(1));
    let effects = invoker.handle(ran(first, 1, true, "not json", 1), Millis(10));
    assert_eq!(
        completes(&effects)[0].status,
        ActivationStatus::DeveloperError
    );
    assert!(effects
        .iter()
        .any(|e| matches!(e, InvokerEffect::Remove { container, .. } if *container == first)));

    let second = created(&invoker.handle(InvokerInput::Run(spec(2, "0.0.1")), Millis(20)));
    assert_ne!(second, first);
    invoker.handle(InvokerInput::Created { container: second }, Millis(21));
    invoker.handle(ran(second, 2, true, "{}", 21), Millis(30));
    let effects = invoker.handle(InvokerInput::Run(spec(3, "0.0.2")), Millis(40));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, InvokerEffect::Execute { container, .. } if *container == second)),
        "version 0.0.2 ran in the 0.0.1 container: {effects:?}"
    );
}

#[test]
fn a_restart_loses_executing_work_reruns_waiting_work_and_adopts_idle_containers() {
    let mut invoker = Invoker::new(PoolConfig {
        user_memory_mb: 768,
        ..PoolConfig::default()
    });
    // a1 finishes and leaves an idle warm container; a2 executes on a second container; a3 waits
    // for a third container that is still starting when the invoker restarts.
    let warm = created(&invoker.handle(InvokerInput::Run(spec(1, "0.0.1")), Millis(0)));
    invoker.handle(InvokerInput::Created { container: warm }, Millis(1));
    invoker.handle(ran(warm, 1, true, "{}", 1), Millis(5));
    let mut other = spec(2, "0.0.1");
    other.action = ActionKey::new("guest", "/guest/other", "0.0.1");
    let busy = created(&invoker.handle(InvokerInput::Run(other), Millis(6)));
    invoker.handle(InvokerInput::Created { container: busy }, Millis(7));
    let mut third = spec(3, "0.0.1");
    third.action = ActionKey::new("guest", "/guest/third", "0.0.1");
    invoker.handle(InvokerInput::Run(third), Millis(8));
    assert_eq!(invoker.in_flight(), 2);

    let still_there: BTreeSet<ContainerId> = [warm, busy].into_iter().collect();
    let effects = invoker.restart(&still_there, Millis(100));
    let outcomes = completes(&effects);
    assert_eq!(outcomes.len(), 1, "{effects:?}");
    assert_eq!(outcomes[0].activation, ActivationId::new("a2"));
    assert_eq!(outcomes[0].status, ActivationStatus::WhiskError);
    assert!(effects
        .iter()
        .any(|e| matches!(e, InvokerEffect::Remove { container, .. } if *container == busy)));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, InvokerEffect::Remove { container, .. } if *container == warm)));
    // a3 is waiting again, and a1's warm container serves the same action without a create.
    assert_eq!(invoker.in_flight(), 1);
    let effects = invoker.handle(InvokerInput::Run(spec(4, "0.0.1")), Millis(200));
    assert!(effects.contains(&InvokerEffect::Execute {
        container: warm,
        activation: ActivationId::new("a4"),
        init: false
    }));
}

#[test]
fn a_rejected_activation_still_completes_once() {
    let mut invoker = Invoker::new(PoolConfig {
        user_memory_mb: 128,
        ..PoolConfig::default()
    });
    let effects = invoker.handle(InvokerInput::Run(spec(1, "0.0.1")), Millis(0));
    let outcomes = completes(&effects);
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].status, ActivationStatus::WhiskError);
    assert_eq!(invoker.in_flight(), 0);
}
