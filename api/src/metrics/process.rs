//! The `process_*` families that Prometheus's client libraries report for their own process
//! (CPU seconds, resident and virtual memory, threads, open and maximum file descriptors, start
//! time), read from `/proc/self` at scrape time. Dashboards and alerts written for any Prometheus
//! target work on Whirl's too, and `whirl bench invoke` reads the CPU counter to report the
//! server's CPU time per request. Where `/proc` cannot be read (not Linux) the families are left
//! out.

use std::path::Path;

/// The clock ticks per second of the times in `/proc/*/stat` (Linux's `USER_HZ`, fixed at 100
/// for user space whatever the kernel's own tick rate).
const USER_HZ: f64 = 100.0;

/// One reading of the process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSample {
    /// User and system CPU time, in seconds.
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub threads: u64,
    /// Seconds since the Unix epoch.
    pub start_time_seconds: f64,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
}

/// Reads this process's sample from `/proc` (`None` where it is missing or unreadable).
pub fn read_own() -> Option<ProcessSample> {
    let dir = Path::new("/proc/self");
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    let status = std::fs::read_to_string(dir.join("status")).ok()?;
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|text| boot_time(&text))?;
    let times = stat_times(&stat)?;
    let open_fds = std::fs::read_dir(dir.join("fd"))
        .ok()
        .map(|entries| entries.count() as u64);
    let max_fds = std::fs::read_to_string(dir.join("limits"))
        .ok()
        .and_then(|text| max_open_files(&text));
    Some(ProcessSample {
        cpu_seconds: times.cpu_ticks as f64 / USER_HZ,
        resident_bytes: status_kib(&status, "VmRSS")? * 1024,
        virtual_bytes: status_kib(&status, "VmSize")? * 1024,
        threads: status_value(&status, "Threads")?,
        start_time_seconds: boot_time as f64 + times.start_ticks as f64 / USER_HZ,
        open_fds,
        max_fds,
    })
}

/// What `/proc/<pid>/stat` says of CPU and start time, in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatTimes {
    /// utime + stime.
    cpu_ticks: u64,
    /// Since boot.
    start_ticks: u64,
}

/// Parses `/proc/<pid>/stat`: `pid (comm) state ppid ...`, where comm may hold spaces and
/// parentheses, so the fields are counted from the last `)`. utime and stime are fields 14 and
/// 15, starttime field 22 (proc(5)).
fn stat_times(stat: &str) -> Option<StatTimes> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // fields[0] is field 3 (state).
    let field = |number: usize| -> Option<u64> { fields.get(number - 3)?.parse().ok() };
    Some(StatTimes {
        cpu_ticks: field(14)? + field(15)?,
        start_ticks: field(22)?,
    })
}

/// The `btime` line of `/proc/stat`: the boot time in seconds since the epoch.
fn boot_time(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

/// A `Key:   123 kB` line of `/proc/<pid>/status`, in KiB.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let value = status_field(status, key)?;
    value.strip_suffix("kB")?.trim().parse().ok()
}

/// A `Key:   123` line of `/proc/<pid>/status`.
fn status_value(status: &str, key: &str) -> Option<u64> {
    status_field(status, key)?.parse().ok()
}

fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name == key).then(|| value.trim())
    })
}

/// The soft limit of `Max open files` in `/proc/<pid>/limits` (`None` when unlimited).
fn max_open_files(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis() {
        // A command name holding a space and a parenthesis; utime 250, stime 50, starttime 4200.
        let stat =
            "4242 (whirl (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 19 0 4200 \
                    1073741824 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(
            stat_times(stat),
            Some(StatTimes {
                cpu_ticks: 300,
                start_ticks: 4200,
            })
        );
        assert_eq!(stat_times("garbage"), None);
        assert_eq!(stat_times("1 (short) S 1 2"), None);
    }

    #[test]
    fn status_limits_and_boot_time_are_parsed() {
        let status = "Name:\twhirl\nVmSize:\t  123456 kB\nVmRSS:\t    2048 kB\nThreads:\t19\n";
        assert_eq!(status_kib(status, "VmRSS"), Some(2048));
        assert_eq!(status_kib(status, "VmSize"), Some(123_456));
        assert_eq!(status_value(status, "Threads"), Some(19));
        assert_eq!(status_kib(status, "VmSwap"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            20000                40000                files     \n";
        assert_eq!(max_open_files(limits), Some(20_000));
        assert_eq!(
            max_open_files(
                "Max open files            unlimited            unlimited            files"
            ),
            None
        );
        assert_eq!(
            boot_time("cpu  1 2 3 4\nintr 5\nbtime 1764200000\nprocesses 9\n"),
            Some(1_764_200_000)
        );
    }

    #[test]
    fn this_process_is_read_and_its_cpu_time_grows() {
        if !Path::new("/proc/self/stat").exists() {
            return; // not Linux: the families are left out, as read_own's None says
        }
        let first = read_own().expect("a sample of this process");
        assert!(first.resident_bytes > 0);
        assert!(first.virtual_bytes >= first.resident_bytes);
        assert!(first.threads >= 1);
        assert!(first.open_fds.unwrap() >= 3);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(first.start_time_seconds <= now + 1.0);
        assert!(first.start_time_seconds > now - 86_400.0 * 365.0);
        // Burn CPU until the counter (10 ms ticks) has moved by 50 ms; a counter that never
        // moves fails at the deadline.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut x = 0u64;
        let second = loop {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            let sample = read_own().unwrap();
            if sample.cpu_seconds >= first.cpu_seconds + 0.05 {
                break sample;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the CPU counter stayed at {} s",
                first.cpu_seconds
            );
        };
        assert!(second.cpu_seconds < first.cpu_seconds + 60.0);
    }
}
