//! What the base image's root file system holds, taken from the host (offline: no registry):
//! the real Python interpreter and its standard library, the real `node`, a shell and a few
//! tools, the shared libraries of all of them, the launchers, and the few files a container
//! needs (`/etc/passwd`, `/tmp`, `/.whirl`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use super::context::{BuildContext, ContextEntry, ContextFile};
use super::error::{ImageError, Result};
use super::ldd::needed_libraries;
use super::rootfs::Rootfs;
use crate::process::runtime_dir::{NODE_LAUNCHER, PYTHON_LAUNCHER};

/// Where the launchers live in the images.
pub const PYTHON_LAUNCHER_PATH: &str = "/opt/whirl/launcher.py";
pub const NODE_LAUNCHER_PATH: &str = "/opt/whirl/launcher.js";
/// Where the launchers sit in the base image's build context: a layer of their own, so that
/// changing a launcher neither copies the interpreters again nor stores them twice.
pub(crate) const LAUNCHERS_DIR: &str = "launchers";
/// The directory the Docker driver bind-mounts a per-container directory on.
pub const CONTAINER_DIR: &str = "/.whirl";

/// Tools of the `exec` kind's image (and `sleep` keeps its container alive).
const TOOLS: &[&str] = &[
    "cat", "echo", "env", "sleep", "head", "tail", "wc", "tr", "sort", "date", "ls",
];
const TOOL_DIRS: &[&str] = &["/usr/bin", "/bin"];
const SHELL: &str = "/bin/sh";

/// Standard-library directories left out of the image: tests, GUI and installer modules,
/// third-party packages, compiled caches, and `config-*` (the static libpython for
/// building extensions, ~44 MB).
const SKIPPED_STDLIB_DIRS: &[&str] = &[
    "test",
    "tests",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "site-packages",
    "dist-packages",
    "__pycache__",
];
/// Extension modules left out: CPython's own test modules, and Tk (which needs X11).
const SKIPPED_EXTENSION_PREFIXES: &[&str] = &[
    "_test",
    "_ctypes_test",
    "_xxtestfuzz",
    "xxlimited",
    "_tkinter",
];

/// The host interpreters the images are made from (the process driver's, by default).
#[derive(Debug, Clone)]
pub struct HostInterpreters {
    pub python: PathBuf,
    pub node: PathBuf,
}

impl Default for HostInterpreters {
    /// `python3` and `node` from `PATH`, as the process driver uses them.
    fn default() -> Self {
        HostInterpreters {
            python: PathBuf::from("python3"),
            node: PathBuf::from("node"),
        }
    }
}

/// Where the host's Python keeps its executable and standard library.
#[derive(Debug, Deserialize)]
struct PythonLayout {
    executable: PathBuf,
    stdlib: PathBuf,
    platstdlib: PathBuf,
}

const PYTHON_LAYOUT_SCRIPT: &str = "import json, sys, sysconfig; print(json.dumps({\
    'executable': sys.executable, \
    'stdlib': sysconfig.get_path('stdlib'), \
    'platstdlib': sysconfig.get_path('platstdlib')}))";

/// Runs `program args` and returns its trimmed stdout, or an error naming the program.
fn ask(program: &Path, args: &[&str]) -> Result<String> {
    let failed = |detail: String| ImageError::Interpreter {
        program: program.display().to_string(),
        detail,
    };
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|err| failed(format!("cannot run it: {err}")))?;
    if !output.status.success() {
        return Err(failed(format!(
            "it exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8(output.stdout)
        .map(|text| text.trim().to_string())
        .map_err(|_| failed("its answer is not UTF-8".to_string()))
}

fn python_layout(python: &Path) -> Result<PythonLayout> {
    let answer = ask(python, &["-c", PYTHON_LAYOUT_SCRIPT])?;
    serde_json::from_str(&answer).map_err(|err| ImageError::Interpreter {
        program: python.display().to_string(),
        detail: format!("unexpected answer {answer:?}: {err}"),
    })
}

fn node_executable(node: &Path) -> Result<PathBuf> {
    let answer = ask(node, &["-p", "process.execPath"])?;
    let path = PathBuf::from(&answer);
    if !path.is_absolute() {
        return Err(ImageError::Interpreter {
            program: node.display().to_string(),
            detail: format!("process.execPath is not an absolute path: {answer:?}"),
        });
    }
    Ok(path)
}

fn find_tool(name: &str) -> Result<PathBuf> {
    TOOL_DIRS
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists())
        .ok_or_else(|| ImageError::HostPath {
            path: PathBuf::from(name),
            reason: format!("not found in {}", TOOL_DIRS.join(" or ")),
        })
}

fn skip_in_stdlib(name: &str, is_dir: bool) -> bool {
    if is_dir {
        SKIPPED_STDLIB_DIRS.contains(&name) || name.starts_with("config-")
    } else {
        name.ends_with(".pyc")
            || (name.ends_with(".so")
                && SKIPPED_EXTENSION_PREFIXES
                    .iter()
                    .any(|prefix| name.starts_with(prefix)))
    }
}

/// Puts `name` on the image's `PATH` (in `/usr/local/bin`) as a symlink to `executable`,
/// unless something is there already.
fn link_on_path(rootfs: &mut Rootfs, name: &str, executable: &Path) -> Result<()> {
    let link = format!("/usr/local/bin/{name}");
    if Path::new(&link) == executable || rootfs.contains(&link) {
        return Ok(());
    }
    let target = executable.to_str().ok_or_else(|| ImageError::HostPath {
        path: executable.to_path_buf(),
        reason: "the path is not UTF-8".to_string(),
    })?;
    rootfs.add_symlink(&link, target);
    Ok(())
}

/// The base image's build context: the root file system from the host (under
/// `rootfs/`) and the launchers (under [`LAUNCHERS_DIR`]).
pub(crate) fn collect_base_context(interpreters: &HostInterpreters) -> Result<BuildContext> {
    let mut context = collect_rootfs(interpreters)?.into_context();
    for (path, text) in [
        (PYTHON_LAUNCHER_PATH, PYTHON_LAUNCHER),
        (NODE_LAUNCHER_PATH, NODE_LAUNCHER),
    ] {
        let name = path.rsplit('/').next().unwrap_or(path);
        context.insert(ContextEntry::File(ContextFile {
            path: format!("{LAUNCHERS_DIR}/{name}"),
            mode: 0o644,
            contents: text.as_bytes().to_vec(),
        }));
    }
    Ok(context)
}

/// Assembles the base image's root file system from the host.
fn collect_rootfs(interpreters: &HostInterpreters) -> Result<Rootfs> {
    let mut rootfs = Rootfs::new();

    let python = python_layout(&interpreters.python)?;
    let python_binary = rootfs.copy_host_path(&python.executable)?;
    let mut stdlib_files = rootfs.copy_host_tree(&python.stdlib, &skip_in_stdlib)?;
    if python.platstdlib != python.stdlib {
        stdlib_files.extend(rootfs.copy_host_tree(&python.platstdlib, &skip_in_stdlib)?);
    }
    link_on_path(&mut rootfs, "python3", &python.executable)?;

    let node = node_executable(&interpreters.node)?;
    let node_binary = rootfs.copy_host_path(&node)?;
    link_on_path(&mut rootfs, "node", &node)?;

    let mut executables = vec![
        python_binary,
        node_binary,
        rootfs.copy_host_path(Path::new(SHELL))?,
    ];
    for tool in TOOLS {
        executables.push(rootfs.copy_host_path(&find_tool(tool)?)?);
    }

    let extensions: Vec<PathBuf> = stdlib_files
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "so"))
        .collect();
    let mut elf_files = executables.clone();
    elf_files.extend(extensions.iter().cloned());
    for (file, needed) in needed_libraries(&elf_files)? {
        if !needed.missing.is_empty() {
            if executables.contains(&file) {
                return Err(ImageError::SharedLibraries {
                    path: file.display().to_string(),
                    detail: format!("not found on the host: {}", needed.missing.join(", ")),
                });
            }
            // An extension module that cannot load on the host either: leave it out.
            tracing::warn!(
                module = %file.display(),
                missing = %needed.missing.join(", "),
                "leaving a Python extension module out of the runtime image"
            );
            rootfs.remove(&file.display().to_string());
            continue;
        }
        for library in &needed.found {
            rootfs.copy_host_path(library)?;
        }
    }

    add_container_files(&mut rootfs);
    Ok(rootfs)
}

/// The files every container needs besides the programs.
fn add_container_files(rootfs: &mut Rootfs) {
    rootfs.add_file(
        "/etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
            .to_vec(),
    );
    rootfs.add_file(
        "/etc/group",
        0o644,
        b"root:x:0:\nnogroup:x:65534:\n".to_vec(),
    );
    rootfs.add_dir("/tmp", 0o1777);
    rootfs.add_dir(CONTAINER_DIR, 0o755);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_stdlib_filter_skips_tests_caches_and_tk() {
        assert!(skip_in_stdlib("test", true));
        assert!(skip_in_stdlib("__pycache__", true));
        assert!(skip_in_stdlib("config-3.11-x86_64-linux-gnu", true));
        assert!(skip_in_stdlib("os.cpython-311.pyc", false));
        assert!(skip_in_stdlib(
            "_tkinter.cpython-311-x86_64-linux-gnu.so",
            false
        ));
        assert!(skip_in_stdlib(
            "_testcapi.cpython-311-x86_64-linux-gnu.so",
            false
        ));
        assert!(!skip_in_stdlib("json", true));
        assert!(!skip_in_stdlib(
            "_json.cpython-311-x86_64-linux-gnu.so",
            false
        ));
        assert!(!skip_in_stdlib("test.py", false));
    }

    #[test]
    fn an_interpreter_that_cannot_run_is_an_error_naming_it() {
        let err = node_executable(Path::new("/nonexistent/node")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/node"), "{err}");
    }
}
