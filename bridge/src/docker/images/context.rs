//! A Docker build context held in memory: its entries (directories, files, symlinks), the
//! hash of everything that goes into an image (which names its tag), and the tar archive the
//! daemon's `/build` endpoint receives.

use std::collections::BTreeMap;

use super::error::{ImageError, Result};

/// Every entry of a build context gets this modification time, so that the same inputs give
/// the same layers (and compiled `.pyc` files stay valid against their sources).
const CONTEXT_MTIME: u64 = 1_700_000_000;

/// A regular file of a build context, at `path` relative to the context's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextFile {
    pub path: String,
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// One entry of a build context; paths are relative to the context's root (no leading `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextEntry {
    Dir { path: String, mode: u32 },
    File(ContextFile),
    Symlink { path: String, target: String },
}

impl ContextEntry {
    /// Where the entry lives in the context.
    pub fn path(&self) -> &str {
        match self {
            ContextEntry::Dir { path, .. } | ContextEntry::Symlink { path, .. } => path,
            ContextEntry::File(file) => &file.path,
        }
    }
}

/// A build context: entries by path (so that the order, and therefore the hash and the
/// archive, do not depend on the order they were added in).
#[derive(Debug, Clone, Default)]
pub struct BuildContext {
    entries: BTreeMap<String, ContextEntry>,
}

impl BuildContext {
    pub fn new() -> Self {
        BuildContext::default()
    }

    /// Adds (or replaces) an entry, and a directory (mode 0755) for each missing parent.
    pub fn insert(&mut self, entry: ContextEntry) {
        let path = entry.path().trim_matches('/').to_string();
        let mut parent = path.as_str();
        while let Some((dir, _)) = parent.rsplit_once('/') {
            self.entries
                .entry(dir.to_string())
                .or_insert_with(|| ContextEntry::Dir {
                    path: dir.to_string(),
                    mode: 0o755,
                });
            parent = dir;
        }
        let entry = match entry {
            ContextEntry::Dir { mode, .. } => ContextEntry::Dir {
                path: path.clone(),
                mode,
            },
            ContextEntry::File(file) => ContextEntry::File(ContextFile {
                path: path.clone(),
                ..file
            }),
            ContextEntry::Symlink { target, .. } => ContextEntry::Symlink {
                path: path.clone(),
                target,
            },
        };
        self.entries.insert(path, entry);
    }

    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path.trim_matches('/'))
    }

    pub fn remove(&mut self, path: &str) -> Option<ContextEntry> {
        self.entries.remove(path.trim_matches('/'))
    }

    #[cfg(test)]
    pub fn get(&self, path: &str) -> Option<&ContextEntry> {
        self.entries.get(path.trim_matches('/'))
    }

    /// Number of regular files and their total size in bytes.
    pub fn file_stats(&self) -> (usize, u64) {
        self.entries
            .values()
            .filter_map(|entry| match entry {
                ContextEntry::File(file) => Some(file.contents.len() as u64),
                _ => None,
            })
            .fold((0, 0), |(count, bytes), size| (count + 1, bytes + size))
    }

    /// The blake3 hash of every entry (kind, path, mode, bytes or link target) and of the
    /// Dockerfile's text, as 64 hex digits.
    pub fn inputs_hash(&self, dockerfile: &str) -> String {
        let mut hasher = blake3::Hasher::new();
        let field = |hasher: &mut blake3::Hasher, bytes: &[u8]| {
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        for entry in self.entries.values() {
            match entry {
                ContextEntry::Dir { path, mode } => {
                    hasher.update(b"d");
                    field(&mut hasher, path.as_bytes());
                    hasher.update(&mode.to_le_bytes());
                }
                ContextEntry::File(file) => {
                    hasher.update(b"f");
                    field(&mut hasher, file.path.as_bytes());
                    hasher.update(&file.mode.to_le_bytes());
                    field(&mut hasher, &file.contents);
                }
                ContextEntry::Symlink { path, target } => {
                    hasher.update(b"l");
                    field(&mut hasher, path.as_bytes());
                    field(&mut hasher, target.as_bytes());
                }
            }
        }
        hasher.update(b"Dockerfile");
        field(&mut hasher, dockerfile.as_bytes());
        hasher.finalize().to_hex().to_string()
    }

    /// The context as a tar archive, with `dockerfile` as `Dockerfile` at its root. Every
    /// entry is owned by root and dated [`CONTEXT_MTIME`].
    pub fn to_tar(&self, dockerfile: &str) -> Result<Vec<u8>> {
        let (_, bytes) = self.file_stats();
        let capacity = usize::try_from(bytes).unwrap_or(0) + self.entries.len() * 1024;
        let mut builder = tar::Builder::new(Vec::with_capacity(capacity));
        let dockerfile_entry = ContextEntry::File(ContextFile {
            path: "Dockerfile".to_string(),
            mode: 0o644,
            contents: dockerfile.as_bytes().to_vec(),
        });
        for entry in std::iter::once(&dockerfile_entry).chain(self.entries.values()) {
            append(&mut builder, entry).map_err(|source| ImageError::Archive {
                path: entry.path().to_string(),
                source,
            })?;
        }
        builder.into_inner().map_err(|source| ImageError::Archive {
            path: "(end of archive)".to_string(),
            source,
        })
    }
}

fn append(builder: &mut tar::Builder<Vec<u8>>, entry: &ContextEntry) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(CONTEXT_MTIME);
    match entry {
        ContextEntry::Dir { path, mode } => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(*mode);
            header.set_size(0);
            builder.append_data(&mut header, format!("{path}/"), std::io::empty())
        }
        ContextEntry::File(file) => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(file.mode);
            header.set_size(file.contents.len() as u64);
            builder.append_data(&mut header, &file.path, file.contents.as_slice())
        }
        ContextEntry::Symlink { path, target } => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            builder.append_link(&mut header, path, target)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::io::Read;

    fn file(path: &str, mode: u32, contents: &[u8]) -> ContextEntry {
        ContextEntry::File(ContextFile {
            path: path.to_string(),
            mode,
            contents: contents.to_vec(),
        })
    }

    fn sample() -> BuildContext {
        let mut context = BuildContext::new();
        context.insert(file("rootfs/usr/bin/tool", 0o755, b"#!/bin/sh\n"));
        context.insert(ContextEntry::Symlink {
            path: "rootfs/bin".to_string(),
            target: "usr/bin".to_string(),
        });
        context.insert(ContextEntry::Dir {
            path: "rootfs/tmp".to_string(),
            mode: 0o1777,
        });
        context
    }

    #[test]
    fn parents_are_added_as_directories() {
        let context = sample();
        assert_eq!(
            context.get("rootfs/usr"),
            Some(&ContextEntry::Dir {
                path: "rootfs/usr".to_string(),
                mode: 0o755
            })
        );
        assert!(context.contains("rootfs"));
        assert!(context.contains("/rootfs/usr/bin/"));
        assert_eq!(context.file_stats(), (1, 10));
    }

    #[test]
    fn the_hash_changes_with_bytes_modes_links_and_the_dockerfile() {
        let base = sample();
        let hash = base.inputs_hash("FROM scratch\n");
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, sample().inputs_hash("FROM scratch\n"));
        assert_ne!(hash, base.inputs_hash("FROM scratch\nCMD x\n"));

        let mut bytes = sample();
        bytes.insert(file("rootfs/usr/bin/tool", 0o755, b"#!/bin/sh \n"));
        assert_ne!(hash, bytes.inputs_hash("FROM scratch\n"));

        let mut mode = sample();
        mode.insert(file("rootfs/usr/bin/tool", 0o644, b"#!/bin/sh\n"));
        assert_ne!(hash, mode.inputs_hash("FROM scratch\n"));

        let mut link = sample();
        link.insert(ContextEntry::Symlink {
            path: "rootfs/bin".to_string(),
            target: "/usr/bin".to_string(),
        });
        assert_ne!(hash, link.inputs_hash("FROM scratch\n"));
    }

    #[test]
    fn the_archive_holds_every_entry_with_its_type_mode_and_contents() {
        let mut context = sample();
        let long = format!("rootfs/{}/module.py", "d".repeat(150));
        context.insert(file(&long, 0o644, b"print(1)\n"));
        let tar = context.to_tar("FROM scratch\nCOPY rootfs/ /\n").unwrap();

        let mut archive = tar::Archive::new(tar.as_slice());
        let mut seen = BTreeMap::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().display().to_string();
            let header = entry.header().clone();
            let mut contents = Vec::new();
            entry.read_to_end(&mut contents).unwrap();
            let link = entry.link_name().unwrap().map(|l| l.display().to_string());
            seen.insert(
                path,
                (
                    header.entry_type(),
                    header.mode().unwrap(),
                    header.uid().unwrap(),
                    contents,
                    link,
                ),
            );
        }
        assert_eq!(seen["Dockerfile"].3, b"FROM scratch\nCOPY rootfs/ /\n");
        assert_eq!(seen["rootfs/tmp/"].0, tar::EntryType::Directory);
        assert_eq!(seen["rootfs/tmp/"].1, 0o1777);
        assert_eq!(seen["rootfs/bin"].0, tar::EntryType::Symlink);
        assert_eq!(seen["rootfs/bin"].4.as_deref(), Some("usr/bin"));
        assert_eq!(seen["rootfs/usr/bin/tool"].1, 0o755);
        assert_eq!(seen["rootfs/usr/bin/tool"].2, 0);
        assert_eq!(seen[&long].3, b"print(1)\n");
    }
}
