//! CPU time per request for `whirl bench invoke`, read at the two ends of each measured window:
//! the server's own (`process_cpu_seconds_total` on its `/metrics`) and, when the server runs on
//! this machine (a loopback API host), the whole machine's busy time from `/proc/stat` (the
//! server, its action processes and this load generator together, which is what a throughput
//! target on this machine has to fit in). Throughput on a shared machine moves with whatever
//! else runs; the server's CPU per request moves much less.

use std::time::Duration;

/// Linux's `USER_HZ`: the tick of the times in `/proc/stat`.
const USER_HZ: f64 = 100.0;

/// What can be read where.
#[derive(Debug)]
pub struct CpuMeter {
    /// `/proc/stat` is readable and the server is on this machine.
    machine: bool,
    /// The server's `/metrics`, when it answers with `process_cpu_seconds_total`.
    server: Option<(ureq::Agent, String)>,
}

/// One reading of the meter.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuReading {
    server_seconds: Option<f64>,
    machine_ticks: Option<u64>,
}

/// CPU spent over a window, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUse {
    pub server_seconds: Option<f64>,
    pub machine_seconds: Option<f64>,
}

impl CpuMeter {
    /// A meter for the server at `base` (`http://host:port`).
    pub fn for_server(base: &str) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(5))
            .build();
        let url = format!("{}/metrics", base.trim_end_matches('/'));
        let server = server_cpu(&agent, &url).map(|_| (agent, url));
        CpuMeter {
            machine: is_loopback(base) && read_machine_ticks().is_some(),
            server,
        }
    }

    /// A meter that reads nothing (tests).
    #[cfg(test)]
    pub fn none() -> Self {
        CpuMeter {
            machine: false,
            server: None,
        }
    }

    /// The machine's side only (a phase that does not involve the server).
    pub fn machine_only(&self) -> Self {
        CpuMeter {
            machine: self.machine,
            server: None,
        }
    }

    /// Sleeps `duration`, then reads.
    pub fn read_after(&self, duration: Duration) -> CpuReading {
        std::thread::sleep(duration);
        self.read()
    }

    /// Reads what this meter can read now.
    pub fn read(&self) -> CpuReading {
        CpuReading {
            server_seconds: self
                .server
                .as_ref()
                .and_then(|(agent, url)| server_cpu(agent, url)),
            machine_ticks: if self.machine {
                read_machine_ticks()
            } else {
                None
            },
        }
    }
}

impl CpuReading {
    /// What was spent from this reading until `later`.
    pub fn until(&self, later: &CpuReading) -> CpuUse {
        CpuUse {
            server_seconds: self
                .server_seconds
                .zip(later.server_seconds)
                .map(|(a, b)| (b - a).max(0.0)),
            machine_seconds: self
                .machine_ticks
                .zip(later.machine_ticks)
                .map(|(a, b)| b.saturating_sub(a) as f64 / USER_HZ),
        }
    }
}

/// Microseconds of `seconds` per request (`None` without requests).
pub fn per_request_micros(seconds: Option<f64>, requests: u64) -> Option<f64> {
    seconds
        .filter(|_| requests > 0)
        .map(|s| s * 1e6 / requests as f64)
}

fn server_cpu(agent: &ureq::Agent, url: &str) -> Option<f64> {
    let text = agent.get(url).call().ok()?.into_string().ok()?;
    process_cpu_seconds(&text)
}

/// The `process_cpu_seconds_total` sample of a Prometheus text exposition.
fn process_cpu_seconds(exposition: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let value = line.strip_prefix("process_cpu_seconds_total ")?;
        value.trim().parse().ok()
    })
}

fn read_machine_ticks() -> Option<u64> {
    busy_ticks(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// Busy ticks of all CPUs: the `cpu` line of `/proc/stat` less idle and iowait (guest time is
/// already inside user and nice).
fn busy_ticks(proc_stat: &str) -> Option<u64> {
    let line = proc_stat.lines().find(|line| line.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice]
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| fields.get(i).copied().unwrap_or(0))
        .sum();
    (fields.len() >= 4).then_some(busy)
}

/// Whether `base` names this machine: 127.0.0.0/8, ::1 or localhost.
fn is_loopback(base: &str) -> bool {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn busy_ticks_leave_out_idle_and_iowait() {
        let stat = "cpu  100 20 30 5000 40 5 6 7 0 0\ncpu0 50 10 15 2500 20 2 3 3 0 0\nbtime 1\n";
        assert_eq!(busy_ticks(stat), Some(100 + 20 + 30 + 5 + 6 + 7));
        assert_eq!(busy_ticks("cpu  1 2 3 4\n"), Some(6));
        assert_eq!(busy_ticks("cpu0 1 2 3 4\n"), None);
        assert_eq!(busy_ticks("cpu  1 x 3 4\n"), None);
    }

    #[test]
    fn the_server_cpu_sample_is_found_in_an_exposition() {
        let text =
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
                    # TYPE process_cpu_seconds_total counter\n\
                    process_cpu_seconds_total 12.34\n\
                    process_threads 19\n";
        assert_eq!(process_cpu_seconds(text), Some(12.34));
        assert_eq!(process_cpu_seconds("process_threads 19\n"), None);
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:3233"));
        assert!(is_loopback("http://127.8.9.1:80/"));
        assert!(is_loopback("http://localhost:3233"));
        assert!(is_loopback("http://[::1]:3233"));
        assert!(is_loopback("127.0.0.1:3233"));
        assert!(!is_loopback("http://10.0.0.5:3233"));
        assert!(!is_loopback("https://whirl.example:443"));
    }

    #[test]
    fn use_over_a_window_and_per_request() {
        let before = CpuReading {
            server_seconds: Some(10.0),
            machine_ticks: Some(1_000),
        };
        let after = CpuReading {
            server_seconds: Some(10.5),
            machine_ticks: Some(1_150),
        };
        let used = before.until(&after);
        assert_eq!(used.server_seconds, Some(0.5));
        assert_eq!(used.machine_seconds, Some(1.5));
        assert_eq!(per_request_micros(used.server_seconds, 1_000), Some(500.0));
        assert_eq!(per_request_micros(used.machine_seconds, 0), None);
        let unknown = CpuReading::default().until(&after);
        assert_eq!(unknown, CpuUse::default());
    }

    #[test]
    fn this_machine_reads_its_busy_time() {
        if std::fs::read_to_string("/proc/stat").is_err() {
            return;
        }
        let meter = CpuMeter {
            machine: true,
            server: None,
        };
        let first = meter.read();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let used = first.until(&meter.read());
        assert!(used.machine_seconds.unwrap() > 0.0);
        assert_eq!(used.server_seconds, None);
    }
}
