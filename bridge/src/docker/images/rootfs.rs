//! An image's root file system under construction: host paths copied at the same absolute
//! paths, with every symlink met on the way kept as a symlink (so `/bin/sh`, a merged `/usr`
//! and `libz.so.1 -> libz.so.1.2.13` look in the image as they do on the host).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::context::{BuildContext, ContextEntry, ContextFile};
use super::error::{ImageError, Result};

/// Where the root file system lives inside the base image's build context.
pub(crate) const ROOTFS_DIR: &str = "rootfs";

/// Symlinks followed while resolving one path before giving up (as the kernel does).
const MAX_SYMLINK_HOPS: usize = 40;

/// Directories are 0755 and files 0755 or 0644 in the image whatever their host modes, so
/// that uid 65534 can read everything and host umasks do not change the image's tag.
fn image_file_mode(host_mode: u32) -> u32 {
    if host_mode & 0o111 != 0 {
        0o755
    } else {
        0o644
    }
}

/// The root file system of the base image, as build-context entries under [`ROOTFS_DIR`].
#[derive(Debug, Default)]
pub(crate) struct Rootfs {
    context: BuildContext,
}

impl Rootfs {
    pub fn new() -> Self {
        Rootfs::default()
    }

    fn context_path(image_path: &str) -> String {
        format!("{ROOTFS_DIR}/{}", image_path.trim_start_matches('/'))
    }

    /// Adds a directory at `image_path` (absolute in the image).
    pub fn add_dir(&mut self, image_path: &str, mode: u32) {
        self.context.insert(ContextEntry::Dir {
            path: Self::context_path(image_path),
            mode,
        });
    }

    /// Adds a file with the given contents at `image_path`.
    pub fn add_file(&mut self, image_path: &str, mode: u32, contents: Vec<u8>) {
        self.context.insert(ContextEntry::File(ContextFile {
            path: Self::context_path(image_path),
            mode,
            contents,
        }));
    }

    /// Adds a symlink at `image_path` pointing at `target`.
    pub fn add_symlink(&mut self, image_path: &str, target: &str) {
        self.context.insert(ContextEntry::Symlink {
            path: Self::context_path(image_path),
            target: target.to_string(),
        });
    }

    pub fn contains(&self, image_path: &str) -> bool {
        self.context.contains(&Self::context_path(image_path))
    }

    /// Removes whatever is at `image_path`.
    pub fn remove(&mut self, image_path: &str) {
        self.context.remove(&Self::context_path(image_path));
    }

    /// Copies the host's `path` at the same path: each symlink on the way (in a parent or at
    /// the end) is recorded as a symlink and followed; directories on the way are created;
    /// the file at the end is copied. Returns the resolved host path (free of symlinks).
    pub fn copy_host_path(&mut self, path: &Path) -> Result<PathBuf> {
        if !path.is_absolute() {
            return Err(ImageError::HostPath {
                path: path.to_path_buf(),
                reason: "not an absolute path".to_string(),
            });
        }
        let mut pending: VecDeque<OsString> = normal_components(path);
        let mut resolved = PathBuf::from("/");
        let mut hops = 0;
        while let Some(name) = pending.pop_front() {
            if name == ".." {
                resolved.pop();
                continue;
            }
            let next = resolved.join(&name);
            let meta = std::fs::symlink_metadata(&next).map_err(|source| ImageError::HostFile {
                path: next.clone(),
                source,
            })?;
            let image_path = utf8(&next)?;
            if meta.file_type().is_symlink() {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(ImageError::HostPath {
                        path: path.to_path_buf(),
                        reason: format!("more than {MAX_SYMLINK_HOPS} symlinks"),
                    });
                }
                let target = std::fs::read_link(&next).map_err(|source| ImageError::HostFile {
                    path: next.clone(),
                    source,
                })?;
                self.add_symlink(&image_path, &utf8(&target)?);
                if target.is_absolute() {
                    resolved = PathBuf::from("/");
                }
                for component in normal_components(&target).into_iter().rev() {
                    pending.push_front(component);
                }
            } else if meta.is_dir() {
                if !self.contains(&image_path) {
                    self.add_dir(&image_path, 0o755);
                }
                resolved = next;
            } else if meta.is_file() {
                if !pending.is_empty() {
                    return Err(ImageError::HostPath {
                        path: path.to_path_buf(),
                        reason: format!("{} is a file, not a directory", next.display()),
                    });
                }
                if !self.contains(&image_path) {
                    let contents = std::fs::read(&next).map_err(|source| ImageError::HostFile {
                        path: next.clone(),
                        source,
                    })?;
                    self.add_file(
                        &image_path,
                        image_file_mode(std::os::unix::fs::PermissionsExt::mode(
                            &meta.permissions(),
                        )),
                        contents,
                    );
                }
                resolved = next;
            } else {
                return Err(ImageError::HostPath {
                    path: next,
                    reason: "neither a file, a directory nor a symlink".to_string(),
                });
            }
        }
        Ok(resolved)
    }

    /// Copies the host directory `dir` and everything under it, skipping entries for which
    /// `skip(name, is_dir)` is true. Returns the host paths of the regular files copied.
    pub fn copy_host_tree(
        &mut self,
        dir: &Path,
        skip: &dyn Fn(&str, bool) -> bool,
    ) -> Result<Vec<PathBuf>> {
        let root = self.copy_host_path(dir)?;
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            let listing = std::fs::read_dir(&dir).map_err(|source| ImageError::HostFile {
                path: dir.clone(),
                source,
            })?;
            for entry in listing {
                let entry = entry.map_err(|source| ImageError::HostFile {
                    path: dir.clone(),
                    source,
                })?;
                let path = entry.path();
                let file_type = entry.file_type().map_err(|source| ImageError::HostFile {
                    path: path.clone(),
                    source,
                })?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if skip(&name, file_type.is_dir()) {
                    continue;
                }
                if file_type.is_dir() {
                    dirs.push(path);
                } else {
                    let resolved = self.copy_host_path(&path)?;
                    if file_type.is_file() {
                        files.push(resolved);
                    }
                }
            }
        }
        Ok(files)
    }

    pub fn into_context(self) -> BuildContext {
        self.context
    }
}

fn normal_components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn utf8(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| ImageError::HostPath {
            path: path.to_path_buf(),
            reason: "the path is not UTF-8".to_string(),
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn entry<'a>(context: &'a BuildContext, host: &Path) -> Option<&'a ContextEntry> {
        context.get(&Rootfs::context_path(host.to_str().unwrap()))
    }

    #[test]
    fn symlinks_on_the_way_are_kept_and_the_file_lands_at_its_real_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::fs::write(root.join("usr/lib/libz.so.1.2"), b"ELF").unwrap();
        std::fs::set_permissions(
            root.join("usr/lib/libz.so.1.2"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        symlink("libz.so.1.2", root.join("usr/lib/libz.so.1")).unwrap();
        symlink("usr/lib", root.join("lib")).unwrap();

        let mut rootfs = Rootfs::new();
        let resolved = rootfs.copy_host_path(&root.join("lib/libz.so.1")).unwrap();
        assert_eq!(resolved, root.join("usr/lib/libz.so.1.2"));
        let context = rootfs.into_context();
        assert_eq!(
            entry(&context, &root.join("lib")),
            Some(&ContextEntry::Symlink {
                path: Rootfs::context_path(root.join("lib").to_str().unwrap()),
                target: "usr/lib".to_string()
            })
        );
        assert!(matches!(
            entry(&context, &root.join("usr/lib/libz.so.1")),
            Some(ContextEntry::Symlink { target, .. }) if target == "libz.so.1.2"
        ));
        match entry(&context, &root.join("usr/lib/libz.so.1.2")) {
            Some(ContextEntry::File(file)) => {
                assert_eq!(file.contents, b"ELF");
                assert_eq!(file.mode, 0o755);
            }
            other => panic!("expected the library file, got {other:?}"),
        }
        // Nothing was placed under the symlinked directory itself.
        assert!(entry(&context, &root.join("lib/libz.so.1")).is_none());
    }

    #[test]
    fn a_tree_is_copied_without_the_skipped_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("lib/json/__pycache__")).unwrap();
        std::fs::create_dir_all(root.join("lib/test")).unwrap();
        std::fs::write(root.join("lib/json/__init__.py"), b"x").unwrap();
        std::fs::write(root.join("lib/json/__pycache__/a.pyc"), b"x").unwrap();
        std::fs::write(root.join("lib/test/t.py"), b"x").unwrap();
        std::fs::write(root.join("lib/os.py"), b"y").unwrap();

        let mut rootfs = Rootfs::new();
        let mut files = rootfs
            .copy_host_tree(&root.join("lib"), &|name, is_dir| {
                is_dir && (name == "test" || name == "__pycache__")
            })
            .unwrap();
        files.sort();
        assert_eq!(
            files,
            vec![root.join("lib/json/__init__.py"), root.join("lib/os.py")]
        );
        assert!(rootfs.contains(root.join("lib/json").to_str().unwrap()));
        assert!(!rootfs.contains(root.join("lib/test").to_str().unwrap()));
        assert_eq!(rootfs.into_context().file_stats(), (2, 2));
    }

    #[test]
    fn a_symlink_loop_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        symlink(root.join("b"), root.join("a")).unwrap();
        symlink(root.join("a"), root.join("b")).unwrap();
        let err = Rootfs::new().copy_host_path(&root.join("a")).unwrap_err();
        assert!(err.to_string().contains("symlinks"), "{err}");
        assert!(err.to_string().contains(root.to_str().unwrap()), "{err}");
    }
}
