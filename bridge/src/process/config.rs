//! Settings of the process driver: interpreters, runtime directory, the Python zygote, and
//! how many prewarmed stem cells to keep per kind and memory size.

use std::path::PathBuf;
use std::time::Duration;

use crate::kind::RuntimeKind;

/// Keep `count` started, uninitialized launchers of `kind` with `memory_mb` ready to hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StemCellConfig {
    pub kind: RuntimeKind,
    pub memory_mb: u32,
    pub count: usize,
}

/// How the process driver runs containers.
#[derive(Debug, Clone)]
pub struct ProcessDriverConfig {
    /// Where the launchers are written and containers get their work directories.
    pub runtime_dir: PathBuf,
    pub python: PathBuf,
    pub node: PathBuf,
    /// Fork python:3 containers from a zygote instead of starting a new interpreter.
    pub python_zygote: bool,
    /// Prewarmed launchers per kind and memory size (refilled in the background).
    pub stem_cells: Vec<StemCellConfig>,
    /// Prefix of container ids (and their work directories).
    pub instance: String,
    /// How long to wait for a new launcher's start acknowledgement.
    pub start_timeout: Duration,
    /// How long to wait for the stdout/stderr sentinels once the answer is in.
    pub log_grace: Duration,
    /// Delay before replacing a stem cell that was handed out, so that starting its
    /// replacement does not compete for the CPU with the cold start that took it.
    pub stem_cell_refill_delay: Duration,
}

impl ProcessDriverConfig {
    /// Defaults: host `python3`, `node` and `sh`; the zygote on; two Node.js stem cells of
    /// 256 MB (Python containers fork from the zygote in a few milliseconds).
    pub fn new(runtime_dir: impl Into<PathBuf>) -> Self {
        ProcessDriverConfig {
            runtime_dir: runtime_dir.into(),
            python: PathBuf::from("python3"),
            node: PathBuf::from("node"),
            python_zygote: true,
            stem_cells: vec![StemCellConfig {
                kind: RuntimeKind::Nodejs20,
                memory_mb: 256,
                count: 2,
            }],
            instance: format!("p{}", std::process::id()),
            start_timeout: Duration::from_secs(10),
            log_grace: Duration::from_millis(100),
            stem_cell_refill_delay: Duration::from_millis(100),
        }
    }
}
