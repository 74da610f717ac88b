//! Tests of the activation lifecycle state machine and of `settle`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::core::action::{ActionLimits, Kind};
use crate::core::random::SplitMix64;

fn spec(timeout_ms: u64) -> ActivationSpec {
    ActivationSpec::new(
        ActivationId::new("0123456789abcdef0123456789abcdef"),
        "guest/hello",
        Kind::new("python:3"),
        ActionLimits {
            timeout_ms,
            ..ActionLimits::default()
        },
    )
}

fn settled(effects: Vec<LifecycleEffect>) -> ActivationOutcome {
    match effects.into_iter().last() {
        Some(LifecycleEffect::Settled(outcome)) => *outcome,
        other => panic!("expected Settled, got {other:?}"),
    }
}

fn ok(body: &str) -> RunResult {
    RunResult::Responded {
        ok: true,
        body: body.to_string(),
    }
}

#[test]
fn warm_success() {
    let mut l = ActivationLifecycle::accepted(spec(60_000), Millis(1_000));
    assert_eq!(
        l.handle(LifecycleInput::RunStarted, Millis(1_050)).unwrap(),
        vec![LifecycleEffect::ArmDeadline {
            phase: TimedPhase::Run,
            at: Millis(61_050)
        }]
    );
    assert_eq!(l.deadline(), Some(Millis(61_050)));
    let out = settled(
        l.handle(
            LifecycleInput::RunFinished {
                result: ok(r#"{"greeting":"hi"}"#),
                logs: vec!["hello".into()],
            },
            Millis(1_080),
        )
        .unwrap(),
    );
    assert_eq!(out.status, ActivationStatus::Success);
    assert_eq!(out.result, r#"{"greeting":"hi"}"#);
    assert_eq!(out.result_size, Some(17));
    assert_eq!(
        (out.start, out.end, out.duration_ms),
        (Millis(1_050), Millis(1_080), 30)
    );
    assert_eq!(out.annotations.wait_time_ms, 50);
    assert_eq!(out.annotations.init_time_ms, None);
    assert!(!out.annotations.timeout);
    assert_eq!(out.logs, vec!["hello".to_string()]);
    assert!(out.container_reusable);
    assert_eq!(l.phase(), LifecyclePhase::Settled);
    assert_eq!(l.outcome(), Some(&out));
}

#[test]
fn cold_start_reports_init_time_and_counts_wait_until_init() {
    let mut l = ActivationLifecycle::accepted(spec(60_000), Millis(0));
    assert_eq!(
        l.handle(LifecycleInput::InitStarted, Millis(400)).unwrap(),
        vec![LifecycleEffect::ArmDeadline {
            phase: TimedPhase::Init,
            at: Millis(60_400)
        }]
    );
    assert!(l
        .handle(
            LifecycleInput::InitFinished {
                result: InitResult::Succeeded,
                logs: vec!["init".into()]
            },
            Millis(700)
        )
        .unwrap()
        .is_empty());
    assert_eq!(l.phase(), LifecyclePhase::Initialized);
    l.handle(LifecycleInput::RunStarted, Millis(701)).unwrap();
    let out = settled(
        l.handle(
            LifecycleInput::RunFinished {
                result: ok("{}"),
                logs: vec!["run".into()],
            },
            Millis(800),
        )
        .unwrap(),
    );
    assert_eq!(out.annotations.wait_time_ms, 400);
    assert_eq!(out.annotations.init_time_ms, Some(300));
    assert_eq!(
        (out.start, out.end, out.duration_ms),
        (Millis(400), Millis(800), 400)
    );
    assert_eq!(out.logs, vec!["init".to_string(), "run".to_string()]);
    let keys: Vec<&str> = out.annotations.pairs().map(|(key, _)| key).collect();
    assert_eq!(
        keys,
        vec!["limits", "path", "kind", "timeout", "initTime", "waitTime"]
    );
}

#[test]
fn application_error_keeps_the_container() {
    let mut l = ActivationLifecycle::accepted(spec(1_000), Millis(0));
    l.handle(LifecycleInput::RunStarted, Millis(0)).unwrap();
    let out = settled(
        l.handle(
            LifecycleInput::RunFinished {
                result: ok(r#"{"error":"nope","x":1}"#),
                logs: vec![],
            },
            Millis(5),
        )
        .unwrap(),
    );
    assert_eq!(out.status, ActivationStatus::ApplicationError);
    assert_eq!(out.result, r#"{"error":"nope"}"#);
    assert!(out.container_reusable);
}

#[test]
fn failed_init_settles_as_developer_error_and_discards_the_container() {
    let mut l = ActivationLifecycle::accepted(spec(1_000), Millis(0));
    l.handle(LifecycleInput::InitStarted, Millis(10)).unwrap();
    let out = settled(
        l.handle(
            LifecycleInput::InitFinished {
                result: InitResult::Failed {
                    body: r#"{"error":"SyntaxError: line 3"}"#.into(),
                },
                logs: vec!["Traceback".into()],
            },
            Millis(30),
        )
        .unwrap(),
    );
    assert_eq!(out.status, ActivationStatus::DeveloperError);
    assert_eq!(out.result, r#"{"error":"SyntaxError: line 3"}"#);
    assert_eq!(out.annotations.init_time_ms, Some(20));
    assert_eq!(out.end, Millis(30));
    assert!(!out.container_reusable);
    assert_eq!(out.logs, vec!["Traceback".to_string()]);
    // The host's late RunStarted (racing the failure) is ignored.
    assert!(l
        .handle(LifecycleInput::RunStarted, Millis(31))
        .unwrap()
        .is_empty());
}

#[test]
fn hung_init_times_out_on_tick() {
    let mut l = ActivationLifecycle::accepted(spec(500), Millis(0));
    l.handle(LifecycleInput::InitStarted, Millis(100)).unwrap();
    assert!(l
        .handle(LifecycleInput::Tick, Millis(599))
        .unwrap()
        .is_empty());
    let effects = l.handle(LifecycleInput::Tick, Millis(600)).unwrap();
    assert_eq!(
        effects[0],
        LifecycleEffect::AbortContainer {
            phase: TimedPhase::Init
        }
    );
    let out = settled(effects);
    assert!(out.annotations.timeout);
    assert_eq!(out.status, ActivationStatus::DeveloperError);
    assert_eq!(
        out.result,
        r#"{"error":"The action exceeded its time limits of 500 milliseconds during initialization."}"#
    );
    assert_eq!(out.annotations.init_time_ms, Some(500));
}

#[test]
fn hung_run_times_out_on_tick_and_late_results_are_ignored() {
    let mut l = ActivationLifecycle::accepted(spec(2_000), Millis(0));
    l.handle(LifecycleInput::RunStarted, Millis(0)).unwrap();
    assert!(l
        .handle(LifecycleInput::Tick, Millis(1_999))
        .unwrap()
        .is_empty());
    let out = settled(l.handle(LifecycleInput::Tick, Millis(2_000)).unwrap());
    assert!(out.annotations.timeout);
    assert_eq!(
        out.result,
        r#"{"error":"The action exceeded its time limits of 2000 milliseconds."}"#
    );
    assert_eq!(out.duration_ms, 2_000);
    assert!(!out.container_reusable);
    assert!(l
        .handle(
            LifecycleInput::RunFinished {
                result: ok("{}"),
                logs: vec![]
            },
            Millis(2_100)
        )
        .unwrap()
        .is_empty());
    assert_eq!(
        l.outcome().unwrap().status,
        ActivationStatus::DeveloperError
    );
}

#[test]
fn a_result_at_or_after_the_deadline_is_a_timeout() {
    let mut l = ActivationLifecycle::accepted(spec(100), Millis(0));
    l.handle(LifecycleInput::RunStarted, Millis(0)).unwrap();
    let out = settled(
        l.handle(
            LifecycleInput::RunFinished {
                result: ok("{}"),
                logs: vec![],
            },
            Millis(100),
        )
        .unwrap(),
    );
    assert!(out.annotations.timeout);
    let mut l = ActivationLifecycle::accepted(spec(100), Millis(0));
    l.handle(LifecycleInput::RunStarted, Millis(0)).unwrap();
    let out = settled(
        l.handle(
            LifecycleInput::RunFinished {
                result: ok("{}"),
                logs: vec![],
            },
            Millis(99),
        )
        .unwrap(),
    );
    assert!(!out.annotations.timeout);
}

#[test]
fn timeout_scope_decides_the_run_deadline() {
    for (scope, expected) in [
        (TimeoutScope::PerPhase, Millis(1_900)),
        (TimeoutScope::Shared, Millis(1_000)),
    ] {
        let mut s = spec(1_000);
        s.timeout_scope = scope;
        let mut l = ActivationLifecycle::accepted(s, Millis(0));
        l.handle(LifecycleInput::InitStarted, Millis(0)).unwrap();
        l.handle(
            LifecycleInput::InitFinished {
                result: InitResult::Succeeded,
                logs: vec![],
            },
            Millis(900),
        )
        .unwrap();
        assert_eq!(
            l.handle(LifecycleInput::RunStarted, Millis(900)).unwrap(),
            vec![LifecycleEffect::ArmDeadline {
                phase: TimedPhase::Run,
                at: expected
            }]
        );
    }
}

#[test]
fn platform_failure_is_a_whisk_internal_error() {
    let mut l = ActivationLifecycle::accepted(spec(1_000), Millis(100));
    let out = settled(
        l.handle(
            LifecycleInput::PlatformFailed {
                message: "Failed to provision resources to run the action.".into(),
            },
            Millis(350),
        )
        .unwrap(),
    );
    assert_eq!(out.status, ActivationStatus::WhiskError);
    assert_eq!(
        out.result,
        r#"{"error":"Failed to provision resources to run the action."}"#
    );
    assert_eq!((out.start, out.end), (Millis(350), Millis(350)));
    assert_eq!(out.annotations.wait_time_ms, 250);
    assert!(!out.container_reusable);
}

#[test]
fn platform_failure_during_a_run_keeps_its_start() {
    let mut l = ActivationLifecycle::accepted(spec(1_000), Millis(0));
    l.handle(LifecycleInput::RunStarted, Millis(40)).unwrap();
    let out = settled(
        l.handle(
            LifecycleInput::PlatformFailed {
                message: "invoker lost".into(),
            },
            Millis(90),
        )
        .unwrap(),
    );
    assert_eq!(out.status, ActivationStatus::WhiskError);
    assert_eq!(out.result, r#"{"error":"invoker lost"}"#);
    assert_eq!((out.start, out.end), (Millis(40), Millis(90)));
    assert_eq!(out.annotations.wait_time_ms, 40);
    assert!(!out.annotations.timeout);
}

#[test]
fn out_of_order_inputs_are_refused() {
    let mut l = ActivationLifecycle::accepted(spec(1_000), Millis(0));
    let err = l
        .handle(
            LifecycleInput::RunFinished {
                result: ok("{}"),
                logs: vec![],
            },
            Millis(1),
        )
        .unwrap_err();
    assert_eq!(err.phase, LifecyclePhase::Waiting);
    assert_eq!(
        err.to_string(),
        "activation 0123456789abcdef0123456789abcdef: RunFinished is not expected while Waiting"
    );
    assert!(l
        .handle(
            LifecycleInput::InitFinished {
                result: InitResult::Succeeded,
                logs: vec![]
            },
            Millis(1)
        )
        .is_err());
    l.handle(LifecycleInput::RunStarted, Millis(2)).unwrap();
    assert!(l.handle(LifecycleInput::InitStarted, Millis(3)).is_err());
    assert!(l.handle(LifecycleInput::RunStarted, Millis(3)).is_err());
    assert_eq!(
        l.phase(),
        LifecyclePhase::Running,
        "refused inputs change nothing"
    );
}

#[test]
fn logs_are_cut_at_the_log_limit() {
    let mut s = spec(1_000);
    s.limits.logs_mb = 1;
    let mut l = ActivationLifecycle::accepted(s, Millis(0));
    l.handle(LifecycleInput::RunStarted, Millis(0)).unwrap();
    let big = "x".repeat(600 * 1024);
    let out = settled(
        l.handle(
            LifecycleInput::RunFinished {
                result: ok("{}"),
                logs: vec![big.clone(), big.clone(), "tail".into()],
            },
            Millis(10),
        )
        .unwrap(),
    );
    assert!(out.logs_truncated);
    assert_eq!(out.logs.len(), 2);
    assert_eq!(out.logs[0], big);
    assert_eq!(
        out.logs[1],
        "Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes."
    );
}

#[test]
fn settle_without_any_phase_is_a_whisk_error() {
    let out = settle(
        &spec(1_000),
        ActivationFacts {
            accepted_at: Millis(0),
            init: None,
            run: None,
            platform_error: None,
            logs: vec![],
            ended_at: Millis(5),
        },
    );
    assert_eq!(out.status, ActivationStatus::WhiskError);
    assert_eq!(out.result, format!(r#"{{"error":"{NEVER_RAN}"}}"#));
}

/// Property: any sequence of inputs settles at most once; a settled outcome has a JSON-object result,
/// consistent times and annotations, logs within the limit, and `timeout` only with a developer error.
#[test]
fn random_event_sequences_settle_consistently() {
    for seed in 0..300u64 {
        let mut rng = SplitMix64::new(seed);
        let timeout = 50 + rng.below(500);
        let mut s = spec(timeout);
        s.max_result_bytes = 16 + rng.below(64);
        s.limits.logs_mb = rng.below(2);
        if rng.chance(1, 2) {
            s.timeout_scope = TimeoutScope::Shared;
        }
        let accepted = Millis(rng.below(1_000));
        let mut l = ActivationLifecycle::accepted(s.clone(), accepted);
        let mut now = accepted;
        let mut settlements = 0;
        for _ in 0..12 {
            now = now.plus(rng.below(200));
            let logs: Vec<String> = (0..rng.below(3))
                .map(|i| "l".repeat((i * 400_000) as usize + 1))
                .collect();
            let input = match rng.below(7) {
                0 => LifecycleInput::InitStarted,
                1 => LifecycleInput::InitFinished {
                    result: match rng.below(4) {
                        0 | 1 => InitResult::Succeeded,
                        2 => InitResult::Failed {
                            body: "{\"error\":\"e\"}".into(),
                        },
                        _ => InitResult::Crashed { detail: "x".into() },
                    },
                    logs,
                },
                2 => LifecycleInput::RunStarted,
                3 => LifecycleInput::RunFinished {
                    result: match rng.below(5) {
                        0 => ok("{\"a\":1}"),
                        1 => ok("{\"error\":1}"),
                        2 => ok(&"9".repeat(rng.below(100) as usize + 1)),
                        3 => RunResult::MemoryExhausted,
                        _ => RunResult::TimedOut,
                    },
                    logs,
                },
                4 if rng.chance(1, 4) => LifecycleInput::PlatformFailed {
                    message: "lost".into(),
                },
                _ => LifecycleInput::Tick,
            };
            let before = l.phase();
            match l.handle(input, now) {
                Ok(effects) => {
                    for e in effects {
                        if let LifecycleEffect::Settled(out) = e {
                            settlements += 1;
                            let v: serde_json::Value = serde_json::from_str(&out.result).unwrap();
                            assert!(v.is_object(), "seed {seed}: {}", out.result);
                            assert_eq!(out.duration_ms, out.end.since(out.start));
                            assert!(out.end >= out.start);
                            assert_eq!(out.annotations.wait_time_ms, out.start.since(accepted));
                            if out.annotations.timeout {
                                assert_eq!(out.status, ActivationStatus::DeveloperError);
                            }
                            assert_eq!(
                                out.container_reusable,
                                matches!(
                                    out.status,
                                    ActivationStatus::Success | ActivationStatus::ApplicationError
                                )
                            );
                            let kept = if out.logs_truncated {
                                &out.logs[..out.logs.len() - 1]
                            } else {
                                &out.logs[..]
                            };
                            let bytes: u64 = kept.iter().map(|l| l.len() as u64 + 1).sum();
                            assert!(bytes <= s.limits.log_limit_bytes());
                        }
                    }
                }
                Err(e) => {
                    assert_eq!(e.phase, before);
                    assert_eq!(l.phase(), before, "a refused input changes nothing");
                }
            }
        }
        assert!(settlements <= 1, "seed {seed} settled {settlements} times");
        assert_eq!(settlements == 1, l.phase() == LifecyclePhase::Settled);
    }
}
