//! The shape of one simulated run, drawn from its seed: how many invokers and how much memory,
//! which actions, triggers and rules exist, how fast clients act, and how often each fault strikes.
//!
//! Every seed gets its own mix, so a sweep covers calm runs, lossy buses, crashy drivers and
//! crash-heavy controllers alike.

use crate::random::Draw;
use actors::core::controller::ControllerConfig;
use actors::core::dispatcher::DispatcherConfig;
use actors::core::pool::{HistogramPolicy, KeepAlivePolicy, PoolConfig, PrewarmSpec};
use actors::core::throttle::ThrottleConfig;
use actors::core::{Kind, SplitMix64};

/// Where the simulated clock starts: 2024-01-01T00:00:00Z in unix milliseconds (the throttles
/// count calendar minutes of wall-clock time).
pub const EPOCH_MS: u64 = 1_704_067_200_000;

/// Bounds the caller sets on a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLimits {
    /// Simulated milliseconds during which clients act and faults strike.
    pub time_ms: u64,
    /// The most events processed (a safety bound; the run fails when hit).
    pub max_steps: u64,
    /// Print every trace line.
    pub verbose: bool,
    /// Trace lines kept to explain a failure.
    pub keep_lines: usize,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            time_ms: 20_000,
            max_steps: 2_000_000,
            verbose: false,
            keep_lines: 30,
        }
    }
}

/// How the simulated bus treats messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusFaults {
    /// Usual latency range in ms.
    pub latency_ms: (u64, u64),
    /// Per mille of messages that take a slow path.
    pub slow_per_mille: u64,
    /// Latency range of the slow path in ms.
    pub slow_latency_ms: (u64, u64),
    /// Per mille of messages dropped.
    pub drop_per_mille: u64,
    /// Per mille of messages delivered twice.
    pub duplicate_per_mille: u64,
}

/// How the simulated container driver misbehaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverFaults {
    /// Container creation time range in ms.
    pub create_ms: (u64, u64),
    /// Per mille of creations that take ten times longer.
    pub slow_create_per_mille: u64,
    /// Per mille of creations that fail.
    pub create_fail_per_mille: u64,
    /// Per mille of inits that fail (the action's code is refused).
    pub init_fail_per_mille: u64,
    /// Per mille of runs whose container crashes.
    pub crash_per_mille: u64,
    /// Per mille of runs that run out of memory.
    pub oom_per_mille: u64,
    /// Per mille of runs that hang until their time limit.
    pub hang_per_mille: u64,
    /// Per mille of runs that answer with an application error.
    pub app_error_per_mille: u64,
    /// Per mille of pause, unpause and remove calls that fail.
    pub op_fail_per_mille: u64,
}

/// When processes crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashFaults {
    /// Mean time between controller crashes in ms (`0`: never).
    pub controller_mean_ms: u64,
    /// Mean time between crashes of each invoker in ms (`0`: never).
    pub invoker_mean_ms: u64,
    /// Per mille of invoker crashes that only restart the hosting actor (the process and its
    /// core's memory survive); the others kill the process.
    pub actor_restart_per_mille: u64,
    /// Downtime range in ms.
    pub downtime_ms: (u64, u64),
}

/// One action the clients use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionSpec {
    pub namespace: String,
    pub name: String,
    pub kind: Kind,
    pub memory_mb: u64,
    pub concurrency: u32,
    pub timeout_ms: u64,
    /// Run time range in ms.
    pub run_ms: (u64, u64),
}

/// One rule: fires of `trigger` invoke `action` while active.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSpec {
    pub namespace: String,
    pub name: String,
    pub trigger: String,
    pub action: String,
}

/// Everything one run is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    pub seed: u64,
    pub invokers: u32,
    pub pool: PoolConfig,
    pub controller: ControllerConfig,
    pub namespaces: Vec<String>,
    pub actions: Vec<ActionSpec>,
    /// Triggers as (namespace, name).
    pub triggers: Vec<(String, String)>,
    pub rules: Vec<RuleSpec>,
    /// Mean time between client operations in ms.
    pub client_gap_ms: u64,
    /// Weights of the client operations: invoke, fire, update an action, change a rule.
    pub op_weights: [u64; 4],
    /// Group commit: the log flushes this often while appends wait.
    pub flush_every_ms: u64,
    /// The projection persists its rows and checkpoint this often.
    pub checkpoint_every_ms: u64,
    pub bus: BusFaults,
    pub driver: DriverFaults,
    pub crashes: CrashFaults,
}

fn pick<T: Clone>(rng: &mut SplitMix64, items: &[T]) -> T {
    items[rng.below(items.len() as u64) as usize].clone()
}

impl SimConfig {
    /// The run of `seed`. The same seed always gives the same configuration.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed ^ 0x5EED_C0F1_6000_0001);
        let invokers = rng.between(1, 4) as u32;
        let user_memory_mb = pick(&mut rng, &[512, 768, 1024, 2048]);
        // A quarter of the runs use a histogram policy scaled down to the simulated seconds (bins
        // of 100 to 500 ms), so pre-warming and per-action windows meet the faults too.
        let keep_alive = if rng.per_mille(250) {
            let mut policy = if rng.per_mille(500) {
                HistogramPolicy::whirl()
            } else {
                HistogramPolicy::paper()
            };
            policy.bin_ms = rng.between(100, 500);
            policy.bins = 40;
            policy.standard_keep_alive_ms = rng.between(500, 5_000);
            KeepAlivePolicy::Histogram(policy)
        } else {
            KeepAlivePolicy::IdleFor {
                idle_ms: pick(&mut rng, &[1_000, 5_000, 30_000, 600_000]),
            }
        };
        let prewarm = if rng.per_mille(300) {
            vec![PrewarmSpec {
                kind: Kind::new("python:3"),
                memory_mb: 256,
                count: rng.between(1, 2) as u32,
            }]
        } else {
            Vec::new()
        };
        let pool = PoolConfig {
            user_memory_mb,
            pause_grace_ms: if rng.per_mille(200) {
                None
            } else {
                Some(rng.between(100, 3_000))
            },
            keep_alive,
            prewarm,
            max_create_attempts: 3,
            ..PoolConfig::default()
        };
        let controller = ControllerConfig {
            dispatcher: DispatcherConfig {
                offline_after_ms: 3_000,
                health_window: 10,
                unhealthy_after_system_errors: 3,
                unhealthy_hold_ms: rng.between(1_000, 10_000),
            },
            throttles: ThrottleConfig {
                invocations_per_minute: rng.between(100, 1_000) as u32,
                concurrent_invocations: rng.between(3, 30) as u32,
                fires_per_minute: rng.between(10, 120) as u32,
            },
            completion_grace_ms: Some(rng.between(2_000, 8_000)),
        };
        let namespaces = vec!["alpha".to_string(), "beta".to_string()];
        let mut actions = Vec::new();
        for ns in &namespaces {
            for i in 0..rng.between(2, 4) {
                let kind = pick(&mut rng, &["python:3", "nodejs:20"]);
                let concurrency = if rng.per_mille(200) {
                    rng.between(2, 4) as u32
                } else {
                    1
                };
                let fast = rng.between(5, 200);
                actions.push(ActionSpec {
                    namespace: ns.clone(),
                    name: format!("act{i}"),
                    kind: Kind::new(kind),
                    memory_mb: pick(&mut rng, &[128, 256, 256, 512]),
                    concurrency,
                    timeout_ms: rng.between(500, 3_000),
                    run_ms: (fast, fast + rng.between(0, 800)),
                });
            }
        }
        let mut triggers = Vec::new();
        let mut rules = Vec::new();
        for ns in &namespaces {
            let in_ns: Vec<&ActionSpec> = actions.iter().filter(|a| &a.namespace == ns).collect();
            for t in 0..rng.between(1, 2) {
                let trigger = format!("trig{t}");
                triggers.push((ns.clone(), trigger.clone()));
                for r in 0..rng.between(1, 3) {
                    let action = in_ns[rng.below(in_ns.len() as u64) as usize];
                    rules.push(RuleSpec {
                        namespace: ns.clone(),
                        name: format!("{trigger}-rule{r}"),
                        trigger: trigger.clone(),
                        action: action.name.clone(),
                    });
                }
            }
        }
        let calm = rng.per_mille(150);
        let bus = BusFaults {
            latency_ms: (1, rng.between(2, 30)),
            slow_per_mille: if calm { 0 } else { rng.between(0, 40) },
            slow_latency_ms: (100, rng.between(200, 4_000)),
            drop_per_mille: if calm { 0 } else { rng.between(0, 20) },
            duplicate_per_mille: if calm { 0 } else { rng.between(0, 30) },
        };
        let create_lo = rng.between(50, 800);
        let driver = DriverFaults {
            create_ms: (create_lo, create_lo + rng.between(0, 1_000)),
            slow_create_per_mille: if calm { 0 } else { rng.between(0, 50) },
            create_fail_per_mille: if calm { 0 } else { rng.between(0, 60) },
            init_fail_per_mille: if calm { 0 } else { rng.between(0, 30) },
            crash_per_mille: if calm { 0 } else { rng.between(0, 30) },
            oom_per_mille: if calm { 0 } else { rng.between(0, 20) },
            hang_per_mille: if calm { 0 } else { rng.between(0, 20) },
            app_error_per_mille: rng.between(0, 100),
            op_fail_per_mille: if calm { 0 } else { rng.between(0, 10) },
        };
        let crashes = CrashFaults {
            controller_mean_ms: if calm || rng.per_mille(300) {
                0
            } else {
                rng.between(1_500, 12_000)
            },
            invoker_mean_ms: if calm || rng.per_mille(300) {
                0
            } else {
                rng.between(2_000, 15_000)
            },
            actor_restart_per_mille: rng.between(0, 1000),
            downtime_ms: (50, rng.between(100, 5_000)),
        };
        SimConfig {
            seed,
            invokers,
            pool,
            controller,
            namespaces,
            actions,
            triggers,
            rules,
            client_gap_ms: rng.between(40, 300),
            op_weights: [80, rng.between(5, 20), rng.between(2, 8), rng.between(2, 8)],
            flush_every_ms: rng.between(1, 15),
            checkpoint_every_ms: rng.between(200, 3_000),
            bus,
            driver,
            crashes,
        }
    }

    /// The spec of an action by namespace and name.
    pub fn action(&self, namespace: &str, name: &str) -> Option<&ActionSpec> {
        self.actions
            .iter()
            .find(|a| a.namespace == namespace && a.name == name)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_config_and_seeds_differ() {
        assert_eq!(SimConfig::from_seed(5), SimConfig::from_seed(5));
        let distinct: std::collections::BTreeSet<String> = (0..20)
            .map(|s| format!("{:?}", SimConfig::from_seed(s)))
            .collect();
        assert_eq!(distinct.len(), 20);
    }

    #[test]
    fn every_rule_names_an_existing_trigger_and_action() {
        for seed in 0..50 {
            let c = SimConfig::from_seed(seed);
            for r in &c.rules {
                assert!(c
                    .triggers
                    .contains(&(r.namespace.clone(), r.trigger.clone())));
                assert!(c.action(&r.namespace, &r.action).is_some());
            }
            assert!(c
                .actions
                .iter()
                .all(|a| a.memory_mb <= c.pool.user_memory_mb));
        }
    }
}
