//! The simulated container driver of one invoker: containers start slowly (sometimes very slowly)
//! or fail to start; inits fail; runs succeed, fail, crash their container, run out of memory or
//! hang until their time limit; pause, unpause and remove sometimes fail.
//!
//! It also checks what only a driver sees: the memory of all its containers never exceeds the
//! invoker's user memory, a container is initialized once and then only runs activations of that
//! same action version and namespace, and nothing runs in a paused or starting container.

use crate::config::DriverFaults;
use crate::invariants::{Invariant, Violation};
use crate::random::Draw;
use actors::core::invoker::Executed;
use actors::core::lifecycle::{InitResult, PhaseFacts, RunResult};
use actors::core::pool::RemovalReason;
use actors::core::{ActionKey, ActivationId, ContainerId, Millis, SplitMix64};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Starting,
    Up,
    Paused,
    /// Crashed, out of memory or killed; still counted until removed.
    Dead,
}

#[derive(Clone, Debug)]
struct SimContainer {
    memory_mb: u64,
    for_action: Option<ActionKey>,
    state: State,
    /// The action loaded by its init.
    loaded: Option<ActionKey>,
    executing: BTreeSet<ActivationId>,
    create_fails: bool,
}

/// What a create will do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatePlan {
    /// When the driver answers, from now.
    pub delay_ms: u64,
}

/// The answer to a create, when its time comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateAnswer {
    Created,
    Failed,
    /// The container was removed (or never asked for) meanwhile: nothing to report.
    Gone,
}

/// One execution the driver started.
#[derive(Clone, Debug)]
pub struct ExecutionPlan {
    /// When it ends, from now.
    pub delay_ms: u64,
    /// What it reports, unless its container dies first.
    pub executed: Executed,
}

/// The containers of one invoker's driver.
#[derive(Clone, Debug)]
pub struct SimDriver {
    capacity_mb: u64,
    faults: DriverFaults,
    containers: BTreeMap<ContainerId, SimContainer>,
    healed: bool,
}

impl SimDriver {
    /// A driver with no containers on a machine with `capacity_mb` for containers.
    pub fn new(capacity_mb: u64, faults: DriverFaults) -> Self {
        SimDriver {
            capacity_mb,
            faults,
            containers: BTreeMap::new(),
            healed: false,
        }
    }

    /// Stops injecting faults (the drain at the end of a run).
    pub fn heal(&mut self) {
        self.healed = true;
    }

    fn fault(&self, rng: &mut SplitMix64, per_mille: u64) -> bool {
        // Always draw, so healing does not shift the random sequence of later decisions.
        let hit = rng.per_mille(per_mille);
        hit && !self.healed
    }

    /// Memory of all containers the driver has, in MB.
    pub fn used_mb(&self) -> u64 {
        self.containers.values().map(|c| c.memory_mb).sum()
    }

    /// Every container the driver has, whatever its state (what a restarted invoker finds when
    /// it lists the containers labelled with its name: starting and dead ones included).
    pub fn all_containers(&self) -> BTreeSet<ContainerId> {
        self.containers.keys().copied().collect()
    }

    /// Starts creating a container.
    pub fn create(
        &mut self,
        id: ContainerId,
        memory_mb: u64,
        for_action: Option<ActionKey>,
        now: Millis,
        rng: &mut SplitMix64,
    ) -> Result<CreatePlan, Violation> {
        if self.containers.contains_key(&id) {
            return Err(Violation::new(
                Invariant::Protocol,
                now,
                format!("{id} created twice"),
            ));
        }
        let used = self.used_mb() + memory_mb;
        if used > self.capacity_mb {
            return Err(Violation::new(
                Invariant::InvokerMemory,
                now,
                format!(
                    "creating {id} ({memory_mb} MB) brings the invoker to {used} MB of {} MB",
                    self.capacity_mb
                ),
            ));
        }
        let (lo, hi) = self.faults.create_ms;
        let mut delay_ms = rng.between(lo, hi);
        if self.fault(rng, self.faults.slow_create_per_mille) {
            delay_ms *= 10;
        }
        let create_fails = self.fault(rng, self.faults.create_fail_per_mille);
        self.containers.insert(
            id,
            SimContainer {
                memory_mb,
                for_action,
                state: State::Starting,
                loaded: None,
                executing: BTreeSet::new(),
                create_fails,
            },
        );
        Ok(CreatePlan { delay_ms })
    }

    /// The create of `id` finished: up, or failed (and cleaned up).
    pub fn create_finished(&mut self, id: ContainerId) -> CreateAnswer {
        let Some(container) = self.containers.get_mut(&id) else {
            return CreateAnswer::Gone;
        };
        if container.state != State::Starting {
            return CreateAnswer::Gone;
        }
        if container.create_fails {
            self.containers.remove(&id);
            return CreateAnswer::Failed;
        }
        container.state = State::Up;
        CreateAnswer::Created
    }

    /// Starts an execution (init when `init`, then run) of `activation` of `action`.
    #[allow(clippy::too_many_arguments)]
    pub fn execute(
        &mut self,
        id: ContainerId,
        activation: &ActivationId,
        action: &ActionKey,
        init: bool,
        timeout_ms: u64,
        run_ms: (u64, u64),
        now: Millis,
        rng: &mut SplitMix64,
    ) -> Result<ExecutionPlan, Violation> {
        let lost_at_once = |detail: &str| ExecutionPlan {
            delay_ms: 1,
            executed: Executed {
                container: id,
                activation: activation.clone(),
                init: None,
                run: Some(PhaseFacts {
                    started: now,
                    finished: now.plus(1),
                    result: RunResult::Crashed {
                        detail: detail.to_string(),
                    },
                }),
                platform_error: None,
                logs: Vec::new(),
                container_lost: true,
            },
        };
        let Some(container) = self.containers.get_mut(&id) else {
            return Ok(lost_at_once("the container is gone"));
        };
        match container.state {
            State::Dead => return Ok(lost_at_once("the container died")),
            State::Starting => {
                return Err(Violation::new(
                    Invariant::Protocol,
                    now,
                    format!("{activation} executed in {id} before it was created"),
                ))
            }
            State::Paused => {
                return Err(Violation::new(
                    Invariant::Protocol,
                    now,
                    format!("{activation} executed in paused {id}"),
                ))
            }
            State::Up => {}
        }
        if init {
            if let Some(loaded) = &container.loaded {
                return Err(Violation::new(
                    Invariant::ContainerIdentity,
                    now,
                    format!(
                        "{id} holding {loaded} initialized again with {action} for {activation}"
                    ),
                ));
            }
            if let Some(created_for) = &container.for_action {
                if created_for != action {
                    return Err(Violation::new(
                        Invariant::ContainerIdentity,
                        now,
                        format!("{id} created for {created_for} initialized with {action} for {activation}"),
                    ));
                }
            }
            container.loaded = Some(action.clone());
        } else {
            match &container.loaded {
                None => {
                    return Err(Violation::new(
                        Invariant::Protocol,
                        now,
                        format!("{activation} ran in {id} which was never initialized"),
                    ))
                }
                Some(loaded) if loaded != action => {
                    return Err(Violation::new(
                        Invariant::ContainerIdentity,
                        now,
                        format!("{id} holding {loaded} ran {activation} of {action}"),
                    ))
                }
                Some(_) => {}
            }
        }
        container.executing.insert(activation.clone());
        let faults = self.faults.clone();
        let mut t = now;
        let mut init_facts = None;
        if init {
            let init_ms = rng.between(20, 300);
            let hang = self.fault(rng, faults.hang_per_mille / 2);
            let fail = self.fault(rng, faults.init_fail_per_mille);
            let (finished, result, lost) = if hang {
                (t.plus(timeout_ms), InitResult::TimedOut, true)
            } else if fail {
                (
                    t.plus(init_ms),
                    InitResult::Failed {
                        body: r#"{"error":"syntax error"}"#.to_string(),
                    },
                    false,
                )
            } else {
                (t.plus(init_ms), InitResult::Succeeded, false)
            };
            init_facts = Some(PhaseFacts {
                started: t,
                finished,
                result: result.clone(),
            });
            t = finished;
            if result != InitResult::Succeeded {
                return Ok(ExecutionPlan {
                    delay_ms: t.since(now).max(1),
                    executed: Executed {
                        container: id,
                        activation: activation.clone(),
                        init: init_facts,
                        run: None,
                        platform_error: None,
                        logs: vec!["init failed".to_string()],
                        container_lost: lost,
                    },
                });
            }
        }
        let run_time = rng.between(run_ms.0, run_ms.1);
        let roll = rng.below(1000);
        let mut cut = 0;
        let mut next = |per_mille: u64| {
            let lo = cut;
            cut += if self.healed { 0 } else { per_mille };
            roll >= lo && roll < cut
        };
        let (finished, result, lost) = if next(faults.hang_per_mille) {
            (t.plus(timeout_ms), RunResult::TimedOut, true)
        } else if next(faults.crash_per_mille) {
            (
                t.plus(run_time / 2),
                RunResult::Crashed {
                    detail: "the action process exited".to_string(),
                },
                true,
            )
        } else if next(faults.oom_per_mille) {
            (t.plus(run_time / 2), RunResult::MemoryExhausted, true)
        } else if next(faults.app_error_per_mille) {
            (
                t.plus(run_time),
                RunResult::Responded {
                    ok: true,
                    body: r#"{"error":"application failed"}"#.to_string(),
                },
                false,
            )
        } else {
            (
                t.plus(run_time),
                RunResult::Responded {
                    ok: true,
                    body: r#"{"ok":true}"#.to_string(),
                },
                false,
            )
        };
        Ok(ExecutionPlan {
            delay_ms: finished.since(now).max(1),
            executed: Executed {
                container: id,
                activation: activation.clone(),
                init: init_facts,
                run: Some(PhaseFacts {
                    started: t,
                    finished,
                    result,
                }),
                platform_error: None,
                logs: vec!["ran".to_string()],
                container_lost: lost,
            },
        })
    }

    /// An execution's time came: what it reports. If its container died or was removed
    /// meanwhile, the execution died with it.
    pub fn execution_finished(&mut self, mut executed: Executed, now: Millis) -> Executed {
        let id = executed.container;
        let alive = match self.containers.get_mut(&id) {
            Some(c) => c.executing.remove(&executed.activation) && c.state != State::Dead,
            None => false,
        };
        if !alive {
            executed.run = Some(PhaseFacts {
                started: executed
                    .run
                    .as_ref()
                    .map(|r| r.started)
                    .or(executed.init.as_ref().map(|i| i.finished))
                    .unwrap_or(now),
                finished: now,
                result: RunResult::Crashed {
                    detail: "the container died during the run".to_string(),
                },
            });
            executed.container_lost = true;
            return executed;
        }
        if executed.container_lost {
            if let Some(c) = self.containers.get_mut(&id) {
                c.state = State::Dead;
            }
        }
        executed
    }

    /// Pauses an idle container; `Ok(false)` when the driver call failed.
    pub fn pause(
        &mut self,
        id: ContainerId,
        now: Millis,
        rng: &mut SplitMix64,
    ) -> Result<bool, Violation> {
        let fails = self.fault(rng, self.faults.op_fail_per_mille);
        let Some(c) = self.containers.get_mut(&id) else {
            return Ok(false);
        };
        if !c.executing.is_empty() {
            return Err(Violation::new(
                Invariant::Protocol,
                now,
                format!("{id} paused while running {:?}", c.executing),
            ));
        }
        if c.state != State::Up || fails {
            // A container the driver cannot pause is broken.
            c.state = State::Dead;
            return Ok(false);
        }
        c.state = State::Paused;
        Ok(true)
    }

    /// Unpauses a container; `false` when the driver call failed (the container is then broken:
    /// a run sent to it fails at once).
    pub fn unpause(&mut self, id: ContainerId, rng: &mut SplitMix64) -> bool {
        let fails = self.fault(rng, self.faults.op_fail_per_mille);
        match self.containers.get_mut(&id) {
            Some(c) if c.state == State::Paused && !fails => {
                c.state = State::Up;
                true
            }
            Some(c) => {
                c.state = State::Dead;
                false
            }
            None => false,
        }
    }

    /// Removes a container (its memory is free at once). Removing a container that runs
    /// something because it expired or was evicted is a pool bug.
    pub fn remove(
        &mut self,
        id: ContainerId,
        reason: RemovalReason,
        now: Millis,
    ) -> Result<(), Violation> {
        if let Some(c) = self.containers.remove(&id) {
            if !c.executing.is_empty()
                && matches!(reason, RemovalReason::Expired | RemovalReason::Evicted)
            {
                return Err(Violation::new(
                    Invariant::Protocol,
                    now,
                    format!("{id} removed ({reason:?}) while running {:?}", c.executing),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn calm() -> DriverFaults {
        DriverFaults {
            create_ms: (10, 10),
            slow_create_per_mille: 0,
            create_fail_per_mille: 0,
            init_fail_per_mille: 0,
            crash_per_mille: 0,
            oom_per_mille: 0,
            hang_per_mille: 0,
            app_error_per_mille: 0,
            op_fail_per_mille: 0,
        }
    }

    fn key(version: &str) -> ActionKey {
        ActionKey::new("ns", "ns/a", version)
    }

    #[test]
    fn memory_over_capacity_is_a_violation() {
        let mut rng = SplitMix64::new(1);
        let mut d = SimDriver::new(512, calm());
        d.create(ContainerId(0), 256, None, Millis(0), &mut rng)
            .unwrap();
        d.create(ContainerId(1), 256, None, Millis(0), &mut rng)
            .unwrap();
        let v = d
            .create(ContainerId(2), 128, None, Millis(0), &mut rng)
            .unwrap_err();
        assert_eq!(v.invariant, Invariant::InvokerMemory);
        d.remove(ContainerId(0), RemovalReason::Expired, Millis(0))
            .unwrap();
        d.create(ContainerId(2), 128, None, Millis(0), &mut rng)
            .unwrap();
    }

    #[test]
    fn a_container_serves_one_action_version() {
        let mut rng = SplitMix64::new(2);
        let mut d = SimDriver::new(1024, calm());
        let c = ContainerId(0);
        d.create(c, 256, Some(key("1")), Millis(0), &mut rng)
            .unwrap();
        assert_eq!(d.create_finished(c), CreateAnswer::Created);
        let a1 = ActivationId::new("a1");
        let plan = d
            .execute(c, &a1, &key("1"), true, 1000, (5, 5), Millis(10), &mut rng)
            .unwrap();
        let done = d.execution_finished(plan.executed, Millis(20));
        assert!(!done.container_lost);
        let a2 = ActivationId::new("a2");
        let v = d
            .execute(c, &a2, &key("2"), false, 1000, (5, 5), Millis(30), &mut rng)
            .unwrap_err();
        assert_eq!(v.invariant, Invariant::ContainerIdentity);
        let v = d
            .execute(c, &a2, &key("1"), true, 1000, (5, 5), Millis(30), &mut rng)
            .unwrap_err();
        assert_eq!(
            v.invariant,
            Invariant::ContainerIdentity,
            "initialized twice"
        );
        d.execute(c, &a2, &key("1"), false, 1000, (5, 5), Millis(30), &mut rng)
            .unwrap();
    }

    #[test]
    fn protocol_errors_are_caught() {
        let mut rng = SplitMix64::new(3);
        let mut d = SimDriver::new(1024, calm());
        let c = ContainerId(0);
        d.create(c, 256, None, Millis(0), &mut rng).unwrap();
        let a = ActivationId::new("a");
        assert!(d
            .execute(c, &a, &key("1"), true, 1000, (5, 5), Millis(0), &mut rng)
            .is_err());
        d.create_finished(c);
        assert!(d
            .execute(c, &a, &key("1"), false, 1000, (5, 5), Millis(0), &mut rng)
            .is_err());
        let plan = d
            .execute(c, &a, &key("1"), true, 1000, (5, 5), Millis(0), &mut rng)
            .unwrap();
        assert!(
            d.pause(c, Millis(1), &mut rng).is_err(),
            "paused while running"
        );
        assert!(d.remove(c, RemovalReason::Evicted, Millis(1)).is_err());
        // Its execution then reports the container lost.
        let done = d.execution_finished(plan.executed, Millis(5));
        assert!(done.container_lost);
    }

    #[test]
    fn failed_creates_are_cleaned_up() {
        let mut rng = SplitMix64::new(4);
        let mut faults = calm();
        faults.create_fail_per_mille = 1000;
        let mut d = SimDriver::new(256, faults);
        d.create(ContainerId(0), 256, None, Millis(0), &mut rng)
            .unwrap();
        assert_eq!(d.create_finished(ContainerId(0)), CreateAnswer::Failed);
        assert_eq!(d.used_mb(), 0);
        assert_eq!(d.create_finished(ContainerId(0)), CreateAnswer::Gone);
    }
}
