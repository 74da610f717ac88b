//! Pausing a container through its cgroup freezer instead of dockerd: OpenWhisk pauses with
//! `runc` directly for the same reason: `docker unpause` costs tens of milliseconds on the
//! path of a warm call, writing the freezer's state file costs microseconds. Works with cgroup
//! v1 (`freezer.state`) and v2 (`cgroup.freeze`); the driver falls back to the Docker API
//! where neither is found (another host, rootless Docker).

use std::path::{Path, PathBuf};

/// A container's freezer control file.
#[derive(Debug, Clone)]
pub(crate) struct Freezer {
    state_file: PathBuf,
    v2: bool,
}

impl Freezer {
    /// The freezer of the cgroup process `pid` lives in, read from `/proc/<pid>/cgroup`.
    pub fn of_process(pid: i64) -> Option<Freezer> {
        let table = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        Self::from_table(&table, Path::new("/sys/fs/cgroup"))
    }

    /// Reads a `/proc/<pid>/cgroup` table; `root` is where cgroup file systems are mounted.
    fn from_table(table: &str, root: &Path) -> Option<Freezer> {
        let mut v2_path = None;
        for line in table.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let relative = path.trim_start_matches('/');
            if controllers.split(',').any(|c| c == "freezer") {
                let file = root.join("freezer").join(relative).join("freezer.state");
                if file.exists() {
                    return Some(Freezer {
                        state_file: file,
                        v2: false,
                    });
                }
            }
            if controllers.is_empty() {
                v2_path = Some(root.join(relative).join("cgroup.freeze"));
            }
        }
        v2_path
            .filter(|file| file.exists())
            .map(|state_file| Freezer {
                state_file,
                v2: true,
            })
    }

    /// Freezes every process of the container and waits (up to a second) until the kernel says
    /// they all are: cgroup v1 passes through `FREEZING`, v2 reports `frozen 1` in `cgroup.events`.
    pub fn freeze(&self) -> std::io::Result<()> {
        std::fs::write(&self.state_file, if self.v2 { "1" } else { "FROZEN" })?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while !self.is_frozen() {
            if std::time::Instant::now() >= deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "{} did not freeze within a second",
                        self.state_file.display()
                    ),
                ));
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        Ok(())
    }

    /// Whether every process is frozen now.
    fn is_frozen(&self) -> bool {
        if self.v2 {
            let events = self.state_file.with_file_name("cgroup.events");
            match std::fs::read_to_string(events) {
                Ok(text) => text.lines().any(|line| line.trim() == "frozen 1"),
                // No events file (older kernels): the write itself is the freeze.
                Err(_) => true,
            }
        } else {
            std::fs::read_to_string(&self.state_file).is_ok_and(|state| state.trim() == "FROZEN")
        }
    }

    /// Thaws them.
    pub fn thaw(&self) -> std::io::Result<()> {
        std::fs::write(&self.state_file, if self.v2 { "0" } else { "THAWED" })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_v1_freezer_then_the_v2_file() {
        let root = tempfile::tempdir().unwrap();
        let v1 = root.path().join("freezer/docker/abc");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("freezer.state"), "THAWED").unwrap();
        let table = "6:freezer:/docker/abc\n0::/docker/abc\n";
        let freezer = Freezer::from_table(table, root.path()).unwrap();
        assert!(!freezer.v2);
        freezer.freeze().unwrap();
        assert_eq!(
            std::fs::read_to_string(v1.join("freezer.state")).unwrap(),
            "FROZEN"
        );
        freezer.thaw().unwrap();
        assert_eq!(
            std::fs::read_to_string(v1.join("freezer.state")).unwrap(),
            "THAWED"
        );

        let v2 = root.path().join("system.slice/docker-def.scope");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("cgroup.freeze"), "0").unwrap();
        let freezer =
            Freezer::from_table("0::/system.slice/docker-def.scope\n", root.path()).unwrap();
        assert!(freezer.v2);
        freezer.freeze().unwrap();
        assert_eq!(
            std::fs::read_to_string(v2.join("cgroup.freeze")).unwrap(),
            "1"
        );
        assert!(Freezer::from_table("0::/nowhere\n", root.path()).is_none());
    }
}
