//! How this machine's CPUs idle: the cpuidle driver and, on a KVM guest with the `haltpoll`
//! driver, how long an idle vCPU polls before it halts (`guest_halt_poll_ns`).
//!
//! Benchmarks print it next to their figures. On a guest whose vCPUs halt at once, waking a
//! thread on an idle vCPU goes through the host and costs tens of microseconds, several times
//! per invocation (docs/benchmarks.md, "Halt polling"; docs/deploy.md, "Host tuning"), so the
//! same build measures very differently on a guest that polls first.

use std::fmt;
use std::path::Path;

/// Where Linux publishes the cpuidle driver in use.
const CPUIDLE_DRIVER: &str = "/sys/devices/system/cpu/cpuidle/current_driver";
/// The haltpoll driver's polling window, in nanoseconds (0: halt at once).
const HALT_POLL_NS: &str = "/sys/module/haltpoll/parameters/guest_halt_poll_ns";

/// The idle behaviour of this machine's CPUs, as far as Linux tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdlePolicy {
    /// The cpuidle driver (`haltpoll`, `intel_idle`, `acpi_idle`, ...), if cpuidle is on.
    pub driver: Option<String>,
    /// `guest_halt_poll_ns` when the haltpoll driver is in use.
    pub halt_poll_ns: Option<u64>,
}

impl IdlePolicy {
    /// Reads this machine's policy from `/sys` (fields stay `None` where it says nothing).
    pub fn read() -> Self {
        Self::read_from(Path::new(CPUIDLE_DRIVER), Path::new(HALT_POLL_NS))
    }

    fn read_from(driver: &Path, halt_poll_ns: &Path) -> Self {
        let text = |path: &Path| std::fs::read_to_string(path).ok();
        Self::parse(text(driver).as_deref(), text(halt_poll_ns).as_deref())
    }

    /// The policy from the two files' contents.
    pub fn parse(driver: Option<&str>, halt_poll_ns: Option<&str>) -> Self {
        let driver = driver
            .map(str::trim)
            .filter(|d| !d.is_empty() && *d != "none")
            .map(str::to_string);
        let halt_poll_ns = if driver.as_deref() == Some("haltpoll") {
            halt_poll_ns.and_then(|ns| ns.trim().parse().ok())
        } else {
            None
        };
        IdlePolicy {
            driver,
            halt_poll_ns,
        }
    }

    /// True when an idle vCPU halts without polling first: every wake-up on it is a trip
    /// through the host.
    pub fn halts_at_once(&self) -> bool {
        self.halt_poll_ns == Some(0)
    }
}

impl fmt::Display for IdlePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.driver, self.halt_poll_ns) {
            (None, _) => write!(f, "cpuidle off or unknown"),
            (Some(driver), None) => write!(f, "cpuidle {driver}"),
            (Some(driver), Some(0)) => write!(
                f,
                "cpuidle {driver}, guest_halt_poll_ns 0 (idle vCPUs halt at once: a wake-up on one goes through the host)"
            ),
            (Some(driver), Some(ns)) => write!(
                f,
                "cpuidle {driver}, guest_halt_poll_ns {ns} (idle vCPUs poll {} µs before halting)",
                ns / 1000
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_that_halts_at_once_says_so() {
        let policy = IdlePolicy::parse(Some("haltpoll\n"), Some("0\n"));
        assert_eq!(policy.driver.as_deref(), Some("haltpoll"));
        assert_eq!(policy.halt_poll_ns, Some(0));
        assert!(policy.halts_at_once());
        assert!(policy.to_string().contains("halt at once"), "{policy}");
    }

    #[test]
    fn a_polling_guest_shows_its_window() {
        let policy = IdlePolicy::parse(Some("haltpoll"), Some("200000"));
        assert!(!policy.halts_at_once());
        assert!(policy.to_string().contains("poll 200 µs"), "{policy}");
    }

    #[test]
    fn the_window_counts_only_under_the_haltpoll_driver() {
        // The haltpoll module's parameter can exist while another driver is in use.
        let policy = IdlePolicy::parse(Some("intel_idle"), Some("0"));
        assert_eq!(policy.halt_poll_ns, None);
        assert!(!policy.halts_at_once());
        assert_eq!(policy.to_string(), "cpuidle intel_idle");
    }

    #[test]
    fn missing_or_unreadable_files_leave_the_policy_unknown() {
        assert_eq!(
            IdlePolicy::parse(None, None),
            IdlePolicy {
                driver: None,
                halt_poll_ns: None
            }
        );
        assert_eq!(IdlePolicy::parse(Some("none"), None).driver, None);
        assert_eq!(
            IdlePolicy::parse(Some("haltpoll"), Some("garbage")).halt_poll_ns,
            None
        );
        let dir = tempfile::tempdir().unwrap();
        let policy = IdlePolicy::read_from(&dir.path().join("a"), &dir.path().join("b"));
        assert_eq!(policy.to_string(), "cpuidle off or unknown");
    }

    #[test]
    fn files_are_read_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let (driver, ns) = (dir.path().join("driver"), dir.path().join("ns"));
        std::fs::write(&driver, "haltpoll\n").unwrap();
        std::fs::write(&ns, "50000\n").unwrap();
        let policy = IdlePolicy::read_from(&driver, &ns);
        assert_eq!(policy.halt_poll_ns, Some(50_000));
    }
}
