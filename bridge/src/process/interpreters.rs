//! Finds the real interpreter binaries behind `python3` and `node` once at driver start, so
//! that launching a container does not go through a version-manager shim (pyenv's `python3`
//! is a shell script that costs ~100 ms per start).

use std::path::{Path, PathBuf};

use tokio::process::Command;

/// Asks `program` for its own executable path with `args`; keeps `program` if that fails.
async fn real_path(program: &Path, args: &[&str]) -> PathBuf {
    let output = Command::new(program).args(args).output().await;
    match output {
        Ok(output) if output.status.success() => {
            let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
            if !path.is_empty() && Path::new(&path).is_file() {
                return PathBuf::from(path);
            }
            program.to_path_buf()
        }
        Ok(output) => {
            tracing::warn!(
                program = %program.display(),
                status = %output.status,
                "cannot ask the interpreter for its path; using it as given"
            );
            program.to_path_buf()
        }
        Err(err) => {
            tracing::warn!(
                program = %program.display(),
                error = %err,
                "cannot run the interpreter; using it as given"
            );
            program.to_path_buf()
        }
    }
}

/// The Python interpreter's real path (`sys.executable`).
pub(crate) async fn real_python(python: &Path) -> PathBuf {
    real_path(python, &["-c", "import sys; print(sys.executable)"]).await
}

/// The Node.js binary's real path (`process.execPath`).
pub(crate) async fn real_node(node: &Path) -> PathBuf {
    real_path(node, &["-p", "process.execPath"]).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_python_to_an_absolute_file() {
        let path = real_python(Path::new("python3")).await;
        assert!(path.is_absolute(), "{}", path.display());
        assert!(path.is_file());
    }

    #[tokio::test]
    async fn keeps_a_missing_program_as_given() {
        let path = real_node(Path::new("/nonexistent/node")).await;
        assert_eq!(path, PathBuf::from("/nonexistent/node"));
    }
}
