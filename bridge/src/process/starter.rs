//! Starts launcher processes for the process driver: forked from the Python zygote, or as a
//! new interpreter (`python3 launcher.py`, `node launcher.js`), and waits until they are up.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::process::Pid;

use crate::driver::ContainerId;
use crate::error::{DriverError, Result};
use crate::kind::RuntimeKind;
use crate::launcher::connection::{Answer, LauncherConnection};
use crate::process::config::ProcessDriverConfig;
use crate::process::container::LauncherProcess;
use crate::process::runtime_dir::RuntimeFiles;
use crate::process::spawn::{launcher_pipes, spawn_direct};
use crate::process::zygote::Zygote;

/// Starts launchers; owns the zygote.
pub(crate) struct LauncherStarter {
    pub config: ProcessDriverConfig,
    pub files: RuntimeFiles,
    pub zygote: Option<Zygote>,
    next_serial: AtomicU64,
}

/// The environment every container process starts from (nothing of the host but `PATH`).
pub(crate) fn base_env() -> BTreeMap<String, String> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".to_string());
    BTreeMap::from([
        ("PATH".to_string(), path),
        ("LANG".to_string(), "C.UTF-8".to_string()),
        ("PYTHONIOENCODING".to_string(), "utf-8".to_string()),
        ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
    ])
}

impl LauncherStarter {
    pub fn new(config: ProcessDriverConfig, files: RuntimeFiles, zygote: Option<Zygote>) -> Self {
        LauncherStarter {
            config,
            files,
            zygote,
            next_serial: AtomicU64::new(1),
        }
    }

    /// A fresh container id.
    pub fn next_id(&self) -> ContainerId {
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        ContainerId(format!("{}-{serial}", self.config.instance))
    }

    /// Starts a launcher of `kind` and waits for its start acknowledgement.
    pub async fn start(
        &self,
        kind: RuntimeKind,
        memory_mb: u32,
        spec_env: &BTreeMap<String, String>,
    ) -> Result<LauncherProcess> {
        let id = self.next_id();
        let work_dir = self.files.containers_dir.join(&id.0);
        std::fs::create_dir_all(&work_dir).map_err(|e| {
            DriverError::io(format!("creating work directory {}", work_dir.display()), e)
        })?;
        let mut env = base_env();
        env.extend(spec_env.iter().map(|(k, v)| (k.clone(), v.clone())));
        env.insert("WHIRL_WORK_DIR".into(), work_dir.display().to_string());
        env.insert("WHIRL_MEMORY_MB".into(), memory_mb.to_string());
        env.insert("__OW_WAIT_FOR_ACK".into(), "true".into());
        let (io, ends) = launcher_pipes()?;
        let (pgid, reaper) = match (kind, &self.zygote) {
            (RuntimeKind::Python3, Some(zygote)) => {
                (zygote.fork(memory_mb, &env, ends).await?, None)
            }
            (RuntimeKind::Python3, None) => {
                let launcher = self.files.python_launcher.display().to_string();
                let child = spawn_direct(&self.config.python, &[&launcher], &env, ends)?;
                (child_pid(&child)?, Some(child))
            }
            (RuntimeKind::Nodejs20, _) => {
                let heap = format!("--max-old-space-size={memory_mb}");
                let launcher = self.files.node_launcher.display().to_string();
                let child = spawn_direct(&self.config.node, &[&heap, &launcher], &env, ends)?;
                (child_pid(&child)?, Some(child))
            }
            (RuntimeKind::Exec, _) => {
                return Err(DriverError::Unsupported {
                    driver: "process",
                    what: "exec containers have no launcher".into(),
                })
            }
        };
        if let Some(mut child) = reaper {
            // Reap the launcher whenever it exits (it is killed through its process group).
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
        }
        let process = LauncherProcess {
            conn: LauncherConnection::start(io, &id.0),
            pgid: Pid::from_raw(pgid),
            id,
            work_dir,
        };
        let ack = process.conn.await_ack(self.config.start_timeout).await;
        match ack.answer {
            Some(Answer::Line(line)) if line.trim() == r#"{"ok":true}"# => {
                tracing::debug!(container = %process.id, kind = %kind, pgid, "launcher started");
                Ok(process)
            }
            other => {
                let said: Vec<String> = ack.logs.lines().iter().map(|l| l.to_string()).collect();
                Err(DriverError::Spawn {
                    what: format!("{kind} launcher {} (pid {pgid})", process.id),
                    source: std::io::Error::other(format!(
                        "no start acknowledgement ({other:?}); it wrote: {}",
                        said.join(" | ")
                    )),
                })
            }
        }
    }
}

fn child_pid(child: &tokio::process::Child) -> Result<i32> {
    child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .ok_or_else(|| {
            DriverError::io(
                "reading the launcher's pid",
                std::io::Error::other("the launcher already exited"),
            )
        })
}
