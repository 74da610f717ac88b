//! Prewarmed stem cells: launchers already started (interpreter booted, launcher loaded) and
//! waiting for their init, kept per kind and memory size and refilled in the background.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::kind::RuntimeKind;
use crate::process::config::StemCellConfig;
use crate::process::container::LauncherProcess;
use crate::process::starter::LauncherStarter;

type Key = (RuntimeKind, u32);

/// The reserve of stem cells.
pub(crate) struct StemCells {
    wanted: HashMap<Key, usize>,
    cells: Mutex<HashMap<Key, Vec<LauncherProcess>>>,
    /// Held while refilling, so that a caller of `refill` waits for a refill in progress.
    filling: tokio::sync::Mutex<()>,
}

impl StemCells {
    pub fn new(config: &[StemCellConfig]) -> Self {
        let mut wanted = HashMap::new();
        for cell in config {
            *wanted.entry((cell.kind, cell.memory_mb)).or_insert(0) += cell.count;
        }
        StemCells {
            wanted,
            cells: Mutex::new(HashMap::new()),
            filling: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Vec<LauncherProcess>>> {
        // A poisoned lock only means a panic elsewhere mid-update; the reserve is still usable.
        self.cells
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A live stem cell of this kind and size, if one is waiting.
    pub fn take(&self, kind: RuntimeKind, memory_mb: u32) -> Option<LauncherProcess> {
        let mut reserve = self.lock();
        let cells = reserve.get_mut(&(kind, memory_mb))?;
        while let Some(cell) = cells.pop() {
            if !cell.conn.is_closed() {
                return Some(cell);
            }
            tracing::warn!(container = %cell.id, "a stem cell died while waiting; dropping it");
        }
        None
    }

    /// How many stem cells are waiting for this kind and size.
    pub fn available(&self, kind: RuntimeKind, memory_mb: u32) -> usize {
        self.lock().get(&(kind, memory_mb)).map_or(0, Vec::len)
    }

    /// Starts launchers until every configured kind and size has its count; waits for a
    /// refill already in progress first.
    pub async fn refill(self: Arc<Self>, starter: Arc<LauncherStarter>) {
        let _filling = self.filling.lock().await;
        let mut keys: Vec<(Key, usize)> = self.wanted.iter().map(|(k, n)| (*k, *n)).collect();
        keys.sort();
        for (key, count) in keys {
            self.fill_one_key(key, count, &starter).await;
        }
    }

    async fn fill_one_key(&self, key: Key, count: usize, starter: &LauncherStarter) {
        let (kind, memory_mb) = key;
        loop {
            let have = {
                let mut reserve = self.lock();
                let cells = reserve.entry(key).or_default();
                cells.retain(|cell| !cell.conn.is_closed());
                cells.len()
            };
            if have >= count {
                return;
            }
            match starter.start(kind, memory_mb, &Default::default()).await {
                Ok(cell) => {
                    tracing::debug!(container = %cell.id, kind = %kind, memory_mb, "stem cell ready");
                    self.lock().entry(key).or_default().push(cell);
                }
                Err(err) => {
                    tracing::warn!(kind = %kind, memory_mb, error = %err, "cannot start a stem cell");
                    return;
                }
            }
        }
    }
}
