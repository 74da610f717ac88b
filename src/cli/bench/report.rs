//! The bench's report: one row per phase (with CPU time per request where the meter could read
//! it), ratios against the baselines of the same run, and the targets (warm blocking
//! invoke p50 ≤ 1 ms, p99 ≤ 5 ms, ≥ 10,000/s at concurrency 8 and the CPU budget per invocation
//! that rate leaves on this machine's cores, many actions ≥ half the single-action throughput),
//! as text or JSON.

use super::load::Stop;
use super::stats::{PhaseStats, Summary};
use crate::cli::output::Table;
use bridge::IdlePolicy;
use serde_json::{json, Value};

/// Which phase a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `GET /api/v1`.
    Floor,
    /// Blocking invokes of one action.
    Invoke,
    /// Blocking invokes of N actions round-robin.
    InvokeMany(usize),
    /// Direct ActionLoop round trips.
    Baseline,
}

impl Phase {
    fn label(self) -> String {
        match self {
            Phase::Floor => "HTTP floor: GET /api/v1".into(),
            Phase::Invoke => "invoke, 1 action (blocking, result)".into(),
            Phase::InvokeMany(n) => format!("invoke, {n} actions round-robin"),
            Phase::Baseline => "baseline: direct ActionLoop".into(),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Phase::Floor => "http_floor",
            Phase::Invoke => "invoke",
            Phase::InvokeMany(_) => "invoke_many",
            Phase::Baseline => "actionloop_baseline",
        }
    }
}

/// Everything one run measured.
#[derive(Debug)]
pub struct Report {
    apihost: String,
    concurrency: usize,
    warmup_s: u64,
    stop: Stop,
    /// The cores of this machine (the CPU budget of the throughput target).
    cores: usize,
    /// How this machine's CPUs idle (a halting guest pays for every wake-up on an idle vCPU).
    idle: IdlePolicy,
    rows: Vec<(Phase, Summary, Option<String>)>,
}

/// What a ratio compares of two phases.
type Measure = fn(&Summary) -> Option<f64>;

/// The throughput target at concurrency 8, in invocations per second.
const TARGET_PER_SECOND: f64 = 10_000.0;

impl Report {
    pub fn new(apihost: &str, concurrency: usize, warmup_s: u64, stop: Stop) -> Self {
        Report {
            apihost: apihost.to_string(),
            concurrency,
            warmup_s,
            stop,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            idle: IdlePolicy::read(),
            rows: Vec::new(),
        }
    }

    /// Sets the core count the CPU budget is computed for (this machine's otherwise).
    #[cfg(test)]
    pub fn on_cores(mut self, cores: usize) -> Self {
        self.cores = cores.max(1);
        self
    }

    pub fn add(&mut self, phase: Phase, stats: PhaseStats) {
        let summary = stats.summary();
        self.rows.push((phase, summary, stats.first_error));
    }

    fn get(&self, wanted: fn(Phase) -> bool) -> Option<&Summary> {
        self.rows
            .iter()
            .find(|(phase, _, _)| wanted(*phase))
            .map(|(_, summary, _)| summary)
    }

    /// `(name, value)` ratios of the same run.
    pub fn ratios(&self) -> Vec<(String, f64)> {
        let invoke = self.get(|p| p == Phase::Invoke);
        let floor = self.get(|p| p == Phase::Floor);
        let baseline = self.get(|p| p == Phase::Baseline);
        let many = self.get(|p| matches!(p, Phase::InvokeMany(_)));
        let p50 = |s: &Summary| Some(s.p50_ms);
        let p99 = |s: &Summary| Some(s.p99_ms);
        let rate = |s: &Summary| Some(s.per_second);
        let server_cpu = |s: &Summary| s.server_cpu_us;
        let machine_cpu = |s: &Summary| s.machine_cpu_us;
        // (name, numerator phase, denominator phase, what is compared)
        let pairs: [(&str, _, _, Measure); 9] = [
            ("invoke p50 / HTTP floor p50", invoke, floor, p50),
            ("invoke p99 / HTTP floor p99", invoke, floor, p99),
            ("invoke p50 / ActionLoop p50", invoke, baseline, p50),
            ("invoke p99 / ActionLoop p99", invoke, baseline, p99),
            ("invoke req/s / HTTP floor req/s", invoke, floor, rate),
            ("invoke req/s / ActionLoop req/s", invoke, baseline, rate),
            (
                "invoke server CPU/req / HTTP floor server CPU/req",
                invoke,
                floor,
                server_cpu,
            ),
            (
                "invoke machine CPU/req / ActionLoop machine CPU/req",
                invoke,
                baseline,
                machine_cpu,
            ),
            ("many actions req/s / 1 action req/s", many, invoke, rate),
        ];
        pairs
            .into_iter()
            .filter_map(|(name, a, b, measure)| {
                let (a, b) = (a.and_then(measure)?, b.and_then(measure)?);
                (b > 0.0).then(|| (name.to_string(), a / b))
            })
            .collect()
    }

    /// `(target, measured, met)` for the targets that this run measured.
    pub fn targets(&self) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        if let Some(invoke) = self.get(|p| p == Phase::Invoke) {
            out.push((
                "warm blocking invoke p50 <= 1 ms".into(),
                format!("{:.3} ms", invoke.p50_ms),
                invoke.p50_ms <= 1.0,
            ));
            out.push((
                "warm blocking invoke p99 <= 5 ms".into(),
                format!("{:.3} ms", invoke.p99_ms),
                invoke.p99_ms <= 5.0,
            ));
            if self.concurrency == 8 {
                out.push((
                    ">= 10,000 invocations/s at concurrency 8".into(),
                    format!("{:.0}/s", invoke.per_second),
                    invoke.per_second >= TARGET_PER_SECOND,
                ));
                if let Some(used) = invoke.machine_cpu_us {
                    // At 10,000/s every invocation may use the cores' second / 10,000.
                    let budget = self.cores as f64 * 1e6 / TARGET_PER_SECOND;
                    out.push((
                        format!(
                            "machine CPU per invocation <= {budget:.0} us (10,000/s on {} cores)",
                            self.cores
                        ),
                        format!("{used:.0} us"),
                        used <= budget,
                    ));
                }
            }
            if let Some(many) = self.get(|p| matches!(p, Phase::InvokeMany(_))) {
                let ratio = if invoke.per_second > 0.0 {
                    many.per_second / invoke.per_second
                } else {
                    0.0
                };
                out.push((
                    "many actions >= 0.5 x single-action throughput".into(),
                    format!("{ratio:.2} x"),
                    ratio >= 0.5,
                ));
            }
        }
        out
    }

    fn measured(&self) -> String {
        match self.stop {
            Stop::After(d) => format!("{} s", d.as_secs()),
            Stop::Count(n) => format!("{n} requests"),
        }
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut text = format!(
            "whirl bench invoke: {} at concurrency {}, {} per phase after {} s of warm-up\n\
             this machine: {} CPUs, {}\n\n",
            self.apihost,
            self.concurrency,
            self.measured(),
            self.warmup_s,
            self.cores,
            self.idle
        );
        let mut table = Table::new();
        let with_cpu = self
            .rows
            .iter()
            .any(|(_, s, _)| s.server_cpu_us.is_some() || s.machine_cpu_us.is_some());
        let mut header: Vec<String> = [
            "phase", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms",
        ]
        .map(String::from)
        .to_vec();
        if with_cpu {
            header.push("server CPU us/req".into());
            header.push("machine CPU us/req".into());
        }
        table.row(header);
        let micros = |value: Option<f64>| value.map_or_else(|| "-".into(), |v| format!("{v:.0}"));
        for (phase, s, _) in &self.rows {
            let mut row = vec![
                phase.label(),
                s.requests.to_string(),
                s.errors.to_string(),
                format!("{:.0}", s.per_second),
                format!("{:.3}", s.p50_ms),
                format!("{:.3}", s.p90_ms),
                format!("{:.3}", s.p99_ms),
            ];
            if with_cpu {
                row.push(micros(s.server_cpu_us));
                row.push(micros(s.machine_cpu_us));
            }
            table.row(row);
        }
        text.push_str(&table.render());
        for (phase, _, error) in &self.rows {
            if let Some(error) = error {
                text.push_str(&format!("first error in '{}': {error}\n", phase.label()));
            }
        }
        let ratios = self.ratios();
        if !ratios.is_empty() {
            text.push_str("\nratios (same run):\n");
            let mut table = Table::new();
            for (name, value) in ratios {
                table.row([format!("  {name}"), format!("{value:.2}")]);
            }
            text.push_str(&table.render());
        }
        let targets = self.targets();
        if !targets.is_empty() {
            text.push_str("\ntargets:\n");
            let mut table = Table::new();
            for (name, measured, met) in targets {
                table.row([
                    format!("  {name}"),
                    measured,
                    if met { "met" } else { "NOT met" }.to_string(),
                ]);
            }
            text.push_str(&table.render());
        }
        text
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        let phases: serde_json::Map<String, Value> = self
            .rows
            .iter()
            .map(|(phase, summary, error)| {
                let mut value = serde_json::to_value(summary).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut value {
                    map.insert("label".into(), phase.label().into());
                    map.insert("first_error".into(), error.clone().into());
                }
                (phase.key().to_string(), value)
            })
            .collect();
        json!({
            "apihost": self.apihost,
            "concurrency": self.concurrency,
            "measured": self.measured(),
            "warmup_s": self.warmup_s,
            "cores": self.cores,
            "cpuidle_driver": self.idle.driver,
            "guest_halt_poll_ns": self.idle.halt_poll_ns,
            "phases": phases,
            "ratios": Value::Object(
                self.ratios().into_iter().map(|(name, value)| (name, json!(value))).collect()
            ),
            "targets": self.targets().into_iter()
                .map(|(name, measured, met)| json!({"target": name, "measured": measured, "met": met}))
                .collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::bench::cpu::CpuUse;
    use std::time::Duration;

    fn stats(micros: Vec<u32>, seconds: u64) -> PhaseStats {
        PhaseStats {
            micros,
            window: Duration::from_secs(seconds),
            ..PhaseStats::default()
        }
    }

    #[test]
    fn ratios_and_targets_compare_phases_of_the_same_run() {
        let mut report = Report::new("http://h", 8, 1, Stop::After(Duration::from_secs(1)));
        report.add(Phase::Floor, stats(vec![200; 20_000], 1));
        report.add(Phase::Invoke, stats(vec![800; 12_000], 1));
        report.add(Phase::InvokeMany(100), stats(vec![1600; 5_000], 1));
        report.add(Phase::Baseline, stats(vec![100; 40_000], 1));
        let ratios: std::collections::HashMap<_, _> = report.ratios().into_iter().collect();
        assert_eq!(ratios["invoke p50 / HTTP floor p50"], 4.0);
        assert_eq!(ratios["invoke p50 / ActionLoop p50"], 8.0);
        assert_eq!(ratios["invoke req/s / ActionLoop req/s"], 0.3);
        assert!((ratios["many actions req/s / 1 action req/s"] - 5.0 / 12.0).abs() < 1e-9);
        let targets = report.targets();
        assert_eq!(
            targets.iter().map(|t| t.2).collect::<Vec<_>>(),
            vec![true, true, true, false]
        );
        let text = report.render();
        assert!(text.contains("invoke, 100 actions round-robin"), "{text}");
        assert!(text.contains("NOT met"), "{text}");
        assert!(text.contains("this machine: "), "{text}");
        let json = report.to_json();
        assert!(json["cores"].as_u64().unwrap() >= 1, "{json}");
        assert_eq!(json["phases"]["invoke"]["requests"], 12_000);
        assert_eq!(json["targets"][3]["met"], false);
        assert!(!text.contains("CPU us/req"), "no CPU was read: {text}");
        assert_eq!(
            json["phases"]["invoke"]["server_cpu_us_per_request"],
            Value::Null
        );
    }

    fn with_cpu(micros: u32, requests: usize, server_s: Option<f64>, machine_s: f64) -> PhaseStats {
        PhaseStats {
            cpu: CpuUse {
                server_seconds: server_s,
                machine_seconds: Some(machine_s),
            },
            ..stats(vec![micros; requests], 1)
        }
    }

    #[test]
    fn cpu_per_request_is_shown_compared_and_held_to_the_budget() {
        let mut report =
            Report::new("http://h", 8, 1, Stop::After(Duration::from_secs(1))).on_cores(2);
        // Floor: 20,000 requests, 0.4 s of server CPU (20 us each), 1 s of machine CPU.
        report.add(Phase::Floor, with_cpu(200, 20_000, Some(0.4), 1.0));
        // Invoke: 4,000 requests, 1.6 s of server CPU (400 us), 2.0 s of machine CPU (500 us).
        report.add(Phase::Invoke, with_cpu(2000, 4_000, Some(1.6), 2.0));
        // Baseline: 25,000 round trips, 2.0 s of machine CPU (80 us).
        report.add(Phase::Baseline, with_cpu(300, 25_000, None, 2.0));
        let ratios: std::collections::HashMap<_, _> = report.ratios().into_iter().collect();
        assert_eq!(
            ratios["invoke server CPU/req / HTTP floor server CPU/req"],
            20.0
        );
        assert_eq!(
            ratios["invoke machine CPU/req / ActionLoop machine CPU/req"],
            6.25
        );
        let budget = report
            .targets()
            .into_iter()
            .find(|(name, _, _)| name.starts_with("machine CPU per invocation"))
            .unwrap();
        assert_eq!(
            budget,
            (
                "machine CPU per invocation <= 200 us (10,000/s on 2 cores)".into(),
                "500 us".into(),
                false
            )
        );
        let text = report.render();
        assert!(text.contains("server CPU us/req"), "{text}");
        let baseline_row = text
            .lines()
            .find(|line| line.starts_with("baseline"))
            .unwrap();
        let cells: Vec<&str> = baseline_row.split_whitespace().collect();
        assert_eq!(cells[cells.len() - 2..], ["-", "80"], "{baseline_row}");
        let json = report.to_json();
        assert_eq!(json["phases"]["invoke"]["server_cpu_us_per_request"], 400.0);
        assert_eq!(
            json["phases"]["invoke"]["machine_cpu_us_per_request"],
            500.0
        );
        assert_eq!(
            json["phases"]["actionloop_baseline"]["server_cpu_us_per_request"],
            Value::Null
        );
    }
}
