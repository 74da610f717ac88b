//! Sequences: validation at create time and the run of one sequence.
//!
//! - [`validate`] walks a sequence's components through a lookup the host provides (which action a
//!   fully-qualified name is: atomic, another sequence, or missing) and refuses missing components,
//!   cycles (a sequence reaching itself) and more than the allowed number of atomic actions, counted
//!   as they would run (a component used twice counts twice).
//! - [`SequenceRun`] decides each step of one run: invoke component `i` with these parameters, or
//!   finish with this status and result. The first component gets the sequence's parameters, each
//!   next one the previous result; a component that does not succeed ends the sequence with its
//!   status and result. The run keeps the component activation ids for the sequence record's logs.
//!
//! Pure: no I/O, no clock; the host invokes the components and reports how each ended.

use crate::core::lifecycle::ActivationStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a component name refers to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComponentKind {
    /// A plain action.
    Atomic,
    /// Another sequence, with its components (fully-qualified names).
    Sequence(Vec<String>),
    /// Nothing (or nothing the caller may use).
    Missing,
}

/// Why a sequence is refused at create time (OpenWhisk's messages, with the offending name).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SequenceError {
    #[error("No component specified for the sequence.")]
    NoComponent,
    #[error("Sequence component does not exist: '{0}'.")]
    Missing(String),
    #[error("Sequence may not refer to itself: '{0}' is reached again through its components.")]
    Cyclic(String),
    #[error("Too many actions in the sequence: more than {max} atomic actions would run.")]
    TooLong { max: usize },
}

/// Checks the sequence `root` (its fully-qualified name) with `components`; returns how many atomic
/// actions one run executes.
pub fn validate(
    root: &str,
    components: &[String],
    max_atomic: usize,
    mut lookup: impl FnMut(&str) -> ComponentKind,
) -> Result<usize, SequenceError> {
    if components.is_empty() {
        return Err(SequenceError::NoComponent);
    }
    let mut path = vec![root.to_owned()];
    let mut count = 0usize;
    walk(components, max_atomic, &mut lookup, &mut path, &mut count)?;
    Ok(count)
}

fn walk(
    components: &[String],
    max_atomic: usize,
    lookup: &mut impl FnMut(&str) -> ComponentKind,
    path: &mut Vec<String>,
    count: &mut usize,
) -> Result<(), SequenceError> {
    for component in components {
        if path.iter().any(|seen| seen == component) {
            return Err(SequenceError::Cyclic(component.clone()));
        }
        match lookup(component) {
            ComponentKind::Missing => return Err(SequenceError::Missing(component.clone())),
            ComponentKind::Atomic => {
                *count += 1;
                if *count > max_atomic {
                    return Err(SequenceError::TooLong { max: max_atomic });
                }
            }
            ComponentKind::Sequence(inner) => {
                if inner.is_empty() {
                    return Err(SequenceError::NoComponent);
                }
                path.push(component.clone());
                walk(&inner, max_atomic, lookup, path, count)?;
                path.pop();
            }
        }
    }
    Ok(())
}

/// What the host does next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SequenceStep {
    /// Invoke component `index` with `params` (a JSON object).
    Invoke { index: usize, params: Value },
    /// Record the sequence with this status and result.
    Finish {
        status: ActivationStatus,
        result: Value,
    },
}

/// How one component ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ComponentOutcome {
    /// It ran and was recorded.
    Recorded {
        activation_id: String,
        status: ActivationStatus,
        result: Value,
        duration_ms: u64,
    },
    /// It could not be invoked (throttled, no invoker, did not finish in time); `error` says why.
    NotInvoked { error: String },
    /// It does not exist (any more): as in OpenWhisk, the sequence ends with an application error.
    Missing { component: String },
}

/// One run of a sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceRun {
    components: usize,
    next: usize,
    activation_ids: Vec<String>,
    duration_ms: u64,
    finished: bool,
}

impl SequenceRun {
    /// A run of a sequence of `components` components with `params`; returns the first step.
    pub fn start(components: usize, params: Value) -> (Self, SequenceStep) {
        let mut run = Self {
            components,
            next: 0,
            activation_ids: Vec::new(),
            duration_ms: 0,
            finished: false,
        };
        let step = if components == 0 {
            run.finish(ActivationStatus::Success, params)
        } else {
            run.next = 1;
            SequenceStep::Invoke { index: 0, params }
        };
        (run, step)
    }

    fn finish(&mut self, status: ActivationStatus, result: Value) -> SequenceStep {
        self.finished = true;
        SequenceStep::Finish { status, result }
    }

    /// The component asked for last ended with `outcome`; returns the next step.
    pub fn component_ended(&mut self, outcome: ComponentOutcome) -> SequenceStep {
        if self.finished {
            return SequenceStep::Finish {
                status: ActivationStatus::WhiskError,
                result: serde_json::json!({ "error": "the sequence had already finished" }),
            };
        }
        match outcome {
            ComponentOutcome::NotInvoked { error } => self.finish(
                ActivationStatus::WhiskError,
                serde_json::json!({ "error": error }),
            ),
            ComponentOutcome::Missing { component } => self.finish(
                ActivationStatus::ApplicationError,
                serde_json::json!({
                    "error": format!("Sequence component does not exist: '{component}'.")
                }),
            ),
            ComponentOutcome::Recorded {
                activation_id,
                status,
                result,
                duration_ms,
            } => {
                self.activation_ids.push(activation_id);
                self.duration_ms = self.duration_ms.saturating_add(duration_ms);
                if status != ActivationStatus::Success {
                    return self.finish(status, result);
                }
                if self.next >= self.components {
                    return self.finish(ActivationStatus::Success, result);
                }
                let index = self.next;
                self.next += 1;
                let params = match result {
                    Value::Object(_) => result,
                    other => serde_json::json!({ "value": other }),
                };
                SequenceStep::Invoke { index, params }
            }
        }
    }

    /// The activation ids of the components run so far (the sequence record's `logs`).
    pub fn activation_ids(&self) -> &[String] {
        &self.activation_ids
    }

    /// The summed duration of the components run so far (ms).
    pub fn duration_ms(&self) -> u64 {
        self.duration_ms
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn lookup<'a>(
        table: &'a BTreeMap<&'static str, ComponentKind>,
    ) -> impl FnMut(&str) -> ComponentKind + 'a {
        move |name| table.get(name).cloned().unwrap_or(ComponentKind::Missing)
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn counts_atomic_actions_through_nested_sequences() {
        let table = BTreeMap::from([
            ("/g/a", ComponentKind::Atomic),
            ("/g/b", ComponentKind::Atomic),
            (
                "/g/inner",
                ComponentKind::Sequence(names(&["/g/a", "/g/b"])),
            ),
        ]);
        let count = validate(
            "/g/s",
            &names(&["/g/inner", "/g/a", "/g/inner"]),
            50,
            lookup(&table),
        );
        assert_eq!(count, Ok(5));
    }

    #[test]
    fn refuses_missing_cycles_empty_and_too_long() {
        let table = BTreeMap::from([
            ("/g/a", ComponentKind::Atomic),
            ("/g/loop", ComponentKind::Sequence(names(&["/g/a", "/g/s"]))),
        ]);
        assert_eq!(
            validate("/g/s", &names(&["/g/nope"]), 50, lookup(&table)),
            Err(SequenceError::Missing("/g/nope".into()))
        );
        assert_eq!(
            validate("/g/s", &names(&["/g/s"]), 50, lookup(&table)),
            Err(SequenceError::Cyclic("/g/s".into()))
        );
        assert_eq!(
            validate("/g/s", &names(&["/g/loop"]), 50, lookup(&table)),
            Err(SequenceError::Cyclic("/g/s".into()))
        );
        assert_eq!(
            validate("/g/s", &[], 50, lookup(&table)),
            Err(SequenceError::NoComponent)
        );
        let fifty_one = vec!["/g/a".to_string(); 51];
        assert_eq!(
            validate("/g/s", &fifty_one, 50, lookup(&table)),
            Err(SequenceError::TooLong { max: 50 })
        );
        assert_eq!(
            validate("/g/s", &fifty_one[..50], 50, lookup(&table)),
            Ok(50)
        );
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let table = BTreeMap::from([
            ("/g/a", ComponentKind::Atomic),
            ("/g/x", ComponentKind::Sequence(names(&["/g/a"]))),
        ]);
        assert_eq!(
            validate("/g/s", &names(&["/g/x", "/g/x"]), 50, lookup(&table)),
            Ok(2)
        );
    }

    fn recorded(id: &str, status: ActivationStatus, result: Value) -> ComponentOutcome {
        ComponentOutcome::Recorded {
            activation_id: id.into(),
            status,
            result,
            duration_ms: 3,
        }
    }

    #[test]
    fn each_result_feeds_the_next_component_and_the_last_is_the_result() {
        let (mut run, step) = SequenceRun::start(2, json!({"x": 1}));
        assert_eq!(
            step,
            SequenceStep::Invoke {
                index: 0,
                params: json!({"x": 1})
            }
        );
        let step = run.component_ended(recorded("a1", ActivationStatus::Success, json!({"y": 2})));
        assert_eq!(
            step,
            SequenceStep::Invoke {
                index: 1,
                params: json!({"y": 2})
            }
        );
        let step = run.component_ended(recorded("a2", ActivationStatus::Success, json!({"z": 3})));
        assert_eq!(
            step,
            SequenceStep::Finish {
                status: ActivationStatus::Success,
                result: json!({"z": 3})
            }
        );
        assert_eq!(run.activation_ids(), ["a1", "a2"]);
        assert_eq!(run.duration_ms(), 6);
    }

    #[test]
    fn a_failing_component_ends_the_sequence_with_its_status() {
        let (mut run, _) = SequenceRun::start(3, json!({}));
        let step = run.component_ended(recorded(
            "a1",
            ActivationStatus::ApplicationError,
            json!({"error": "bad"}),
        ));
        assert_eq!(
            step,
            SequenceStep::Finish {
                status: ActivationStatus::ApplicationError,
                result: json!({"error": "bad"})
            }
        );
        assert_eq!(run.activation_ids(), ["a1"]);
        let (mut run, _) = SequenceRun::start(2, json!({}));
        match run.component_ended(ComponentOutcome::NotInvoked {
            error: "throttled".into(),
        }) {
            SequenceStep::Finish { status, result } => {
                assert_eq!(status, ActivationStatus::WhiskError);
                assert_eq!(result["error"], "throttled");
            }
            other => panic!("expected the end, got {other:?}"),
        }
    }

    #[test]
    fn a_component_that_no_longer_exists_ends_the_sequence_with_an_application_error() {
        let (mut run, _) = SequenceRun::start(2, json!({}));
        match run.component_ended(ComponentOutcome::Missing {
            component: "/guest/gone".into(),
        }) {
            SequenceStep::Finish { status, result } => {
                assert_eq!(status, ActivationStatus::ApplicationError);
                assert_eq!(
                    result["error"],
                    "Sequence component does not exist: '/guest/gone'."
                );
            }
            other => panic!("expected the end, got {other:?}"),
        }
    }
}
