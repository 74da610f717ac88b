//! The launcher sources embedded in the binary, written to the driver's runtime directory at
//! start (the same files the Docker images use, from `deploy/runtimes/`).

use std::path::{Path, PathBuf};

use crate::error::{DriverError, Result};

pub(crate) const PYTHON_LAUNCHER: &str =
    include_str!("../../../deploy/runtimes/python/launcher.py");
const PYTHON_ZYGOTE: &str = include_str!("../../../deploy/runtimes/python/zygote.py");
pub(crate) const NODE_LAUNCHER: &str = include_str!("../../../deploy/runtimes/nodejs/launcher.js");

/// Where the launchers were written, and where containers get their work directories.
#[derive(Debug, Clone)]
pub(crate) struct RuntimeFiles {
    pub python_launcher: PathBuf,
    pub python_zygote: PathBuf,
    pub node_launcher: PathBuf,
    pub containers_dir: PathBuf,
}

impl RuntimeFiles {
    /// Writes the launchers under `dir` (created if missing), replacing older copies.
    pub fn write(dir: &Path) -> Result<Self> {
        let python_dir = dir.join("python");
        let node_dir = dir.join("nodejs");
        let containers_dir = dir.join("containers");
        for sub in [&python_dir, &node_dir, &containers_dir] {
            std::fs::create_dir_all(sub).map_err(|e| {
                DriverError::io(format!("creating runtime directory {}", sub.display()), e)
            })?;
        }
        let files = RuntimeFiles {
            python_launcher: python_dir.join("launcher.py"),
            python_zygote: python_dir.join("zygote.py"),
            node_launcher: node_dir.join("launcher.js"),
            containers_dir,
        };
        for (path, text) in [
            (&files.python_launcher, PYTHON_LAUNCHER),
            (&files.python_zygote, PYTHON_ZYGOTE),
            (&files.node_launcher, NODE_LAUNCHER),
        ] {
            write_if_changed(path, text)?;
        }
        Ok(files)
    }
}

fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .map_err(|e| DriverError::io(format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| DriverError::io(format!("renaming {}", tmp.display()), e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_embedded_launchers() {
        let dir = tempfile::tempdir().unwrap();
        let files = RuntimeFiles::write(dir.path()).unwrap();
        let launcher = std::fs::read_to_string(&files.python_launcher).unwrap();
        assert!(launcher.contains("XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"));
        assert!(std::fs::read_to_string(&files.node_launcher)
            .unwrap()
            .contains("AsyncLocalStorage"));
        assert!(files.python_zygote.is_file());
        assert!(files.containers_dir.is_dir());
        // Writing again over the same files is fine.
        RuntimeFiles::write(dir.path()).unwrap();
    }
}
