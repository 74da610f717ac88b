//! Tests of the controller core: admission, placement, exactly one end per activation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::core::action::ActionKey;
use crate::core::throttle::{ThrottleKind, Throttled};

fn config() -> ControllerConfig {
    ControllerConfig {
        throttles: ThrottleConfig {
            invocations_per_minute: 1000,
            concurrent_invocations: 2,
            fires_per_minute: 60,
        },
        completion_grace_ms: Some(1_000),
        ..ControllerConfig::default()
    }
}

fn request(n: u32, namespace: &str) -> InvocationRequest {
    InvocationRequest {
        activation: ActivationId::new(format!("a{n}")),
        action: ActionKey::new(namespace, format!("/{namespace}/hello"), "0.0.1"),
        memory_mb: 256,
        concurrency: 1,
        timeout_ms: 500,
    }
}

fn with_invoker(now: Millis) -> Controller {
    let mut controller = Controller::new(config());
    controller.handle(
        ControllerInput::Ping {
            invoker: InvokerId(0),
            user_memory_mb: 1024,
            incarnation: 1,
        },
        now,
        0,
    );
    controller
}

fn invoke(controller: &mut Controller, n: u32, now: Millis) -> Vec<ControllerEffect> {
    controller.handle(ControllerInput::Invoke(request(n, "guest")), now, 0)
}

#[test]
fn without_invokers_an_invocation_is_refused_and_holds_no_slot() {
    let mut controller = Controller::new(config());
    for n in 0..5 {
        let effects = invoke(&mut controller, n, Millis(0));
        assert!(
            matches!(
                &effects[..],
                [ControllerEffect::Refuse {
                    refusal: Refusal::NoInvoker(_),
                    ..
                }]
            ),
            "{effects:?}"
        );
    }
    assert_eq!(controller.throttles().concurrent("guest"), 0);
    assert!(controller.in_flight().is_empty());
}

#[test]
fn dispatch_then_completion_records_once_and_ignores_duplicates() {
    let mut controller = with_invoker(Millis(0));
    assert_eq!(
        invoke(&mut controller, 1, Millis(10)),
        vec![ControllerEffect::Dispatch {
            activation: ActivationId::new("a1"),
            invoker: InvokerId(0)
        }]
    );
    let completed = ControllerInput::Completed {
        activation: ActivationId::new("a1"),
        invoker: InvokerId(0),
        system_error: false,
    };
    assert_eq!(
        controller.handle(completed.clone(), Millis(20), 0),
        vec![ControllerEffect::Record {
            activation: ActivationId::new("a1")
        }]
    );
    assert_eq!(
        controller.handle(completed, Millis(21), 0),
        vec![ControllerEffect::Ignore {
            activation: ActivationId::new("a1")
        }]
    );
    assert_eq!(controller.throttles().concurrent("guest"), 0);
}

#[test]
fn concurrency_throttle_refuses_with_openwhisk_message_and_frees_on_completion() {
    let mut controller = with_invoker(Millis(0));
    invoke(&mut controller, 1, Millis(1));
    invoke(&mut controller, 2, Millis(1));
    let effects = invoke(&mut controller, 3, Millis(1));
    let [ControllerEffect::Refuse {
        refusal: Refusal::Throttled(throttled),
        ..
    }] = &effects[..]
    else {
        panic!("expected a throttle refusal: {effects:?}");
    };
    assert_eq!(throttled.kind, ThrottleKind::ConcurrentInvocations);
    assert_eq!(
        throttled.to_string(),
        "Too many concurrent requests in flight (count: 2, allowed: 2)."
    );
    controller.handle(
        ControllerInput::Completed {
            activation: ActivationId::new("a1"),
            invoker: InvokerId(0),
            system_error: false,
        },
        Millis(2),
        0,
    );
    assert!(matches!(
        &invoke(&mut controller, 4, Millis(3))[..],
        [ControllerEffect::Dispatch { .. }]
    ));
}

#[test]
fn an_activation_without_completion_is_lost_after_its_deadline_exactly_once() {
    let mut controller = with_invoker(Millis(0));
    invoke(&mut controller, 1, Millis(0));
    // Keep the invoker alive so only the deadline matters.
    let ping = ControllerInput::Ping {
        invoker: InvokerId(0),
        user_memory_mb: 1024,
        incarnation: 1,
    };
    controller.handle(ping.clone(), Millis(1_000), 0);
    assert!(controller
        .handle(ControllerInput::Tick, Millis(1_499), 0)
        .is_empty());
    controller.handle(ping, Millis(1_500), 0);
    let effects = controller.handle(ControllerInput::Tick, Millis(1_500), 0);
    assert_eq!(
        effects,
        vec![ControllerEffect::RecordLost {
            activation: ActivationId::new("a1"),
            reason: LostReason::NoCompletion { waited_ms: 1_500 }
        }]
    );
    assert!(controller
        .handle(ControllerInput::Tick, Millis(1_600), 0)
        .is_empty());
    let late = ControllerInput::Completed {
        activation: ActivationId::new("a1"),
        invoker: InvokerId(0),
        system_error: false,
    };
    assert_eq!(
        controller.handle(late, Millis(1_700), 0),
        vec![ControllerEffect::Ignore {
            activation: ActivationId::new("a1")
        }]
    );
}

#[test]
fn an_invoker_restart_loses_what_it_was_running() {
    let mut controller = with_invoker(Millis(0));
    invoke(&mut controller, 1, Millis(0));
    let effects = controller.handle(
        ControllerInput::Ping {
            invoker: InvokerId(0),
            user_memory_mb: 1024,
            incarnation: 2,
        },
        Millis(10),
        0,
    );
    assert_eq!(
        effects,
        vec![ControllerEffect::RecordLost {
            activation: ActivationId::new("a1"),
            reason: LostReason::InvokerRestarted(InvokerId(0))
        }]
    );
    assert_eq!(controller.throttles().concurrent("guest"), 0);
}

#[test]
fn an_offline_invoker_hands_unstarted_work_to_a_survivor_and_loses_started_work() {
    let mut controller = with_invoker(Millis(0));
    controller.handle(
        ControllerInput::Ping {
            invoker: InvokerId(1),
            user_memory_mb: 1024,
            incarnation: 1,
        },
        Millis(0),
        0,
    );
    // Find two activations placed on the same invoker.
    let mut on: BTreeMap<InvokerId, Vec<ActivationId>> = BTreeMap::new();
    for n in 0..2 {
        let mut req = request(n, "guest");
        req.action = ActionKey::new("guest", "/guest/same", "0.0.1");
        req.timeout_ms = 60_000;
        for effect in controller.handle(ControllerInput::Invoke(req), Millis(0), 0) {
            if let ControllerEffect::Dispatch {
                activation,
                invoker,
            } = effect
            {
                on.entry(invoker).or_default().push(activation);
            }
        }
    }
    let (&victim, activations) = on.iter().next().unwrap();
    assert_eq!(
        activations.len(),
        2,
        "same action, same home invoker: {on:?}"
    );
    let survivor = if victim == InvokerId(0) {
        InvokerId(1)
    } else {
        InvokerId(0)
    };
    controller.started(&activations[0], Millis(1));
    // Only the survivor keeps pinging.
    for t in (500..=4_000).step_by(500) {
        controller.handle(
            ControllerInput::Ping {
                invoker: survivor,
                user_memory_mb: 1024,
                incarnation: 1,
            },
            Millis(t),
            0,
        );
    }
    let effects = controller.handle(ControllerInput::Tick, Millis(4_000), 0);
    assert!(effects.contains(&ControllerEffect::RecordLost {
        activation: activations[0].clone(),
        reason: LostReason::InvokerOffline(victim)
    }));
    assert!(effects.contains(&ControllerEffect::Redispatch {
        activation: activations[1].clone(),
        invoker: survivor
    }));
    let views = controller.in_flight();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].invoker, survivor);
}

#[test]
fn recovery_waits_for_pending_invocations_and_loses_them_at_their_deadline() {
    let pending = vec![PendingInvocation {
        request: request(7, "guest"),
        invoker: InvokerId(3),
        accepted_at: Millis(100),
    }];
    let mut controller = Controller::recover(config(), Vec::new(), pending, Millis(5_000));
    assert_eq!(controller.in_flight().len(), 1);
    assert_eq!(controller.in_flight()[0].deadline, Millis(6_500));
    // A completion from the invoker that kept running it ends it normally.
    let mut recovered = controller.clone();
    assert_eq!(
        recovered.handle(
            ControllerInput::Completed {
                activation: ActivationId::new("a7"),
                invoker: InvokerId(3),
                system_error: false
            },
            Millis(5_100),
            0
        ),
        vec![ControllerEffect::Record {
            activation: ActivationId::new("a7")
        }]
    );
    // Without one, it is lost at the deadline, and no throttle slot is released that was not held.
    let effects = controller.handle(ControllerInput::Tick, Millis(6_500), 0);
    assert!(matches!(
        &effects[..],
        [ControllerEffect::RecordLost {
            reason: LostReason::NoCompletion { .. },
            ..
        }]
    ));
    assert_eq!(controller.throttles().concurrent("guest"), 0);
}

#[test]
fn a_delivered_invocation_takes_a_slot_without_counting_the_rate() {
    let mut controller = Controller::new(ControllerConfig {
        throttles: ThrottleConfig {
            invocations_per_minute: 1,
            concurrent_invocations: 1,
            fires_per_minute: 60,
        },
        ..config()
    });
    controller.handle(
        ControllerInput::Ping {
            invoker: InvokerId(0),
            user_memory_mb: 1024,
            incarnation: 1,
        },
        Millis(0),
        0,
    );
    // Accepted into the queue: the one invocation the minute allows.
    controller
        .throttles_mut()
        .admit_queued("guest", Millis(0))
        .unwrap();
    let deliver = |controller: &mut Controller, n: u32| {
        controller.handle(ControllerInput::Deliver(request(n, "guest")), Millis(10), 0)
    };
    // Delivered: dispatched although the minute's rate is spent.
    assert_eq!(
        deliver(&mut controller, 1),
        vec![ControllerEffect::Dispatch {
            activation: ActivationId::new("a1"),
            invoker: InvokerId(0)
        }]
    );
    assert_eq!(controller.throttles().concurrent("guest"), 1);
    // A second delivery finds the namespace at its concurrency limit: refused, nothing held.
    let effects = deliver(&mut controller, 2);
    assert!(
        matches!(
            &effects[..],
            [ControllerEffect::Refuse {
                refusal: Refusal::Throttled(Throttled {
                    kind: ThrottleKind::ConcurrentInvocations,
                    ..
                }),
                ..
            }]
        ),
        "{effects:?}"
    );
    assert_eq!(controller.in_flight().len(), 1);
    // The first ends: its slot is back and the second goes.
    controller.handle(
        ControllerInput::Completed {
            activation: ActivationId::new("a1"),
            invoker: InvokerId(0),
            system_error: false,
        },
        Millis(20),
        0,
    );
    assert!(matches!(
        &deliver(&mut controller, 2)[..],
        [ControllerEffect::Dispatch { .. }]
    ));
}
