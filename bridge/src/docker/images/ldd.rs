//! The shared libraries ELF files need, as the host's `ldd` reports them (the transitive
//! closure, with the dynamic loader), so that the image holds everything its binaries load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::{ImageError, Result};

/// What `ldd` said about one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NeededLibraries {
    /// Paths of the libraries (and of the dynamic loader), as the host resolves them.
    pub found: Vec<PathBuf>,
    /// Sonames `ldd` could not find on the host.
    pub missing: Vec<String>,
}

/// Runs `ldd` once over all `files` and returns what each needs. Static executables and
/// files that are not ELF need nothing.
pub(crate) fn needed_libraries(files: &[PathBuf]) -> Result<BTreeMap<PathBuf, NeededLibraries>> {
    if files.is_empty() {
        return Ok(BTreeMap::new());
    }
    let output =
        Command::new("ldd")
            .args(files)
            .output()
            .map_err(|err| ImageError::SharedLibraries {
                path: describe(files),
                detail: format!("cannot run ldd: {err}"),
            })?;
    // ldd exits non-zero when any file is not dynamic; what it printed is still right.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let parsed = parse_ldd_output(files, &stdout);
    if parsed.values().all(|needed| needed.found.is_empty()) && !output.status.success() {
        return Err(ImageError::SharedLibraries {
            path: describe(files),
            detail: format!(
                "ldd failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(parsed)
}

fn describe(files: &[PathBuf]) -> String {
    match files {
        [one] => one.display().to_string(),
        [first, ..] => format!("{} and {} more files", first.display(), files.len() - 1),
        [] => String::new(),
    }
}

/// Parses `ldd`'s output. With several files it prints a `path:` header before each
/// file's lines; with one file it prints no header.
fn parse_ldd_output(files: &[PathBuf], output: &str) -> BTreeMap<PathBuf, NeededLibraries> {
    let mut result: BTreeMap<PathBuf, NeededLibraries> = files
        .iter()
        .map(|file| (file.clone(), NeededLibraries::default()))
        .collect();
    let mut current: Option<PathBuf> = match files {
        [one] => Some(one.clone()),
        _ => None,
    };
    for line in output.lines() {
        if !line.starts_with(char::is_whitespace) {
            if let Some(header) = line.strip_suffix(':') {
                let header = Path::new(header);
                if result.contains_key(header) {
                    current = Some(header.to_path_buf());
                }
            }
            continue;
        }
        let Some(needed) = current.as_ref().and_then(|file| result.get_mut(file)) else {
            continue;
        };
        let line = line.trim();
        if let Some((soname, rest)) = line.split_once("=>") {
            let rest = rest.trim();
            if rest.starts_with("not found") {
                needed.missing.push(soname.trim().to_string());
            } else if let Some(path) = library_path(rest) {
                needed.found.push(path);
            }
        } else if let Some(path) = library_path(line) {
            needed.found.push(path);
        }
    }
    result
}

/// `/lib/x/libc.so.6 (0x7f...)` → `/lib/x/libc.so.6`; anything not an absolute path
/// (`linux-vdso.so.1 (0x...)`, `statically linked`) → nothing.
fn library_path(text: &str) -> Option<PathBuf> {
    let path = text.split(" (0x").next().unwrap_or(text).trim();
    path.starts_with('/').then(|| PathBuf::from(path))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_several_files_with_headers_and_missing_libraries() {
        let files = vec![PathBuf::from("/usr/bin/cat"), PathBuf::from("/x/_tk.so")];
        let output = "/usr/bin/cat:\n\
             \tlinux-vdso.so.1 (0x00007ffd)\n\
             \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\
             \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n\
             /x/_tk.so:\n\
             \tlibtk8.6.so => not found\n\
             \tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f)\n";
        let parsed = parse_ldd_output(&files, output);
        assert_eq!(
            parsed[&files[0]].found,
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
        assert!(parsed[&files[0]].missing.is_empty());
        assert_eq!(parsed[&files[1]].missing, vec!["libtk8.6.so".to_string()]);
        assert_eq!(
            parsed[&files[1]].found,
            vec![PathBuf::from("/lib/x86_64-linux-gnu/libm.so.6")]
        );
    }

    #[test]
    fn parses_one_file_without_a_header_and_static_files() {
        let files = vec![PathBuf::from("/bin/busybox")];
        let parsed = parse_ldd_output(&files, "\tstatically linked\n");
        assert_eq!(parsed[&files[0]], NeededLibraries::default());
    }

    #[test]
    fn the_host_shell_needs_libc_and_the_loader() {
        let sh = PathBuf::from("/bin/sh");
        let needed = needed_libraries(std::slice::from_ref(&sh)).unwrap();
        let found = &needed[&sh].found;
        assert!(
            found
                .iter()
                .any(|p| p.to_string_lossy().contains("libc.so")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.to_string_lossy().contains("ld-linux")),
            "{found:?}"
        );
    }
}
